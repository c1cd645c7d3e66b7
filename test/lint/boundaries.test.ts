import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../local/runtime.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

/** Type-aware rules need a real file in the project, so the fixture exists only while it is linted. */
async function problemsIn(folder: string, code: string): Promise<string[]> {
  const file = path.join(REPO_ROOT, folder, `__lint_fixture_${process.pid}_${Math.random().toString(36).slice(2)}.ts`);
  await writeFile(file, code);
  try {
    const [result] = await eslint.lintFiles([file]);
    return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
  } finally {
    await rm(file, { force: true });
  }
}

describe('lint keeps the layers apart', () => {
  // the first lint builds the type-aware program of the whole project, over a minute on a busy two-core machine:
  // once, in a hook allowed that long, so no case carries it against the test time limit
  beforeAll(async () => {
    await problemsIn('functions/core', 'export {};\n');
  }, 300_000);

  it.each([
    ["import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const c = DynamoDBClient;\n", 'no AWS or Lambda imports'],
    ["import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n", 'does no I/O'],
    ["import { spawn } from 'child_process';\nexport const s = spawn;\n", 'does no I/O'],
    ["import { DynamoTable } from '../adapters/dynamodb-table.js';\nexport const t = DynamoTable;\n", 'Dependencies point inward'],
    ['export const now = Date.now();\n', 'injected Clock'],
    ['export const now = new Date();\n', 'injected Clock'],
    ['export const id = Math.random();\n', 'injected IdGenerator'],
    ['export const table = process.env.TABLE_NAME;\n', 'reads no environment'],
  ])('rejects in functions/core: %s', async (code, message) => {
    const problems = await problemsIn('functions/core', code);
    expect(problems.join('\n')).toContain(message);
  });

  it('accepts the same imports in an adapter', async () => {
    const problems = await problemsIn(
      'functions/adapters',
      "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n",
    );
    expect(problems).toEqual([]);
  });

  it('rejects a floating promise anywhere', async () => {
    const problems = await problemsIn('local', 'async function f(): Promise<void> {}\nf();\nexport {};\n');
    expect(problems.join('\n')).toContain('@typescript-eslint/no-floating-promises');
  });
});
