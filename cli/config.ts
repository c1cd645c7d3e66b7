import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UsageError } from './errors.js';

/** The environment the CLI reads: `process.env` in the binary, a plain object in tests. */
export type CliEnv = Readonly<Record<string, string | undefined>>;

/** Where `npm start` serves the API when nothing else is configured (its NIGHTSHIFT_PORT default). */
export const LOCAL_API_URL = 'http://127.0.0.1:8787';

/** The data folder `npm start` uses: NIGHTSHIFT_DATA_DIR, else `.nightshift/` at the repository's root. */
const localDataDir = (env: CliEnv): string => env.NIGHTSHIFT_DATA_DIR ?? fileURLToPath(new URL('../.nightshift', import.meta.url));

/** The Admin dev token `npm start` keeps for the local API (mode 0600), if it is running from this checkout. */
async function localDevToken(env: CliEnv): Promise<string | undefined> {
  try {
    const token = (await readFile(join(localDataDir(env), 'api', 'dev-token'), 'utf8')).trim();
    return tokenSchema.safeParse(token).success ? token : undefined;
  } catch {
    return undefined;
  }
}

const apiUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
// A bearer token travels in a header: anything with whitespace or control characters is a paste mistake
const tokenSchema = z.string().regex(/^[\x21-\x7e]+$/, 'must be one line without spaces (paste the token exactly)');

const storedConfigSchema = z.object({ apiUrl: apiUrlSchema.optional(), token: tokenSchema.optional() });
export type StoredConfig = z.infer<typeof storedConfigSchema>;

/** `$XDG_CONFIG_HOME/nightshift/config.json`, `~/.config/nightshift/config.json` without it. */
export function configPath(env: CliEnv): string {
  const base = env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config');
  return join(base, 'nightshift', 'config.json');
}

export async function readConfig(env: CliEnv): Promise<StoredConfig> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON; run \`nightshift login\` to write it again`);
  }
  const config = storedConfigSchema.safeParse(parsed);
  if (!config.success) throw new UsageError(`${path}: ${describeProblem(config.error)}; run \`nightshift login\` to write it again`);
  return config.data;
}

/**
 * Writes the whole file through a temporary one created with mode 0600 and
 * renamed over it: the token is never readable by others, not even for the
 * moment between a write and a chmod, and a crash leaves the old file whole.
 */
export async function writeConfig(env: CliEnv, config: StoredConfig): Promise<string> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${String(process.pid)}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // the umask may have taken bits off; 0600 exactly, whatever it is
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return path;
}

/** Checks what `login` is given, naming the flag at fault. */
export function parseLogin(input: { url: string; token: string }): Required<StoredConfig> {
  const url = apiUrlSchema.safeParse(input.url);
  if (!url.success) throw new UsageError(`--url ${describeProblem(url.error)}`);
  const token = tokenSchema.safeParse(input.token.trim());
  if (!token.success) throw new UsageError(`--token ${describeProblem(token.error)}`);
  return { apiUrl: url.data.replace(/\/+$/, ''), token: token.data };
}

export interface Connection {
  readonly apiUrl: string;
  readonly token?: string;
}

/**
 * Where to send requests and with which token. The flag beats the
 * environment (`NIGHTSHIFT_API_URL`, `NIGHTSHIFT_TOKEN`), which beats the
 * file `login` wrote, which beats the local API `npm start` serves (with the
 * dev token it leaves in its data folder).
 */
export async function resolveConnection(env: CliEnv, flags: { apiUrl?: string }): Promise<Connection> {
  const stored = await readConfig(env);
  const rawUrl = flags.apiUrl ?? nonEmpty(env.NIGHTSHIFT_API_URL) ?? stored.apiUrl ?? LOCAL_API_URL;
  const url = apiUrlSchema.safeParse(rawUrl);
  if (!url.success) {
    const source = flags.apiUrl !== undefined ? '--api-url' : nonEmpty(env.NIGHTSHIFT_API_URL) !== undefined ? 'NIGHTSHIFT_API_URL' : 'apiUrl';
    throw new UsageError(`${source} ${describeProblem(url.error)}`);
  }
  const apiUrl = url.data.replace(/\/+$/, '');
  const token = nonEmpty(env.NIGHTSHIFT_TOKEN)?.trim() ?? stored.token ?? (apiUrl === LOCAL_API_URL ? await localDevToken(env) : undefined);
  return { apiUrl, ...(token === undefined ? {} : { token }) };
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

const describeProblem = (error: z.ZodError): string => error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')} ` : ''}${issue.message}`).join('; ');
