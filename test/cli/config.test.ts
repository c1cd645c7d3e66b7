import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configPath, LOCAL_API_URL, parseLogin, readConfig, resolveConnection, writeConfig } from '../../cli/config.js';
import { UsageError } from '../../cli/errors.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'nightshift-cli-config-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('configPath', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/nightshift/config.json');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/nightshift/config.json');
  });
});

describe('writeConfig', () => {
  it('writes the file with mode 0600 in a 0700 folder, whatever the umask', async () => {
    const env = { XDG_CONFIG_HOME: home };
    const previous = process.umask(0o000);
    try {
      await writeConfig(env, { apiUrl: 'https://api.example.com', token: 'a.b.c' });
    } finally {
      process.umask(previous);
    }
    expect((await stat(configPath(env))).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'nightshift'))).mode & 0o777).toBe(0o700);
    expect(await readConfig(env)).toEqual({ apiUrl: 'https://api.example.com', token: 'a.b.c' });
  });

  it('tightens a file that was readable by others when it writes it again', async () => {
    const env = { XDG_CONFIG_HOME: home };
    await mkdir(join(home, 'nightshift'));
    await writeFile(configPath(env), '{}', { mode: 0o644 });
    await writeConfig(env, { token: 't' });
    expect((await stat(configPath(env))).mode & 0o777).toBe(0o600);
  });
});

describe('readConfig', () => {
  it('reads nothing configured as an empty configuration', async () => {
    expect(await readConfig({ XDG_CONFIG_HOME: home })).toEqual({});
  });

  it('refuses a file that is not JSON as a usage mistake naming the file', async () => {
    const env = { XDG_CONFIG_HOME: home };
    await mkdir(join(home, 'nightshift'));
    await writeFile(configPath(env), 'not json');
    await expect(readConfig(env)).rejects.toThrow(UsageError);
    await expect(readConfig(env)).rejects.toThrow(configPath(env));
  });

  it('refuses a stored URL that is not http(s), naming the key', async () => {
    const env = { XDG_CONFIG_HOME: home };
    await mkdir(join(home, 'nightshift'));
    await writeFile(configPath(env), JSON.stringify({ apiUrl: 'ftp://x' }));
    await expect(readConfig(env)).rejects.toThrow(/apiUrl must be an http/);
  });
});

describe('parseLogin', () => {
  it('keeps the URL without trailing slashes and the token without surrounding whitespace', () => {
    expect(parseLogin({ url: 'https://api.example.com/', token: ' a.b.c\n' })).toEqual({ apiUrl: 'https://api.example.com', token: 'a.b.c' });
  });

  it('names the flag at fault', () => {
    expect(() => parseLogin({ url: 'api.example.com', token: 'a' })).toThrow(/^--url must be an http/);
    expect(() => parseLogin({ url: 'https://api.example.com', token: 'two words' })).toThrow(/^--token must be one line/);
    expect(() => parseLogin({ url: 'https://api.example.com', token: '' })).toThrow(/^--token/);
  });
});

describe('resolveConnection', () => {
  it('falls back to the local API and no token when nothing is configured', async () => {
    expect(await resolveConnection({ XDG_CONFIG_HOME: home, NIGHTSHIFT_DATA_DIR: home }, {})).toEqual({ apiUrl: LOCAL_API_URL });
  });

  it("uses the dev token `npm start` leaves in its data folder for the local API, and for no other", async () => {
    await mkdir(join(home, 'api'));
    await writeFile(join(home, 'api', 'dev-token'), 'local.dev.token\n');
    const env = { XDG_CONFIG_HOME: home, NIGHTSHIFT_DATA_DIR: home };
    expect(await resolveConnection(env, {})).toEqual({ apiUrl: LOCAL_API_URL, token: 'local.dev.token' });
    expect(await resolveConnection(env, { apiUrl: 'https://api.example.com' })).toEqual({ apiUrl: 'https://api.example.com' });
    expect(await resolveConnection({ ...env, NIGHTSHIFT_TOKEN: 'mine' }, {})).toEqual({ apiUrl: LOCAL_API_URL, token: 'mine' });
  });

  it('takes the file, then the environment over it, then --api-url over both', async () => {
    const env = { XDG_CONFIG_HOME: home };
    await writeConfig(env, { apiUrl: 'https://file.example.com', token: 'file-token' });
    expect(await resolveConnection(env, {})).toEqual({ apiUrl: 'https://file.example.com', token: 'file-token' });
    const overridden = { ...env, NIGHTSHIFT_API_URL: 'https://env.example.com/', NIGHTSHIFT_TOKEN: 'env-token' };
    expect(await resolveConnection(overridden, {})).toEqual({ apiUrl: 'https://env.example.com', token: 'env-token' });
    expect(await resolveConnection(overridden, { apiUrl: 'http://flag.example.com' })).toEqual({ apiUrl: 'http://flag.example.com', token: 'env-token' });
  });

  it('ignores empty environment variables, as a script that blanks them means "not set"', async () => {
    const env = { XDG_CONFIG_HOME: home };
    await writeConfig(env, { apiUrl: 'https://file.example.com', token: 'file-token' });
    expect(await resolveConnection({ ...env, NIGHTSHIFT_API_URL: '', NIGHTSHIFT_TOKEN: ' ' }, {})).toEqual({ apiUrl: 'https://file.example.com', token: 'file-token' });
  });

  it('names the source of a bad URL', async () => {
    await expect(resolveConnection({ XDG_CONFIG_HOME: home, NIGHTSHIFT_API_URL: 'nope' }, {})).rejects.toThrow(/^NIGHTSHIFT_API_URL must be/);
    await expect(resolveConnection({ XDG_CONFIG_HOME: home }, { apiUrl: 'nope' })).rejects.toThrow(/^--api-url must be/);
  });
});

