import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker reruns for each mutant (`npm run test:mutation`): the unit
 * tests of the core and its use cases, without the slow ones (a 1,000-command
 * worklist, the PowerShell property run, the 400-item prepare, the schedules'
 * thousand-delivery fire), which would
 * cost minutes per mutant and test the core no better. Stryker's own
 * `testFiles` option is not used for this: with it, Stryker 9 activates
 * mutants of module-level values too late and reports them all as survived.
 */
/**
 * `NIGHTSHIFT_MUTATION_TESTS` (comma-separated globs) narrows the set for a
 * file whose mutants are mostly module-level values (the catalog's schemas,
 * the error table): Stryker cannot tell which tests cover such a mutant and
 * reruns the whole set for each one, hours for those files. Name the tests
 * that exercise the file; a narrower set can only lower its score.
 */
const narrowed = (process.env.NIGHTSHIFT_MUTATION_TESTS ?? '')
  .split(',')
  .map((glob) => glob.trim())
  .filter((glob) => glob !== '');

export default defineConfig({
  test: {
    include: narrowed.length > 0 ? narrowed : ['test/core/**/*.test.ts', 'test/use-cases/**/*.test.ts'],
    exclude: ['test/core/powershell-scripts.property.test.ts', 'test/use-cases/reconcile-worklist.test.ts', 'test/use-cases/prepare-session.test.ts', 'test/use-cases/schedules.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
