import { createHmac, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ConfigurationError, TransientError, ValidationError } from '../core/errors.js';
import { MAX_LINK_TOKEN_LENGTH, linkClaimsSchema, type LinkClaims, type LinkTokenCheck } from '../core/notifications/links.js';
import type { LinkTokens } from '../core/ports/link-tokens.port.js';
import { errorName, translateAwsError } from './aws-errors.js';

/** HMAC-SHA256 keys shorter than its block's half add nothing but risk: 32 bytes is the digest's own strength. */
const MIN_KEY_BYTES = 32;
/** What a new key gets from the random source. */
const NEW_KEY_BYTES = 32;
/**
 * How long a fetched ring is trusted: a key retired in Secrets Manager stops
 * verifying within this, and a warm Lambda costs one GetSecretValue per period.
 */
export const KEY_RING_CACHE_MS = 5 * 60_000;
/**
 * A token naming a key the cached ring lacks may be from a key added since
 * (another instance fetched the rotated ring first): the ring is fetched
 * again, but not more often than this, so tokens with made-up key ids cannot
 * turn into a stream of GetSecretValue calls.
 */
export const KEY_RING_REFRESH_ON_MISS_MS = 10_000;

/** Key ids travel in every token: short, and safe in JSON, logs and secret templates. */
const keyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a key id is 1-64 letters, digits, _ or -');

const keySecretSchema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'a key is base64')
  .refine((secret) => Buffer.from(secret, 'base64').length >= MIN_KEY_BYTES, `a key is at least ${MIN_KEY_BYTES} bytes`);

const nestedRingSchema = z
  .object({ current: keyIdSchema, keys: z.record(keyIdSchema, keySecretSchema) })
  .strict()
  .refine((ring) => Object.hasOwn(ring.keys, ring.current), { message: 'the current key id is not one of the keys', path: ['current'] });

/**
 * The link signing keys: which one signs new tokens, and every one still
 * accepted (by id; a base64 secret of at least 32 bytes each).
 *
 * Stored as `{ "current": "k1", "keys": { "k1": "…" } }`. The flat form
 * `{ "current": "k1", "k1": "…" }` is read as the same ring: it is what
 * Secrets Manager's generated secret can produce (its `generateStringKey`
 * sets a top-level field only), so the stack's first ring is flat and every
 * rotation writes the nested form.
 */
export const linkKeyRingSchema = z.preprocess((value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'keys' in value) return value;
  const { current, ...keys } = value as Record<string, unknown>;
  return { current, keys };
}, nestedRingSchema);
export type LinkKeyRing = z.infer<typeof linkKeyRingSchema>;

const base64url = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64url');
const sign = (secret: Buffer, payloadPart: string): string => base64url(createHmac('sha256', secret).update(payloadPart, 'ascii').digest());
const TOKEN_SHAPE = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

const MALFORMED: LinkTokenCheck = { valid: false, reason: 'Malformed' };

/** The ring as it is used: secrets decoded, looked up without touching `Object.prototype`. */
interface LoadedRing {
  readonly current: string;
  readonly keys: ReadonlyMap<string, Buffer>;
  readonly fetchedAtMs: number;
}

/**
 * End-user link tokens signed with HMAC-SHA256 by a key ring:
 * `base64url(claims JSON) . base64url(HMAC(keys[claims.keyId], first part))`.
 * The key id is inside the signed claims, so a rotated ring keeps verifying
 * the links already mailed until their key is retired from it.
 *
 * `keys` is asked at most once per `KEY_RING_CACHE_MS` (and again on a token
 * naming an unknown key, see `KEY_RING_REFRESH_ON_MISS_MS`); `now` is the
 * time in epoch milliseconds, injected so tests move it.
 */
export function createHmacLinkTokens(keys: () => Promise<LinkKeyRing>, now: () => number = Date.now): LinkTokens {
  let cached: Promise<LoadedRing> | undefined;

  const fetchRing = (): Promise<LoadedRing> => {
    const fetching = keys().then((value): LoadedRing => {
      const parsed = linkKeyRingSchema.parse(value);
      return { current: parsed.current, keys: new Map(Object.entries(parsed.keys).map(([id, secret]) => [id, Buffer.from(secret, 'base64')])), fetchedAtMs: now() };
    });
    cached = fetching;
    // a failed fetch is not remembered: the next call asks again (the caller sees the failure itself)
    void fetching.catch(() => {
      if (cached === fetching) cached = undefined;
    });
    return fetching;
  };

  const ring = async (): Promise<LoadedRing> => {
    const held = cached;
    if (held === undefined) return fetchRing();
    const loaded = await held;
    if (now() - loaded.fetchedAtMs < KEY_RING_CACHE_MS) return loaded;
    // callers that found the same stale ring share one fetch
    return cached === held ? fetchRing() : ring();
  };

  const keyFor = async (keyId: string): Promise<Buffer | undefined> => {
    const loaded = await ring();
    const known = loaded.keys.get(keyId);
    if (known !== undefined || now() - loaded.fetchedAtMs < KEY_RING_REFRESH_ON_MISS_MS) return known;
    return (await fetchRing()).keys.get(keyId);
  };

  return {
    async issue(claims: Omit<LinkClaims, 'keyId'>): Promise<string> {
      const { current, keys: ringKeys } = await ring();
      const parsed = linkClaimsSchema.safeParse({ ...claims, keyId: current });
      if (!parsed.success) {
        throw new ValidationError(
          'link claims',
          parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), problem: issue.message })),
        );
      }
      const secret = ringKeys.get(current);
      if (secret === undefined) throw new ConfigurationError(`the link key ring's current key ${current} is missing`);
      const payloadPart = base64url(JSON.stringify(parsed.data));
      const token = `${payloadPart}.${sign(secret, payloadPart)}`;
      if (token.length > MAX_LINK_TOKEN_LENGTH) {
        throw new ValidationError('link claims', [{ field: '', problem: `the token would be ${token.length} characters, over the ${MAX_LINK_TOKEN_LENGTH} a link page accepts` }]);
      }
      return token;
    },

    async check(token: string): Promise<LinkTokenCheck> {
      if (typeof token !== 'string' || token.length > MAX_LINK_TOKEN_LENGTH) return MALFORMED;
      const parts = TOKEN_SHAPE.exec(token);
      const payloadPart = parts?.[1];
      const signaturePart = parts?.[2];
      if (payloadPart === undefined || signaturePart === undefined) return MALFORMED;
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
      } catch {
        return MALFORMED;
      }
      const claims = linkClaimsSchema.safeParse(json);
      if (!claims.success) return MALFORMED;
      const secret = await keyFor(claims.data.keyId);
      if (secret === undefined) return { valid: false, reason: 'Revoked' };
      // the signature is compared as the text we would have written: a different encoding of the same bytes is not ours either
      const expected = Buffer.from(sign(secret, payloadPart), 'ascii');
      const given = Buffer.from(signaturePart, 'ascii');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'Forged' };
      return { valid: true, claims: claims.data };
    },
  };
}

/** A ring of one fresh key, `keyId`, which signs from now on. */
export function newLinkKeyRing(randomBytes: (n: number) => Buffer, keyId: string): LinkKeyRing {
  return linkKeyRingSchema.parse({ current: keyId, keys: { [keyId]: randomBytes(NEW_KEY_BYTES).toString('base64') } });
}

/**
 * The ring after a rotation: a fresh key `newKeyId` signs from now on, the
 * others keep verifying the links already mailed until they are named in
 * `retire` (do that once the longest-lived link they signed has expired).
 */
export function rotateLinkKeyRing(
  ring: LinkKeyRing,
  newKeyId: string,
  randomBytes: (n: number) => Buffer,
  options: { readonly retire?: readonly string[] } = {},
): LinkKeyRing {
  const retire = new Set(options.retire ?? []);
  const problems = [
    ...(Object.hasOwn(ring.keys, newKeyId) ? [{ field: 'newKeyId', problem: `the ring already holds a key ${newKeyId}; a new key needs a new id` }] : []),
    ...(retire.has(newKeyId) ? [{ field: 'retire', problem: `${newKeyId} is the new current key and cannot be retired` }] : []),
    ...[...retire].filter((id) => id !== newKeyId && !Object.hasOwn(ring.keys, id)).map((id) => ({ field: 'retire', problem: `the ring holds no key ${id}` })),
  ];
  if (problems.length > 0) throw new ValidationError('link key rotation', problems);
  const kept = Object.entries(ring.keys).filter(([id]) => !retire.has(id));
  return linkKeyRingSchema.parse({ current: newKeyId, keys: Object.fromEntries([...kept, [newKeyId, randomBytes(NEW_KEY_BYTES).toString('base64')]]) });
}

/** What an operator can do about the failures worth naming. */
const SECRET_HINTS: Readonly<Record<string, string>> = {
  ResourceNotFoundException: 'the secret does not exist (LINK_KEYS_SECRET_ARN names the stack’s link key secret)',
  AccessDeniedException: 'the function needs secretsmanager:GetSecretValue on it (declare linkKeys:read in the handler’s ports)',
  DecryptionFailure: 'Secrets Manager could not decrypt it with its KMS key',
  InvalidRequestException: 'the secret is scheduled for deletion or has no current value',
};

/**
 * The key ring held in one Secrets Manager secret (its JSON is
 * `linkKeyRingSchema`). A value that does not parse is a ConfigurationError
 * naming the secret and the problem, never quoting the value.
 */
export function secretsManagerKeyRing(client: SecretsManagerClient, secretId: string): () => Promise<LinkKeyRing> {
  return async () => {
    let text: string | undefined;
    try {
      text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (error) {
      const translated = translateAwsError(error, `reading the link key ring ${secretId}`);
      if (translated instanceof TransientError) throw translated;
      const name = errorName(error);
      const hint = SECRET_HINTS[name];
      throw new ConfigurationError(`reading the link key ring ${secretId} failed: ${name}${hint === undefined ? '' : `; ${hint}`}`, { cause: error });
    }
    const malformed = (problem: string) =>
      new ConfigurationError(`the link key ring ${secretId} is not a key ring: ${problem}; expected {"current":"<key id>","keys":{"<key id>":"<base64, at least ${MIN_KEY_BYTES} bytes>"}}`);
    if (text === undefined) throw malformed('it has no string value');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text, which is the secret: it is dropped
      throw malformed('it is not JSON');
    }
    const parsed = linkKeyRingSchema.safeParse(json);
    if (!parsed.success) throw malformed(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`).join('; '));
    return parsed.data;
  };
}
