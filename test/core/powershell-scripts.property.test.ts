import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DetectionEntry } from '../../functions/core/scripts/contract.js';
import { buildPowerShellActionScript, buildPowerShellDetectionScript } from '../../functions/core/scripts/powershell.js';
import { loadPowerShellGrammar, powerShellProblems } from '../support/powershell-grammar.js';

/*
 * The property tests of the PowerShell generator: whatever the keys, scripts,
 * labels and values, the generated code is the same and parses. They parse a
 * hundred scripts each, which is why they live apart from
 * powershell-scripts.test.ts (the mutation test set leaves this file out).
 * There is no PowerShell on the build machine, so the scripts are read with a
 * real PowerShell grammar (tree-sitter-powershell, run as WebAssembly).
 */

beforeAll(loadPowerShellGrammar);

/** Every problem PowerShell would refuse the script for, where it is; checked on every generated script. */
const problems = powerShellProblems;

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
