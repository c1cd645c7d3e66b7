/**
 * Bundles `crash-runner.ts` with everything it runs (handlers included) into
 * one ES module, so each of the crash test's many runtime lives starts in
 * about a second instead of the three or four that compiling a few hundred
 * TypeScript files through tsx takes on two cores.
 *
 * Two seams keep the bundle the same program as the sources:
 *   - `import.meta.url` is the real `local/runtime.ts`, so the runtime finds
 *     the repository (the ASL file, the handler paths) where it is;
 *   - the runtime loads handlers by path (`functions/handlers/*.ts`, as the
 *     registry lists them); a module loader hook answers those paths with the
 *     handler modules already in the bundle, so handlers and runtime share
 *     one copy of the core (one `ConflictError` class, one of everything).
 * Packages stay external: the bundle sits under node_modules/.cache, where
 * Node finds them.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { HANDLERS } from '../../functions/handlers/registry.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLED = 'nightshift.bundledHandlers';

/** Runs in the loader thread: the handler paths answer with a module re-exporting the bundled one. */
const hooks = (urls: readonly string[]) => `
const bundled = new Set(${JSON.stringify(urls)});
export async function load(url, context, nextLoad) {
  if (!bundled.has(url)) return nextLoad(url, context);
  const source = 'const m = globalThis[Symbol.for(' + JSON.stringify(${JSON.stringify(BUNDLED)}) + ')].get(' + JSON.stringify(url) + '); export const createHandler = m.createHandler;';
  return { format: 'module', source, shortCircuit: true };
}
`;

export async function buildCrashRunner(): Promise<{ file: string; remove: () => Promise<void> }> {
  const cache = path.join(REPO, 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(path.join(cache, 'nightshift-crash-runner-'));
  const urls = HANDLERS.map((entry) => pathToFileURL(path.join(REPO, entry.entry)).href);
  const contents = [
    "import { register } from 'node:module';",
    ...HANDLERS.map((entry, i) => `import * as handler${i} from ${JSON.stringify(path.join(REPO, entry.entry))};`),
    `import { main } from ${JSON.stringify(path.join(REPO, 'test', 'support', 'crash-runner.ts'))};`,
    `globalThis[Symbol.for(${JSON.stringify(BUNDLED)})] = new Map([${urls.map((url, i) => `[${JSON.stringify(url)}, handler${i}]`).join(', ')}]);`,
    `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks(urls))}`)});`,
    'await main();',
  ].join('\n');
  const file = path.join(dir, 'crash-runner.mjs');
  await build({
    stdin: { contents, resolveDir: REPO, sourcefile: 'crash-runner-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: file,
    logLevel: 'warning',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(path.join(REPO, 'local', 'runtime.ts')).href) },
  });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
