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
export default defineConfig({
  test: {
    include: ['test/core/**/*.test.ts', 'test/use-cases/**/*.test.ts'],
    exclude: ['test/core/powershell-scripts.test.ts', 'test/use-cases/reconcile-worklist.test.ts', 'test/use-cases/prepare-session.test.ts', 'test/use-cases/schedules.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
