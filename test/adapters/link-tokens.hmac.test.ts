import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KEY_RING_CACHE_MS,
  KEY_RING_REFRESH_ON_MISS_MS,
  createHmacLinkTokens,
  linkKeyRingSchema,
  newLinkKeyRing,
  rotateLinkKeyRing,
  secretsManagerKeyRing,
  type LinkKeyRing,
} from '../../functions/adapters/link-tokens.hmac.js';
import { ConfigurationError, TransientError, ValidationError } from '../../functions/core/errors.js';
import { MAX_LINK_TOKEN_LENGTH, type LinkClaims } from '../../functions/core/notifications/links.js';
import type { LinkTokens } from '../../functions/core/ports/link-tokens.port.js';
import { localKeyRing, localKeyRingFile } from '../../local/link-keys.local.js';

/** Distinct, repeatable key material: the n-th call fills its bytes with n. */
const countingBytes = (): ((n: number) => Buffer) => {
  let calls = 0;
  return (n) => Buffer.alloc(n, (calls += 1));
};

const claims: Omit<LinkClaims, 'keyId'> = { sessionId: 'ses_01', purpose: 'Postpone', expiresAt: '2030-01-01T00:00:00.000Z', tokenId: 'tok_0000001' };

/** A clock the test moves, and a ring the test swaps, counting every fetch. */
function harness(initial: LinkKeyRing) {
  const state = { ring: initial, nowMs: 1_000_000, fetches: 0, failNext: false };
  const tokens = createHmacLinkTokens(
    () => {
      state.fetches += 1;
      if (state.failNext) {
        state.failNext = false;
        return Promise.reject(new TransientError('secrets manager throttled'));
      }
      return Promise.resolve(state.ring);
    },
    () => state.nowMs,
  );
  return { state, tokens };
}

/** Signs any payload text with a ring key, as a forger holding that key could. */
const signWith = (ring: LinkKeyRing, keyId: string, payload: unknown): string => {
  const payloadPart = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const secret = Buffer.from(ring.keys[keyId] ?? '', 'base64');
  return `${payloadPart}.${createHmac('sha256', secret).update(payloadPart).digest('base64url')}`;
};

const [payloadOf, signatureOf] = [(token: string) => token.split('.')[0] ?? '', (token: string) => token.split('.')[1] ?? ''];
const reencode = (token: string, change: (claims: Record<string, unknown>) => Record<string, unknown>): string => {
  const decoded = JSON.parse(Buffer.from(payloadOf(token), 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${Buffer.from(JSON.stringify(change(decoded))).toString('base64url')}.${signatureOf(token)}`;
};
/** Another base64url character than the one at `index`. */
const flipAt = (text: string, index: number): string => `${text.slice(0, index)}${text[index] === 'A' ? 'B' : 'A'}${text.slice(index + 1)}`;

describe('HMAC link tokens', () => {
  const ring = newLinkKeyRing(countingBytes(), 'k1');
  let tokens: LinkTokens;
  beforeEach(() => {
    tokens = harness(ring).tokens;
  });

  it('verifies what it issued and gives back the claims, with the key id that signed them', async () => {
    const token = await tokens.issue(claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(token.length).toBeLessThanOrEqual(MAX_LINK_TOKEN_LENGTH);
    expect(await tokens.check(token)).toEqual({ valid: true, claims: { ...claims, keyId: 'k1' } });
  });

  it('refuses to issue claims no link page would accept, naming the field', async () => {
    await expect(tokens.issue({ ...claims, tokenId: 'short' })).rejects.toThrow(ValidationError);
    await expect(tokens.issue({ ...claims, tokenId: 'short' })).rejects.toThrow(/tokenId/);
  });

  it('answers Forged for a token whose claims or signature were changed, and never valid for any one-character change', async () => {
    const token = await tokens.issue(claims);
    const other = await tokens.issue({ ...claims, sessionId: 'ses_02', tokenId: 'tok_0000002' });
    // another session, purpose or expiry under the original signature
    expect(await tokens.check(reencode(token, (c) => ({ ...c, sessionId: 'ses_02' })))).toEqual({ valid: false, reason: 'Forged' });
    expect(await tokens.check(reencode(token, (c) => ({ ...c, purpose: 'Cancel' })))).toEqual({ valid: false, reason: 'Forged' });
    expect(await tokens.check(reencode(token, (c) => ({ ...c, expiresAt: '2099-01-01T00:00:00.000Z' })))).toEqual({ valid: false, reason: 'Forged' });
    // every character of the signature, including the last one whose low bits base64 does not use
    for (let index = 0; index < signatureOf(token).length; index += 1) {
      expect(await tokens.check(`${payloadOf(token)}.${flipAt(signatureOf(token), index)}`)).toEqual({ valid: false, reason: 'Forged' });
    }
    // truncated, extended, payloads swapped between two genuine tokens
    expect(await tokens.check(token.slice(0, -1))).toEqual({ valid: false, reason: 'Forged' });
    expect(await tokens.check(`${token}A`)).toEqual({ valid: false, reason: 'Forged' });
    expect(await tokens.check(`${payloadOf(token)}.${signatureOf(other)}`)).toEqual({ valid: false, reason: 'Forged' });
    expect(await tokens.check(`${payloadOf(other)}.${signatureOf(token)}`)).toEqual({ valid: false, reason: 'Forged' });

    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom('A', 'Z', 'a', 'z', '0', '9', '-', '_', '.', '=', '+', '/', ' ', 'é'), async (index, character) => {
        fc.pre(token[index] !== character);
        const mutated = `${token.slice(0, index)}${character}${token.slice(index + 1)}`;
        const answer = await tokens.check(mutated);
        expect(answer.valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('answers Forged for a token signed with another key under the same id, or under another key id of the ring', async () => {
    const stranger = newLinkKeyRing(() => randomBytes(32), 'k1');
    expect(await tokens.check(signWith(stranger, 'k1', { ...claims, keyId: 'k1' }))).toEqual({ valid: false, reason: 'Forged' });

    const rotated = rotateLinkKeyRing(ring, 'k2', countingBytes());
    const both = harness(rotated).tokens;
    const token = await both.issue(claims);
    // k2 signed it; saying k1 does not make k1's signature
    expect(await both.check(reencode(token, (c) => ({ ...c, keyId: 'k1' })))).toEqual({ valid: false, reason: 'Forged' });
    // a key id the ring never had
    expect(await both.check(reencode(token, (c) => ({ ...c, keyId: 'k9' })))).toEqual({ valid: false, reason: 'Revoked' });
    // names that exist on every object are not keys
    expect(await both.check(reencode(token, (c) => ({ ...c, keyId: '__proto__' })))).toEqual({ valid: false, reason: 'Revoked' });
    expect(await both.check(reencode(token, (c) => ({ ...c, keyId: 'constructor' })))).toEqual({ valid: false, reason: 'Revoked' });
  });

  it('answers Malformed for what is not a token of ours, even when correctly signed', async () => {
    const token = await tokens.issue(claims);
    const answers = await Promise.all(
      [
        '',
        'x'.repeat(10 * 1024),
        `${token}${'A'.repeat(MAX_LINK_TOKEN_LENGTH)}`,
        '!!!.???',
        payloadOf(token),
        `${token}.x`,
        `.${signatureOf(token)}`,
        `${payloadOf(token)}.`,
        `${payloadOf(token)}=.${signatureOf(token)}`,
        // signed with the ring's own key, but not claims: an extra field, a missing one, not JSON at all
        signWith(ring, 'k1', { ...claims, keyId: 'k1', admin: true }),
        signWith(ring, 'k1', { sessionId: 'ses_01', keyId: 'k1' }),
        signWith(ring, 'k1', { ...claims, keyId: 'k1', purpose: 'Delete' }),
        `${Buffer.from('not json').toString('base64url')}.${signatureOf(token)}`,
      ].map((candidate) => tokens.check(candidate)),
    );
    expect(answers).toEqual(answers.map(() => ({ valid: false, reason: 'Malformed' })));
  });
});

describe('key rotation and the ring cache', () => {
  it('keeps verifying links signed by an old key until it is retired, then answers Revoked', async () => {
    const bytes = countingBytes();
    const { state, tokens } = harness(newLinkKeyRing(bytes, 'k1'));
    const oldToken = await tokens.issue(claims);

    state.ring = rotateLinkKeyRing(state.ring, 'k2', bytes);
    state.nowMs += KEY_RING_CACHE_MS;
    const newToken = await tokens.issue(claims);
    expect(await tokens.check(newToken)).toMatchObject({ valid: true, claims: { keyId: 'k2' } });
    expect(await tokens.check(oldToken)).toMatchObject({ valid: true, claims: { keyId: 'k1' } });

    state.ring = rotateLinkKeyRing(state.ring, 'k3', bytes, { retire: ['k1'] });
    expect(Object.keys(state.ring.keys).sort()).toEqual(['k2', 'k3']);
    // within the cache period the ring in hand still has k1
    expect((await tokens.check(oldToken)).valid).toBe(true);
    state.nowMs += KEY_RING_CACHE_MS;
    expect(await tokens.check(oldToken)).toEqual({ valid: false, reason: 'Revoked' });
    expect((await tokens.check(newToken)).valid).toBe(true);
  });

  it('asks for the ring once per cache period, again after it, and again after a failed fetch', async () => {
    const { state, tokens } = harness(newLinkKeyRing(countingBytes(), 'k1'));
    const token = await tokens.issue(claims);
    await Promise.all([tokens.check(token), tokens.check(token), tokens.issue(claims)]);
    state.nowMs += KEY_RING_CACHE_MS - 1;
    await tokens.check(token);
    expect(state.fetches).toBe(1);
    state.nowMs += 1;
    await Promise.all([tokens.check(token), tokens.check(token)]);
    expect(state.fetches).toBe(2);

    state.nowMs += KEY_RING_CACHE_MS;
    state.failNext = true;
    await expect(tokens.check(token)).rejects.toThrow(TransientError);
    expect(await tokens.check(token)).toMatchObject({ valid: true });
    expect(state.fetches).toBe(4);
  });

  it('fetches the ring again for a key it does not know (one added elsewhere since), but not more often than the refresh interval', async () => {
    const bytes = countingBytes();
    const { state, tokens } = harness(newLinkKeyRing(bytes, 'k1'));
    await tokens.issue(claims);
    const rotated = rotateLinkKeyRing(state.ring, 'k2', bytes);
    const fromNewerInstance = await harness(rotated).tokens.issue(claims);
    state.ring = rotated;

    expect(await tokens.check(fromNewerInstance)).toEqual({ valid: false, reason: 'Revoked' });
    expect(state.fetches).toBe(1);
    state.nowMs += KEY_RING_REFRESH_ON_MISS_MS;
    expect(await tokens.check(fromNewerInstance)).toMatchObject({ valid: true, claims: { keyId: 'k2' } });
    expect(state.fetches).toBe(2);
    // made-up key ids inside the interval cost nothing
    state.nowMs += KEY_RING_REFRESH_ON_MISS_MS - 1;
    await tokens.check(signWith(rotated, 'k2', { ...claims, keyId: 'k7' }));
    expect(state.fetches).toBe(2);
  });

  it('refuses a rotation to an id in use, a retirement of the new key or of a key the ring lacks', () => {
    const ring = newLinkKeyRing(countingBytes(), 'k1');
    expect(() => rotateLinkKeyRing(ring, 'k1', countingBytes())).toThrow(/already holds a key k1/);
    expect(() => rotateLinkKeyRing(ring, 'k2', countingBytes(), { retire: ['k2'] })).toThrow(/cannot be retired/);
    expect(() => rotateLinkKeyRing(ring, 'k2', countingBytes(), { retire: ['k0'] })).toThrow(/holds no key k0/);
  });
});

describe('the key ring format', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('reads the nested form, and the flat form the stack generates (64 letters and digits are base64 for 48 bytes)', () => {
    expect(linkKeyRingSchema.parse({ current: 'k1', keys: { k1: key } })).toEqual({ current: 'k1', keys: { k1: key } });
    const generated = 'aB3'.repeat(21) + 'z';
    expect(linkKeyRingSchema.parse({ current: 'k1', k1: generated })).toEqual({ current: 'k1', keys: { k1: generated } });
  });

  it('refuses keys under 32 bytes, text that is not base64, a current key the ring lacks and odd key ids', () => {
    expect(linkKeyRingSchema.safeParse({ current: 'k1', keys: { k1: Buffer.alloc(31).toString('base64') } }).success).toBe(false);
    expect(linkKeyRingSchema.safeParse({ current: 'k1', keys: { k1: `${key}!` } }).success).toBe(false);
    expect(linkKeyRingSchema.safeParse({ current: 'k2', keys: { k1: key } }).success).toBe(false);
    expect(linkKeyRingSchema.safeParse({ current: 'k 1', keys: { 'k 1': key } }).success).toBe(false);
    expect(linkKeyRingSchema.safeParse({ current: 'k1', keys: { k1: key }, extra: 1 }).success).toBe(false);
  });
});

describe('the key ring in Secrets Manager (SDK mocked: Secrets Manager has no local twin)', () => {
  const client = new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const secrets = mockClient(client);
  const secretId = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:Nightshift-link-keys-AbCdEf';
  const readRing = secretsManagerKeyRing(client, secretId);
  const key = Buffer.alloc(48, 9).toString('base64');
  beforeEach(() => secrets.reset());

  it('reads the ring the stack generated, and one a rotation wrote', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: secretId }).resolvesOnce({ SecretString: JSON.stringify({ current: 'k1', k1: key }) }).resolvesOnce({ SecretString: JSON.stringify({ current: 'k2', keys: { k1: key, k2: key } }) });
    expect(await readRing()).toEqual({ current: 'k1', keys: { k1: key } });
    expect(await readRing()).toEqual({ current: 'k2', keys: { k1: key, k2: key } });
  });

  it('answers a value that is not a ring with a ConfigurationError naming the secret and the problem, never quoting the value', async () => {
    const tooShort = 'c2hvcnQtc2VjcmV0LXZhbHVl';
    for (const value of [JSON.stringify({ current: 'k1', k1: tooShort }), `{"current":"k1","k1":"${tooShort}"`, undefined]) {
      secrets.on(GetSecretValueCommand).resolves(value === undefined ? {} : { SecretString: value });
      const error: unknown = await readRing().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain(secretId);
      expect((error as Error).message).not.toContain(tooShort);
      expect(JSON.stringify((error as Error).cause ?? '')).not.toContain(tooShort);
    }
  });

  it('answers a missing secret with a ConfigurationError saying so, and throttling with TransientError', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }))
      // the API's throttling answer has no class of its own in the SDK
      .rejectsOnce(new SecretsManagerServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));
    await expect(readRing()).rejects.toThrow(/does not exist.*LINK_KEYS_SECRET_ARN/);
    await expect(readRing()).rejects.toThrow(TransientError);
  });
});

describe('the local key ring file', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-link-keys-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates one ring with a fresh k1 on first use (once, however many ask at once), private to the owner, and keeps it across restarts', async () => {
    const rings = await Promise.all([localKeyRing(dataDir)(), localKeyRing(dataDir)(), localKeyRing(dataDir)()]);
    expect(rings[0].current).toBe('k1');
    expect(Buffer.from(rings[0].keys.k1 ?? '', 'base64')).toHaveLength(32);
    expect(new Set(rings.map((ring) => JSON.stringify(ring))).size).toBe(1);
    expect((await stat(localKeyRingFile(dataDir))).mode & 0o777).toBe(0o600);

    // a link mailed before the restart verifies after it
    const before = await createHmacLinkTokens(localKeyRing(dataDir), () => 0).issue(claims);
    expect((await createHmacLinkTokens(localKeyRing(dataDir), () => 0).check(before)).valid).toBe(true);
  });

  it('reads a rotated ring written to the file, and says how to recover from a file that is not a ring', async () => {
    const rotated = rotateLinkKeyRing(await localKeyRing(dataDir)(), 'k2', countingBytes());
    await writeFile(localKeyRingFile(dataDir), JSON.stringify(rotated), { mode: 0o644 });
    expect(await localKeyRing(dataDir)()).toEqual(rotated);
    expect((await stat(localKeyRingFile(dataDir))).mode & 0o777).toBe(0o600);
    await writeFile(localKeyRingFile(dataDir), '{"current":');
    await expect(localKeyRing(dataDir)()).rejects.toThrow(/not a link key ring \(not JSON\); delete it/);
    // and leaves the file alone: it may hold the keys of links still out there
    expect(await readFile(localKeyRingFile(dataDir), 'utf8')).toBe('{"current":');
  });
});
