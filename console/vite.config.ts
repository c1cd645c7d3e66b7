import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const CONSOLE_DIR = path.dirname(fileURLToPath(import.meta.url));

/**
 * The operator console as a static bundle (console/dist): served next to the
 * API by the local server, and from S3 behind CloudFront in AWS. Vite's own
 * Oxc transform compiles the TSX (React's automatic runtime); the bundle has
 * no dev server, so no Fast Refresh plugin.
 */
export default defineConfig({
  root: CONSOLE_DIR,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: path.join(CONSOLE_DIR, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // a console page loads the app once; splitting it would only add round trips
    chunkSizeWarningLimit: 1_024,
    reportCompressedSize: false,
    rolldownOptions: {
      onwarn(warning, warn) {
        // React Server Components' "use client" markers mean nothing in a browser-only bundle
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
