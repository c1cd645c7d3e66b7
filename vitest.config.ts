import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // a browser test polls a page that two busy cores redraw late: polls wait for the state, not for a second
    expect: { poll: { timeout: 15_000, interval: 50 } },
    // end-to-end files each boot a runtime with its own dynalite and bash processes; two cores, two at a time
    maxWorkers: 2,
    // Lambda runs Node 22; on this Node 20 test bed the SDK's end-of-support notice is noise
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
