import { createRequire } from 'node:module';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Language, Parser } from 'web-tree-sitter';
import type { Node, Tree } from 'web-tree-sitter';
import type { DetectionEntry } from '../../functions/core/scripts/contract.js';
import { buildPowerShellActionScript, buildPowerShellDetectionScript } from '../../functions/core/scripts/powershell.js';

/*
 * The property tests of the PowerShell generator: whatever the keys, scripts,
 * labels and values, the generated code is the same and parses. They parse a
 * hundred scripts each, which is why they live apart from
 * powershell-scripts.test.ts (the mutation test set leaves this file out).
 * There is no PowerShell on the build machine, so the scripts are read with a
 * real PowerShell grammar (tree-sitter-powershell, run as WebAssembly).
 */

let parser: Parser;

beforeAll(async () => {
  await Parser.init();
  const require = createRequire(import.meta.url);
  const powershell = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  parser = new Parser();
  parser.setLanguage(powershell);
});

function parse(script: string): Tree {
  const tree = parser.parse(script);
  if (!tree) throw new Error('the parser returned no tree');
  return tree;
}

function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of node.children) yield* walk(child);
}

/** Every ERROR or MISSING node, with where it is, so a failure says what broke. */
function problems(script: string): string[] {
  const root = parse(script).rootNode;
  // hasError covers ERROR and MISSING nodes below; walking a clean tree node by node is what makes the property tests slow
  if (!root.hasError) return [];
  return [...walk(root)]
    .filter((node) => node.type === 'ERROR' || node.isMissing)
    .map((node) => `${node.isMissing ? 'MISSING' : 'ERROR'} at ${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${JSON.stringify(node.text.slice(0, 80))}`);
}

/** The script with every base64 literal emptied: what is left is the code, which must not depend on the values. */
const shape = (script: string): string => script.replace(/'[A-Za-z0-9+/=]*'/g, "''");

const entry = (key: string, script: string, extra: Partial<DetectionEntry> = {}): DetectionEntry => ({
  key,
  script,
  environment: {},
  timeoutSeconds: 30,
  ...extra,
});

describe('the batched PowerShell detection script', () => {
  it('has the same code whatever the values are (property)', () => {
    const baseline = shape(buildPowerShellDetectionScript([entry('k', 's', { testScript: 't', environment: { A: 'v' } })], 'n_3'));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (key, main, test, value) => {
        const script = buildPowerShellDetectionScript([entry(key, main, { testScript: test, environment: { A: value } })], 'n_3');
        expect(shape(script)).toBe(baseline);
        expect(problems(script)).toEqual([]);
      }),
    );
  });
});

describe('the PowerShell action script', () => {
  it('has the same code whatever the values are (property)', () => {
    const baseline = shape(buildPowerShellActionScript({ description: 'd', steps: [{ label: 'l', script: 's' }], environment: { A: 'v' } }, 'n_8'));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (description, label, step, value) => {
        const script = buildPowerShellActionScript({ description, steps: [{ label, script: step }], environment: { A: value } }, 'n_8');
        expect(problems(script)).toEqual([]);
        // the description and label reach the text reduced to safe characters; everything else is base64
        const normalised = shape(script)
          .replace(/^# Nightshift action: .*$/m, '# Nightshift action: d. Generated.')
          .replace(/__nsStep 1 1 '[^'\n]*'/, "__nsStep 1 1 ''");
        expect(normalised).toBe(baseline.replace(/__nsStep 1 1 '[^'\n]*'/, "__nsStep 1 1 ''"));
      }),
    );
  });
});
