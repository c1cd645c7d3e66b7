import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { linkKeyRingSchema, newLinkKeyRing, type LinkKeyRing } from '../functions/adapters/link-tokens.hmac.js';
import { isSystemError } from './system-errors.js';

/** Owner read and write only: the file holds the signing keys. */
const PRIVATE_FILE_MODE = 0o600;

/** Where the local key ring lives in the runtime's data folder. */
export const localKeyRingFile = (dataDir: string): string => path.join(dataDir, 'link-keys.json');

/**
 * The local twin of the Secrets Manager key ring: `<dataDir>/link-keys.json`
 * (mode 0600), created with one fresh key on first use and kept, so links
 * mailed before a restart still verify after it. Rotate by editing the file
 * with `rotateLinkKeyRing`'s result; a restart (or the token cache's expiry)
 * picks it up.
 */
export function localKeyRing(dataDir: string): () => Promise<LinkKeyRing> {
  const file = localKeyRingFile(dataDir);
  let creating: Promise<void> | undefined;

  const createOnce = (): Promise<void> =>
    (creating ??= (async () => {
      await mkdir(dataDir, { recursive: true });
      try {
        // 'wx': a ring another process wrote first is kept, never replaced
        await writeFile(file, `${JSON.stringify(newLinkKeyRing(randomBytes, 'k1'), null, 2)}\n`, { flag: 'wx', mode: PRIVATE_FILE_MODE });
      } catch (error) {
        if (!isSystemError(error, 'EEXIST')) throw error;
      }
    })().finally(() => {
      creating = undefined;
    }));

  return async () => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (!isSystemError(error, 'ENOENT')) throw error;
      await createOnce();
      text = await readFile(file, 'utf8');
    }
    // a file copied in with looser permissions is made private again
    await chmod(file, PRIVATE_FILE_MODE);
    const notARing = (problem: string) => new Error(`${file} is not a link key ring (${problem}); delete it to start with a new key`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw notARing('not JSON');
    }
    const parsed = linkKeyRingSchema.safeParse(json);
    if (!parsed.success) throw notARing(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`).join('; '));
    return parsed.data;
  };
}
