import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeApiTypes } from '../../console/scripts/openapi.js';
import { REPO_ROOT } from '../../local/runtime.js';

/**
 * The console's API client is typed from the API's OpenAPI document. The
 * types are committed (console/src/api/schema.d.ts); this regenerates them
 * from the routes as they are now and fails when the two differ, so a route
 * change cannot leave the console compiling against an API that is gone.
 */

const COMMITTED = path.join(REPO_ROOT, 'console', 'src', 'api', 'schema.d.ts');

/** The first line where two texts part, for a failure message a person can act on. */
function firstDifference(a: string, b: string): string {
  const left = a.split('\n');
  const right = b.split('\n');
  const line = left.findIndex((text, index) => text !== right[index]);
  const at = line === -1 ? left.length : line;
  return `line ${at + 1}: committed ${JSON.stringify(right[at] ?? '(end)')}, generated ${JSON.stringify(left[at] ?? '(end)')}`;
}

describe("the console's API types", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('match the document the API generates now (else: npm run console:types, and look at what changed)', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nightshift-console-types-'));
    const files = await writeApiTypes(dir);
    const generated = await readFile(files.types, 'utf8');
    const committed = await readFile(COMMITTED, 'utf8');
    expect(generated === committed, `console/src/api/schema.d.ts is stale at ${firstDifference(generated, committed)}`).toBe(true);
    // the document written beside it is the one the server answers at /openapi.json
    const document = JSON.parse(await readFile(files.document, 'utf8')) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/me', '/v1/sessions', '/v1/sessions/{sessionId}', '/v1/sessions/{sessionId}/log', '/v1/sessions/{sessionId}/cancel']));
  });
});
