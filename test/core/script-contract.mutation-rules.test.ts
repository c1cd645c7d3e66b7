import { describe, expect, it } from 'vitest';
import {
  assertIdentifier,
  assertNonce,
  assertSecretReferences,
  ITEM_RECORD_TAG,
  PARAMETER_NAME,
  PARAMETER_VARIABLE_PREFIX,
  PARAMETERS_JSON_VARIABLE,
  positiveSeconds,
  REBOOT_MARKER,
  RESULT_RECORD_TAG,
  SECRET_MASK,
  SECRET_REFS_VARIABLE,
  SECRET_UNRESOLVED_TAG,
  SECRETS_REGION_VARIABLE,
  secretReferencesJson,
} from '../../functions/core/scripts/contract.js';

describe('the script contract', () => {
  it('keeps the names computers and agents already rely on, spelled out here so a change is a decision', () => {
    expect({
      ITEM_RECORD_TAG,
      RESULT_RECORD_TAG,
      REBOOT_MARKER,
      SECRET_REFS_VARIABLE,
      SECRETS_REGION_VARIABLE,
      PARAMETERS_JSON_VARIABLE,
      PARAMETER_VARIABLE_PREFIX,
      SECRET_MASK,
      SECRET_UNRESOLVED_TAG,
    }).toEqual({
      ITEM_RECORD_TAG: 'NIGHTSHIFT-ITEM',
      RESULT_RECORD_TAG: 'NIGHTSHIFT-RESULT',
      REBOOT_MARKER: 'NIGHTSHIFT-REBOOT-REQUIRED',
      SECRET_REFS_VARIABLE: 'NIGHTSHIFT_SECRET_REFS_JSON',
      SECRETS_REGION_VARIABLE: 'NIGHTSHIFT_SECRETS_REGION',
      PARAMETERS_JSON_VARIABLE: 'NIGHTSHIFT_PARAMETERS_JSON',
      PARAMETER_VARIABLE_PREFIX: 'NIGHTSHIFT_PARAM_',
      SECRET_MASK: '***',
      SECRET_UNRESOLVED_TAG: 'NIGHTSHIFT-SECRET-UNRESOLVED',
    });
  });

  it('takes parameter names of a letter, then up to 47 letters, digits or "_"', () => {
    for (const name of ['a', 'Z9_', `a${'b'.repeat(47)}`]) expect(PARAMETER_NAME.test(name)).toBe(true);
    for (const name of ['', '9a', '_a', 'a-b', 'a b', `a${'b'.repeat(48)}`, 'xa!', 'a!x']) expect(PARAMETER_NAME.test(name)).toBe(false);
  });
});

describe('secret references', () => {
  it('serialises valid references as JSON', () => {
    expect(secretReferencesJson({ pin: '/nightshift/secrets/dep-1/pin', Key_2: 'plain.name_x' })).toBe('{"pin":"/nightshift/secrets/dep-1/pin","Key_2":"plain.name_x"}');
    expect(secretReferencesJson({})).toBe('{}');
    expect(secretReferencesJson({ a: 'p'.repeat(2048) })).toBe(JSON.stringify({ a: 'p'.repeat(2048) }));
  });

  it.each([
    [{ 'bad name': '/p' }, 'not a parameter name: "bad name"'],
    [{ '9pin': '/p' }, 'not a parameter name: "9pin"'],
    [{ pin: '' }, 'not an SSM parameter name: ""'],
    [{ pin: '/p q' }, 'not an SSM parameter name: "/p q"'],
    [{ pin: "/p';rm" }, `not an SSM parameter name: "/p';rm"`],
    [{ pin: 'x/p$' }, 'not an SSM parameter name: "x/p$"'],
    [{ pin: '$x/p' }, 'not an SSM parameter name: "$x/p"'],
    [{ pin: 'p'.repeat(2049) }, 'not an SSM parameter name'],
  ])('refuses %j, saying which', (references, message) => {
    expect(() => secretReferencesJson(references)).toThrow(message);
  });

  it('lets a command without references through untouched', () => {
    expect(() => assertSecretReferences({ NIGHTSHIFT_PARAM_pin: '1234', [PARAMETERS_JSON_VARIABLE]: 'not json either' })).not.toThrow();
  });

  it('accepts references with the other parameters in clear, even when the parameters JSON is absent', () => {
    expect(() =>
      assertSecretReferences({
        [SECRET_REFS_VARIABLE]: '{"pin":"/s/pin"}',
        [PARAMETERS_JSON_VARIABLE]: '{"user":"ana"}',
        NIGHTSHIFT_PARAM_user: 'ana',
        NIGHTSHIFT_PARAM_pinned: 'x',
        OTHER_pin: 'x',
      }),
    ).not.toThrow();
    expect(() => assertSecretReferences({ [SECRET_REFS_VARIABLE]: '{"pin":"/s/pin"}' })).not.toThrow();
    expect(() => assertSecretReferences({ [SECRET_REFS_VARIABLE]: '{"pin":"/s/pin"}', [PARAMETERS_JSON_VARIABLE]: 'null' })).not.toThrow();
  });

  it.each([
    ['{', `${SECRET_REFS_VARIABLE} is not JSON`],
    ['[]', 'must map parameter names to SSM parameter names'],
    ['null', 'must map parameter names to SSM parameter names'],
    ['"text"', 'must map parameter names to SSM parameter names'],
    ['{"pin":1}', 'must map parameter names to SSM parameter names'],
    ['{"pin":"/a","other":null}', 'must map parameter names to SSM parameter names'],
    ['{"bad name":"/a"}', 'not a parameter name'],
    ['{"pin":"a b"}', 'not an SSM parameter name'],
  ])('refuses the references %s', (json, message) => {
    expect(() => assertSecretReferences({ [SECRET_REFS_VARIABLE]: json })).toThrow(message);
  });

  it('refuses parameters JSON that is not JSON when there are references', () => {
    expect(() => assertSecretReferences({ [SECRET_REFS_VARIABLE]: '{"pin":"/s/pin"}', [PARAMETERS_JSON_VARIABLE]: '{' })).toThrow(`${PARAMETERS_JSON_VARIABLE} is not JSON`);
  });

  it.each([
    ['in the parameters JSON', { [PARAMETERS_JSON_VARIABLE]: '{"pin":"1234"}' }],
    ['in the parameters JSON, in another case', { [PARAMETERS_JSON_VARIABLE]: '{"user":"ana","PIN":"1234"}' }],
    ['as its variable', { NIGHTSHIFT_PARAM_pin: '1234' }],
    ['as its variable, in another case', { nightshift_param_PIN: '1234' }],
  ])('refuses a secret that also arrives in clear %s', (_where, clear) => {
    expect(() => assertSecretReferences({ [SECRET_REFS_VARIABLE]: '{"user_x":"/s/u","pin":"/s/pin"}', ...clear })).toThrow(
      'secret parameter pin must arrive only as a reference, not also in clear',
    );
  });
});

describe('what may be placed in script text', () => {
  it('takes shell identifiers of up to 80 characters', () => {
    for (const name of ['a', '_', 'A_9', `N${'x'.repeat(79)}`]) expect(assertIdentifier(name)).toBe(name);
    for (const name of ['', '9a', 'a-b', 'a b', '$a', `N${'x'.repeat(80)}`, 'a=b', 'a;']) expect(() => assertIdentifier(name)).toThrow(`not a shell identifier: ${JSON.stringify(name)}`);
  });

  it('takes nonces of 1 to 64 letters, digits, "_" and "-"', () => {
    for (const nonce of ['a', 'A-b_9', 'n'.repeat(64)]) expect(assertNonce(nonce)).toBe(nonce);
    for (const nonce of ['', 'n'.repeat(65), "a'b", 'a b', 'a$', '$a', 'a.b']) expect(() => assertNonce(nonce)).toThrow(`not a safe nonce: ${JSON.stringify(nonce)}`);
  });

  it('takes whole positive seconds', () => {
    expect(positiveSeconds(1)).toBe(1);
    expect(positiveSeconds(3600)).toBe(3600);
    for (const value of [0, -1, 1.5, Number.NaN, Infinity]) expect(() => positiveSeconds(value)).toThrow(`not a positive whole number of seconds: ${value}`);
  });
});
