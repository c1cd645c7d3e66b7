import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  DEFAULT_ACTIVE_HOURS,
  activeHoursSchema,
  agentIdSchema,
  computerSchema,
  deploymentSchema,
  deploymentTargetSchema,
  deviceClassSchema,
  entityIdSchema,
  itemKeyOf,
  itemKeySchema,
  maintenanceTaskSchema,
  orderingHintSchema,
  platformSchema,
  softwareDesiredStateSchema,
  softwareDetectionSchema,
  softwareSchema,
  tagSchema,
  taskModeSchema,
  taskParameterSchema,
  tenantSchema,
  timeOfDaySchema,
  timeZoneSchema,
  versionSchema,
  type Deployment,
} from '../../functions/core/model/catalog.js';

/**
 * The catalog schemas are the API's boundary: each rule below is one an
 * operator meets as a refusal, so the refusal's path and message are part of
 * the rule and asserted word for word.
 */

interface Refusal {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** The issues a refused input gets, as path and message; [] when the input is accepted. */
function refusals(schema: z.ZodType, input: unknown): Refusal[] {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
}

/** The parsed value of an input the schema must accept (fails the test with the issues otherwise). */
function accepted<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  expect(result.error?.issues ?? []).toEqual([]);
  if (!result.success) throw new Error('refused');
  return result.data;
}

const issueCodes = (schema: z.ZodType, input: unknown): { path: readonly PropertyKey[]; code: string }[] => {
  const result = schema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => ({ path: issue.path, code: issue.code }));
};

const ID_MESSAGE = 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit';
const VERSION_MESSAGE = 'must be a version such as 1.2.3, 2.0.0-rc.1, 23.01 or v6.6.10';
const ZONE_MESSAGE = 'must be an IANA time zone such as Europe/Lisbon';
const PARAMETER_NAME_MESSAGE = 'must start with a letter and contain only letters, digits and "_" (at most 48)';
const TIME_MESSAGE = 'must be a time of day as HH:MM (24-hour clock)';

const computerInput = { id: 'pc-1', agentId: 'i-0123456789abcdef0', name: 'PC 1', tenantId: 't1', platform: 'windows' };
const softwareInput = {
  id: 'app',
  name: 'App',
  platform: 'linux',
  detection: { method: 'PackageName', value: 'app' },
  installScript: 'install',
  uninstallScript: 'remove',
  latestVersion: '2.0',
};
const taskInput = { id: 'tidy', name: 'Tidy', platform: 'linux', scripts: { style: 'Combined', script: 'tidy' } };
const taskWith = (...parameters: unknown[]) => ({ ...taskInput, parameters });
const softwareDeploymentInput = { id: 'd1', itemKind: 'Software', softwareId: 'app', target: { kind: 'AllTenants' }, desiredState: 'LatestVersion' };
const taskDeploymentInput = { id: 'd2', itemKind: 'Task', taskId: 'tidy', target: { kind: 'AllTenants' }, mode: 'Enforce' };
const manyParameters = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `p${i}`, type: 'boolean' }));

describe('entity ids', () => {
  it.each(['a', 'Z', '0', 'a.b_c-D9', 'x'.repeat(128), '9-._'])('accepts %j', (id) => {
    expect(accepted(entityIdSchema, id)).toBe(id);
  });

  it('refuses an id of 129 characters, naming the limit', () => {
    expect(refusals(entityIdSchema, 'x'.repeat(129))).toEqual([{ path: [], message: 'must be at most 128 characters' }]);
  });

  it('refuses an empty id, saying it must not be empty (and why the characters fail)', () => {
    expect(refusals(entityIdSchema, '')).toEqual([
      { path: [], message: 'must not be empty' },
      { path: [], message: ID_MESSAGE },
    ]);
  });

  it.each(['.a', '_a', '-a', 'a b', 'a/b', 'a:b', 'é', 'a\n', ' a'])('refuses %j: only letters, digits, ".", "_", "-", starting with a letter or digit', (id) => {
    expect(refusals(entityIdSchema, id)).toEqual([{ path: [], message: ID_MESSAGE }]);
  });

  it('refuses an id that is not a string', () => {
    expect(issueCodes(entityIdSchema, 5)).toEqual([{ path: [], code: 'invalid_type' }]);
  });
});

describe('versions', () => {
  it.each(['1.2.3', '2.0.0-rc.1', '23.01', 'v6.6.10', '1.2.3.4', '1'])('accepts %j, a version compareVersions can order', (version) => {
    expect(accepted(versionSchema, version)).toBe(version);
  });

  it('trims a padded version before storing it', () => {
    expect(accepted(versionSchema, '  1.2 ')).toBe('1.2');
  });

  it('accepts a version of 64 characters, counted after trimming', () => {
    const longest = `1.${'0'.repeat(62)}`;
    expect(accepted(versionSchema, ` ${longest} `)).toBe(longest);
  });

  it('refuses a version of 65 characters, naming the limit', () => {
    expect(refusals(versionSchema, `1.${'0'.repeat(63)}`)).toEqual([
      { path: [], message: 'must be at most 64 characters' },
      { path: [], message: VERSION_MESSAGE },
    ]);
  });

  it.each(['abc', 'latest', '1.2 beta', '.1', '1..2'])('refuses %j, which has no order, with examples of versions', (version) => {
    expect(refusals(versionSchema, version)).toEqual([{ path: [], message: VERSION_MESSAGE }]);
  });

  it('refuses a blank version as empty', () => {
    expect(refusals(versionSchema, '   ')).toEqual([
      { path: [], message: 'must not be empty' },
      { path: [], message: VERSION_MESSAGE },
    ]);
  });
});

describe('time zones', () => {
  it.each([
    ['US/Eastern', 'America/New_York'],
    ['UTC', 'UTC'],
    ['Etc/UTC', 'UTC'],
    ['GMT', 'UTC'],
    ['GMT0', 'UTC'],
    ['UCT', 'UTC'],
    ['Zulu', 'UTC'],
    ['NZ', 'Pacific/Auckland'],
    ['PST8PDT', 'America/Los_Angeles'],
    ['EST5EDT', 'America/New_York'],
    ['europe/lisbon', 'Europe/Lisbon'],
    ['Europe/Lisbon', 'Europe/Lisbon'],
    ['Etc/GMT+5', 'Etc/GMT+5'],
  ])('accepts %j and stores it by its canonical name %j', (zone, canonical) => {
    expect(accepted(timeZoneSchema, zone)).toBe(canonical);
  });

  it.each(['EST', 'MST', 'HST', 'CET', 'EET', 'WET', 'MET', 'PRC', 'ROK'])('refuses the abbreviation-like %j (EST would resolve to Panama, without DST)', (zone) => {
    expect(refusals(timeZoneSchema, zone)).toEqual([{ path: [], message: ZONE_MESSAGE }]);
  });

  it.each(['', 'Nowhere/City', 'x'.repeat(64)])('refuses %j, a zone Intl does not know', (zone) => {
    expect(refusals(timeZoneSchema, zone)).toEqual([{ path: [], message: ZONE_MESSAGE }]);
  });

  it('refuses a name longer than 64 characters before asking Intl', () => {
    expect(issueCodes(timeZoneSchema, 'x'.repeat(65))).toEqual([
      { path: [], code: 'too_big' },
      { path: [], code: 'custom' },
    ]);
  });
});

describe('tenants', () => {
  it('fills in excludeFromCrossTenant: false and leaves enabled and the default zone absent', () => {
    const tenant = accepted(tenantSchema, { id: 't1', name: 'Contoso' });
    expect(tenant).toEqual({ id: 't1', name: 'Contoso', excludeFromCrossTenant: false });
    expect(tenant).not.toHaveProperty('enabled');
  });

  it('keeps what is given and canonicalises the default zone', () => {
    expect(accepted(tenantSchema, { id: 't2', name: 'Fabrikam', parentTenantId: 't1', excludeFromCrossTenant: true, enabled: false, defaultTimeZone: 'US/Eastern' })).toEqual({
      id: 't2',
      name: 'Fabrikam',
      parentTenantId: 't1',
      excludeFromCrossTenant: true,
      enabled: false,
      defaultTimeZone: 'America/New_York',
    });
  });

  it('checks the parent id and the default zone by their own rules, at their own paths', () => {
    expect(refusals(tenantSchema, { id: 't2', name: 'F', parentTenantId: '-x', defaultTimeZone: 'EST' })).toEqual([
      { path: ['parentTenantId'], message: ID_MESSAGE },
      { path: ['defaultTimeZone'], message: ZONE_MESSAGE },
    ]);
  });

  it('trims a name, and counts 255 characters after trimming', () => {
    expect(accepted(tenantSchema, { id: 't', name: '  Contoso  ' }).name).toBe('Contoso');
    expect(accepted(tenantSchema, { id: 't', name: ` ${'n'.repeat(255)} ` }).name).toBe('n'.repeat(255));
  });

  it('refuses a name of 256 characters, naming the limit, and a blank name as empty', () => {
    expect(refusals(tenantSchema, { id: 't', name: 'n'.repeat(256) })).toEqual([{ path: ['name'], message: 'must be at most 255 characters' }]);
    expect(refusals(tenantSchema, { id: 't', name: '   ' })).toEqual([{ path: ['name'], message: 'must not be empty' }]);
  });
});

describe('agent ids', () => {
  it.each(['i-01234567', 'i-0123456789abcdef0', 'mi-0123456789abcdef0', 'mi-abcdef01'])('accepts the SSM managed instance id %j (8 to 17 hex digits)', (agentId) => {
    expect(accepted(agentIdSchema, agentId)).toBe(agentId);
  });

  it.each([
    ['7 hex digits', 'i-0123456'],
    ['18 hex digits', 'i-0123456789abcdef01'],
    ['upper-case hex', 'i-0123456789ABCDEF0'],
    ['another prefix', 'x-0123456789abcdef0'],
    ['an upper-case prefix', 'I-0123456789abcdef0'],
    ['something before it', 'ai-0123456789abcdef0'],
    ['something after it', 'i-0123456789abcdef0 '],
    ['no dash', 'i0123456789abcdef0'],
  ])('refuses %s, naming both forms', (_, agentId) => {
    expect(refusals(agentIdSchema, agentId)).toEqual([{ path: [], message: 'must be an SSM managed instance id (i-… or mi-…)' }]);
  });
});

describe('tags', () => {
  it('trims a tag, and counts 64 characters after trimming', () => {
    expect(accepted(tagSchema, '  web  ')).toBe('web');
    expect(accepted(tagSchema, ` ${'t'.repeat(64)} `)).toBe('t'.repeat(64));
    expect(accepted(tagSchema, 'prod:eu/1')).toBe('prod:eu/1');
  });

  it('refuses a tag of 65 characters, naming the limit', () => {
    expect(refusals(tagSchema, 't'.repeat(65))).toEqual([{ path: [], message: 'must be at most 64 characters' }]);
  });

  it.each(['a b', 'a,b', 'a\tb', ','])('refuses %j: no spaces or commas (tags are listed comma-separated)', (tag) => {
    expect(refusals(tagSchema, tag)).toEqual([{ path: [], message: 'may not contain spaces or commas' }]);
  });

  it('refuses a blank tag as empty', () => {
    expect(refusals(tagSchema, '  ')).toEqual([
      { path: [], message: 'must not be empty' },
      { path: [], message: 'may not contain spaces or commas' },
    ]);
  });
});

describe('times of day and active hours', () => {
  it.each(['00:00', '09:30', '19:59', '20:00', '23:59', '10:05'])('accepts %j', (time) => {
    expect(accepted(timeOfDaySchema, time)).toBe(time);
  });

  it.each(['24:00', '23:60', '30:00', '9:00', '09:5', '09:00:00', 'x09:00', '09:00x', '12-00', ''])('refuses %j as HH:MM on the 24-hour clock', (time) => {
    expect(refusals(timeOfDaySchema, time)).toEqual([{ path: [], message: TIME_MESSAGE }]);
  });

  it('needs both ends of active hours, each a time of day at its own path', () => {
    expect(accepted(activeHoursSchema, { start: '07:30', end: '18:00' })).toEqual({ start: '07:30', end: '18:00' });
    expect(refusals(activeHoursSchema, { start: '07:30', end: '25:00' })).toEqual([{ path: ['end'], message: TIME_MESSAGE }]);
    expect(issueCodes(activeHoursSchema, { end: '18:00' })).toEqual([{ path: ['start'], code: 'invalid_type' }]);
  });

  it("takes Windows' own default, 08:00 to 17:00, for a computer that reports none", () => {
    expect(DEFAULT_ACTIVE_HOURS).toEqual({ start: '08:00', end: '17:00' });
  });
});

describe('the closed lists', () => {
  it.each([
    ['platforms', platformSchema.options, ['linux', 'windows']],
    ['device classes', deviceClassSchema.options, ['Workstation', 'Portable', 'Server', 'DomainController']],
    ['desired states', softwareDesiredStateSchema.options, ['LatestVersion', 'ThisVersion', 'AnyVersion', 'NewerOrEqualVersion', 'UpdateIfFound', 'NotPresent', 'Ignored']],
    ['task modes', taskModeSchema.options, ['Enforce', 'Audit', 'Monitor', 'Ignore']],
    ['ordering hints', orderingHintSchema.options, ['Beginning', 'Unordered', 'End']],
  ])('lists exactly the %s the product handles', (_, options, expected) => {
    expect(options).toEqual(expected);
  });
});

describe('computers', () => {
  it('fills in class Workstation, no tags, zone UTC and online, and leaves user and active hours absent', () => {
    expect(accepted(computerSchema, computerInput)).toEqual({ ...computerInput, deviceClass: 'Workstation', tags: [], timeZone: 'UTC', online: true });
  });

  it('keeps what is given, lower-cases the user email and canonicalises the zone', () => {
    const computer = accepted(computerSchema, {
      ...computerInput,
      deviceClass: 'Server',
      tags: [' web ', 'eu'],
      primaryUser: { name: ' Ana ', email: 'Ana.Silva@Example.COM' },
      timeZone: 'US/Eastern',
      activeHours: { start: '07:00', end: '19:00' },
      online: false,
    });
    expect(computer).toEqual({
      ...computerInput,
      deviceClass: 'Server',
      tags: ['web', 'eu'],
      primaryUser: { name: 'Ana', email: 'ana.silva@example.com' },
      timeZone: 'America/New_York',
      activeHours: { start: '07:00', end: '19:00' },
      online: false,
    });
  });

  it('accepts 50 tags and refuses 51, naming the limit', () => {
    const tags = Array.from({ length: 51 }, (_, i) => `t${i}`);
    expect(accepted(computerSchema, { ...computerInput, tags: tags.slice(0, 50) }).tags).toHaveLength(50);
    expect(refusals(computerSchema, { ...computerInput, tags })).toEqual([{ path: ['tags'], message: 'at most 50 tags' }]);
  });

  it('names the offending tag by its index', () => {
    expect(refusals(computerSchema, { ...computerInput, tags: ['ok', 'not ok'] })).toEqual([{ path: ['tags', 1], message: 'may not contain spaces or commas' }]);
  });

  it('refuses a user email that is not one, at its path', () => {
    expect(refusals(computerSchema, { ...computerInput, primaryUser: { name: 'Ana', email: 'ana' } })).toEqual([
      { path: ['primaryUser', 'email'], message: 'must be an email address' },
    ]);
  });

  it('accepts an email of 254 characters and refuses 255, saying it is too long', () => {
    const email = (length: number) => `${'a'.repeat(length - 5)}@b.io`;
    expect(accepted(computerSchema, { ...computerInput, primaryUser: { name: 'A', email: email(254) } }).primaryUser?.email).toBe(email(254));
    expect(issueCodes(computerSchema, { ...computerInput, primaryUser: { name: 'A', email: email(255) } })).toEqual([{ path: ['primaryUser', 'email'], code: 'too_big' }]);
    expect(refusals(computerSchema, { ...computerInput, primaryUser: { name: 'A', email: email(255) } })).toEqual([
      { path: ['primaryUser', 'email'], message: 'must be at most 254 characters' },
    ]);
  });

  it('refuses each field by its own rule, at its own path', () => {
    expect(refusals(computerSchema, { ...computerInput, agentId: 'pc-1', timeZone: 'EST', activeHours: { start: '8:00', end: '17:00' } })).toEqual([
      { path: ['agentId'], message: 'must be an SSM managed instance id (i-… or mi-…)' },
      { path: ['timeZone'], message: ZONE_MESSAGE },
      { path: ['activeHours', 'start'], message: TIME_MESSAGE },
    ]);
    expect(issueCodes(computerSchema, { ...computerInput, deviceClass: 'Laptop', platform: 'macos' })).toEqual([
      { path: ['platform'], code: 'invalid_value' },
      { path: ['deviceClass'], code: 'invalid_value' },
    ]);
  });
});

describe('scripts (32 KB by UTF-8 bytes)', () => {
  const detect = (script: unknown) => ({ method: 'Script', script });

  it('accepts 32,768 ASCII characters and 32,768 bytes of two-byte characters', () => {
    expect(accepted(softwareDetectionSchema, detect('a'.repeat(32_768)))).toEqual(detect('a'.repeat(32_768)));
    expect(accepted(softwareDetectionSchema, detect('é'.repeat(16_384)))).toEqual(detect('é'.repeat(16_384)));
  });

  it('refuses a multi-byte script one byte over 32 KB though it has half as many characters, naming UTF-8', () => {
    expect(refusals(softwareDetectionSchema, detect(`${'é'.repeat(16_384)}a`))).toEqual([{ path: ['script'], message: 'must be at most 32 KB (UTF-8)' }]);
  });

  it('refuses 32,769 ASCII characters, naming the limit', () => {
    expect(refusals(softwareDetectionSchema, detect('a'.repeat(32_769)))).toEqual([
      { path: ['script'], message: 'must be at most 32 KB' },
      { path: ['script'], message: 'must be at most 32 KB (UTF-8)' },
    ]);
  });

  it('refuses an empty script', () => {
    expect(refusals(softwareDetectionSchema, detect(''))).toEqual([{ path: ['script'], message: 'must not be empty' }]);
  });
});

describe('software detection (one shape per method)', () => {
  it('DisplayName: matches by Contains unless told Regex', () => {
    expect(accepted(softwareDetectionSchema, { method: 'DisplayName', value: 'Firefox' })).toEqual({ method: 'DisplayName', match: 'Contains', value: 'Firefox' });
    expect(accepted(softwareDetectionSchema, { method: 'DisplayName', match: 'Regex', value: '^Fire' })).toEqual({ method: 'DisplayName', match: 'Regex', value: '^Fire' });
    expect(issueCodes(softwareDetectionSchema, { method: 'DisplayName', match: 'Exact', value: 'Firefox' })).toEqual([{ path: ['match'], code: 'invalid_value' }]);
  });

  it.each(['DisplayName', 'PackageName'])('%s: needs a value of 1 to 255 characters', (method) => {
    expect(accepted(softwareDetectionSchema, { method, value: 'v'.repeat(255) })).toMatchObject({ method, value: 'v'.repeat(255) });
    expect(issueCodes(softwareDetectionSchema, { method, value: 'v'.repeat(256) })).toEqual([{ path: ['value'], code: 'too_big' }]);
    expect(issueCodes(softwareDetectionSchema, { method, value: '' })).toEqual([{ path: ['value'], code: 'too_small' }]);
    expect(issueCodes(softwareDetectionSchema, { method, script: 'x' })).toEqual([{ path: ['value'], code: 'invalid_type' }]);
  });

  it('PackageName: carries no match mode', () => {
    expect(accepted(softwareDetectionSchema, { method: 'PackageName', match: 'Regex', value: 'curl' })).toEqual({ method: 'PackageName', value: 'curl' });
  });

  it('Script: needs a script, not a value', () => {
    expect(issueCodes(softwareDetectionSchema, { method: 'Script', value: 'x' })).toEqual([{ path: ['script'], code: 'invalid_type' }]);
  });

  it('refuses another method, listing the three', () => {
    expect(refusals(softwareDetectionSchema, { method: 'Registry', value: 'x' })).toEqual([
      { path: ['method'], message: "Invalid discriminator value. Expected 'DisplayName' | 'PackageName' | 'Script'" },
    ]);
  });
});

describe('software', () => {
  it('fills in no versions and no dependencies', () => {
    expect(accepted(softwareSchema, softwareInput)).toEqual({ ...softwareInput, versions: [], dependencies: [] });
  });

  it('keeps the optional scripts and checks them by the script rules', () => {
    expect(accepted(softwareSchema, { ...softwareInput, testScript: 'test', upgradeScript: 'upgrade' })).toMatchObject({ testScript: 'test', upgradeScript: 'upgrade' });
    expect(refusals(softwareSchema, { ...softwareInput, testScript: '', upgradeScript: '', installScript: '', uninstallScript: '' })).toEqual([
      { path: ['testScript'], message: 'must not be empty' },
      { path: ['installScript'], message: 'must not be empty' },
      { path: ['uninstallScript'], message: 'must not be empty' },
      { path: ['upgradeScript'], message: 'must not be empty' },
    ]);
  });

  it('needs a latest version that is a version, and names a bad listed version by its index', () => {
    expect(issueCodes(softwareSchema, { ...softwareInput, latestVersion: undefined })).toEqual([{ path: ['latestVersion'], code: 'invalid_type' }]);
    expect(refusals(softwareSchema, { ...softwareInput, versions: ['1.0', 'next'] })).toEqual([{ path: ['versions', 1], message: VERSION_MESSAGE }]);
  });

  it('accepts 500 versions and refuses 501', () => {
    const versions = Array.from({ length: 501 }, (_, i) => `1.${i}`);
    expect(accepted(softwareSchema, { ...softwareInput, versions: versions.slice(0, 500) }).versions).toHaveLength(500);
    expect(issueCodes(softwareSchema, { ...softwareInput, versions })).toEqual([{ path: ['versions'], code: 'too_big' }]);
  });

  it('accepts 50 dependencies and refuses 51', () => {
    const dependencies = Array.from({ length: 51 }, (_, i) => ({ softwareId: `dep${i}`, requires: 'Installed' }));
    expect(accepted(softwareSchema, { ...softwareInput, dependencies: dependencies.slice(0, 50) }).dependencies).toHaveLength(50);
    expect(issueCodes(softwareSchema, { ...softwareInput, dependencies })).toEqual([{ path: ['dependencies'], code: 'too_big' }]);
  });

  it('accepts a prerequisite and a conflicting product, and nothing else as requires', () => {
    const dependencies = [
      { softwareId: 'runtime', requires: 'Installed' },
      { softwareId: 'old-app', requires: 'Absent' },
    ];
    expect(accepted(softwareSchema, { ...softwareInput, dependencies }).dependencies).toEqual(dependencies);
    expect(issueCodes(softwareSchema, { ...softwareInput, dependencies: [{ softwareId: 'x', requires: 'Maybe' }] })).toEqual([{ path: ['dependencies', 0, 'requires'], code: 'invalid_value' }]);
    expect(refusals(softwareSchema, { ...softwareInput, dependencies: [{ softwareId: '-x', requires: 'Absent' }] })).toEqual([{ path: ['dependencies', 0, 'softwareId'], message: ID_MESSAGE }]);
  });

  it('refuses software that depends on itself, naming it', () => {
    const dependencies = [
      { softwareId: 'runtime', requires: 'Installed' },
      { softwareId: 'app', requires: 'Absent' },
    ];
    expect(refusals(softwareSchema, { ...softwareInput, dependencies })).toEqual([{ path: ['dependencies'], message: 'app cannot depend on itself' }]);
  });

  it('refuses a dependency listed twice (whatever it requires), at the index of each repeat', () => {
    const dependencies = [
      { softwareId: 'db', requires: 'Installed' },
      { softwareId: 'runtime', requires: 'Installed' },
      { softwareId: 'db', requires: 'Absent' },
      { softwareId: 'db', requires: 'Installed' },
    ];
    expect(refusals(softwareSchema, { ...softwareInput, dependencies })).toEqual([
      { path: ['dependencies', 2, 'softwareId'], message: 'db is listed twice' },
      { path: ['dependencies', 3, 'softwareId'], message: 'db is listed twice' },
    ]);
  });
});

describe('task parameters (one shape per type)', () => {
  it.each(['a', 'A1_b', `p${'x'.repeat(47)}`])('accepts the name %j', (name) => {
    expect(accepted(taskParameterSchema, { name, type: 'boolean' })).toEqual({ name, type: 'boolean', required: false });
  });

  it.each(['', '1a', '_a', 'a-b', 'a b', 'é', `p${'x'.repeat(48)}`])('refuses the name %j: a letter first, then letters, digits and "_", at most 48', (name) => {
    expect(refusals(taskParameterSchema, { name, type: 'boolean' })).toEqual([{ path: ['name'], message: PARAMETER_NAME_MESSAGE }]);
  });

  it.each([
    [{ name: 'path', type: 'string' }],
    [{ name: 'depth', type: 'number' }],
    [{ name: 'force', type: 'boolean' }],
    [{ name: 'level', type: 'enum', values: ['low'] }],
    [{ name: 'token', type: 'secret' }],
  ])('makes %j optional unless told required', (parameter) => {
    expect(accepted(taskParameterSchema, parameter)).toEqual({ ...parameter, required: false });
    expect(accepted(taskParameterSchema, { ...parameter, required: true })).toEqual({ ...parameter, required: true });
  });

  it('string: a default of up to 16,384 characters and a pattern of up to 500', () => {
    expect(accepted(taskParameterSchema, { name: 'p', type: 'string', default: 'd'.repeat(16_384), pattern: 'a'.repeat(500) })).toMatchObject({ default: 'd'.repeat(16_384) });
    expect(issueCodes(taskParameterSchema, { name: 'p', type: 'string', default: 'd'.repeat(16_385) })).toEqual([{ path: ['default'], code: 'too_big' }]);
    expect(refusals(taskParameterSchema, { name: 'p', type: 'string', pattern: 'a'.repeat(501) })).toEqual([{ path: ['pattern'], message: 'must be at most 500 characters' }]);
  });

  it('number: default, min and max are numbers', () => {
    expect(accepted(taskParameterSchema, { name: 'n', type: 'number', default: 2, min: 1, max: 3 })).toEqual({ name: 'n', type: 'number', required: false, default: 2, min: 1, max: 3 });
    expect(issueCodes(taskParameterSchema, { name: 'n', type: 'number', default: '2', min: '1' })).toEqual([
      { path: ['default'], code: 'invalid_type' },
      { path: ['min'], code: 'invalid_type' },
    ]);
  });

  it('boolean: a boolean default', () => {
    expect(accepted(taskParameterSchema, { name: 'b', type: 'boolean', default: false })).toMatchObject({ default: false });
    expect(issueCodes(taskParameterSchema, { name: 'b', type: 'boolean', default: 'false' })).toEqual([{ path: ['default'], code: 'invalid_type' }]);
  });

  it('enum: 1 to 100 values of 1 to 255 characters, and a default of at most 255', () => {
    const values = Array.from({ length: 101 }, (_, i) => `v${i}`);
    expect(accepted(taskParameterSchema, { name: 'e', type: 'enum', values: values.slice(0, 100), default: 'v0' })).toMatchObject({ default: 'v0' });
    expect(accepted(taskParameterSchema, { name: 'e', type: 'enum', values: ['x'.repeat(255)], default: 'x'.repeat(255) })).toMatchObject({ default: 'x'.repeat(255) });
    expect(issueCodes(taskParameterSchema, { name: 'e', type: 'enum', values })).toEqual([{ path: ['values'], code: 'too_big' }]);
    expect(issueCodes(taskParameterSchema, { name: 'e', type: 'enum', values: [] })).toEqual([{ path: ['values'], code: 'too_small' }]);
    expect(issueCodes(taskParameterSchema, { name: 'e', type: 'enum', values: ['a', '', 'x'.repeat(256)], default: 'x'.repeat(256) })).toEqual([
      { path: ['values', 1], code: 'too_small' },
      { path: ['values', 2], code: 'too_big' },
      { path: ['default'], code: 'too_big' },
    ]);
  });

  it('secret: never carries a default (one given is dropped)', () => {
    expect(accepted(taskParameterSchema, { name: 's', type: 'secret', default: 'hunter2' })).toEqual({ name: 's', type: 'secret', required: false });
  });

  it('refuses another type, at the type', () => {
    expect(issueCodes(taskParameterSchema, { name: 'd', type: 'date' })).toEqual([{ path: ['type'], code: 'invalid_union' }]);
  });
});

describe('maintenance tasks', () => {
  it('fills in no parameters', () => {
    expect(accepted(maintenanceTaskSchema, taskInput)).toEqual({ ...taskInput, parameters: [] });
  });

  it('Combined scripts need the one script; Separate ones need test, with set and get optional', () => {
    expect(issueCodes(maintenanceTaskSchema, { ...taskInput, scripts: { style: 'Combined', test: 'x' } })).toEqual([{ path: ['scripts', 'script'], code: 'invalid_type' }]);
    expect(accepted(maintenanceTaskSchema, { ...taskInput, scripts: { style: 'Separate', test: 't' } }).scripts).toEqual({ style: 'Separate', test: 't' });
    expect(accepted(maintenanceTaskSchema, { ...taskInput, scripts: { style: 'Separate', test: 't', set: 's', get: 'g' } }).scripts).toEqual({ style: 'Separate', test: 't', set: 's', get: 'g' });
    expect(issueCodes(maintenanceTaskSchema, { ...taskInput, scripts: { style: 'Separate', set: 's' } })).toEqual([{ path: ['scripts', 'test'], code: 'invalid_type' }]);
    expect(refusals(maintenanceTaskSchema, { ...taskInput, scripts: { style: 'Separate', test: 't', set: '', get: '' } })).toEqual([
      { path: ['scripts', 'set'], message: 'must not be empty' },
      { path: ['scripts', 'get'], message: 'must not be empty' },
    ]);
    expect(issueCodes(maintenanceTaskSchema, { ...taskInput, scripts: { style: 'Inline', script: 'x' } })).toEqual([{ path: ['scripts', 'style'], code: 'invalid_union' }]);
  });

  it('accepts 50 parameters and refuses 51', () => {
    expect(accepted(maintenanceTaskSchema, { ...taskInput, parameters: manyParameters(50) }).parameters).toHaveLength(50);
    expect(issueCodes(maintenanceTaskSchema, { ...taskInput, parameters: manyParameters(51) })).toEqual([{ path: ['parameters'], code: 'too_big' }]);
  });

  it('refuses a parameter name defined twice, ignoring case, at the repeat', () => {
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'Path', type: 'string' }, { name: 'depth', type: 'number' }, { name: 'path', type: 'boolean' }))).toEqual([
      { path: ['parameters', 2, 'name'], message: 'path is defined twice' },
    ]);
  });

  it('refuses an enum default that is not one of its values, listing them', () => {
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'level', type: 'enum', values: ['low', 'high'], default: 'mid' }))).toEqual([
      { path: ['parameters', 0, 'default'], message: 'must be one of low, high' },
    ]);
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'level', type: 'enum', values: ['low', 'high'], default: 'high' }))).toEqual([]);
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'level', type: 'enum', values: ['low', 'high'] }))).toEqual([]);
  });

  it('refuses a number max below its min, at max; equal bounds and one bound alone are fine', () => {
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'n', type: 'number', min: 5, max: 4 }))).toEqual([{ path: ['parameters', 0, 'max'], message: 'must not be below min' }]);
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'n', type: 'number', min: 5, max: 5 }))).toEqual([]);
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'n', type: 'number', min: 5 }, { name: 'm', type: 'number', max: -5 }))).toEqual([]);
  });

  it.each([
    ['(', 'is not a valid regular expression'],
    ['(a)\\1', 'cannot be used: backreferences (\\1, \\2, …) are not supported'],
  ])('refuses the pattern %j at save time, saying why', (pattern, message) => {
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'p', type: 'string', pattern }))).toEqual([{ path: ['parameters', 0, 'pattern'], message }]);
  });

  it('refuses a string default its own pattern does not match', () => {
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'p', type: 'string', pattern: '^[0-9]+$', default: 'abc' }))).toEqual([
      { path: ['parameters', 0, 'default'], message: "must match the parameter's pattern" },
    ]);
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'p', type: 'string', pattern: '^[0-9]+$', default: '42' }))).toEqual([]);
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'p', type: 'string', pattern: '^[0-9]+$' }))).toEqual([]);
  });

  it('refuses a default too costly to check against the pattern, saying so', () => {
    expect(refusals(maintenanceTaskSchema, taskWith({ name: 'p', type: 'string', pattern: '.{400}x', default: 'a'.repeat(16_000) }))).toEqual([
      { path: ['parameters', 0, 'default'], message: "is too long to check against the parameter's pattern" },
    ]);
  });
});

describe('deployment targets (one shape per kind)', () => {
  it('AllTenants needs nothing else', () => {
    expect(accepted(deploymentTargetSchema, { kind: 'AllTenants' })).toEqual({ kind: 'AllTenants' });
  });

  it('Tenant needs the tenant id and leaves child tenants out unless told', () => {
    expect(accepted(deploymentTargetSchema, { kind: 'Tenant', tenantId: 't1' })).toEqual({ kind: 'Tenant', tenantId: 't1', includeChildTenants: false });
    expect(accepted(deploymentTargetSchema, { kind: 'Tenant', tenantId: 't1', includeChildTenants: true })).toEqual({ kind: 'Tenant', tenantId: 't1', includeChildTenants: true });
    expect(issueCodes(deploymentTargetSchema, { kind: 'Tenant' })).toEqual([{ path: ['tenantId'], code: 'invalid_type' }]);
  });

  it('Tag needs the tag, trimmed, and a tenant only to narrow it', () => {
    expect(accepted(deploymentTargetSchema, { kind: 'Tag', tag: ' web ' })).toEqual({ kind: 'Tag', tag: 'web' });
    expect(accepted(deploymentTargetSchema, { kind: 'Tag', tag: 'web', tenantId: 't1' })).toEqual({ kind: 'Tag', tag: 'web', tenantId: 't1' });
    expect(issueCodes(deploymentTargetSchema, { kind: 'Tag', tenantId: 't1' })).toEqual([{ path: ['tag'], code: 'invalid_type' }]);
    expect(refusals(deploymentTargetSchema, { kind: 'Tag', tag: 'a,b' })).toEqual([{ path: ['tag'], message: 'may not contain spaces or commas' }]);
  });

  it('Computer needs the computer id', () => {
    expect(accepted(deploymentTargetSchema, { kind: 'Computer', computerId: 'pc-1' })).toEqual({ kind: 'Computer', computerId: 'pc-1' });
    expect(refusals(deploymentTargetSchema, { kind: 'Computer', computerId: '' })).toEqual([
      { path: ['computerId'], message: 'must not be empty' },
      { path: ['computerId'], message: ID_MESSAGE },
    ]);
  });

  it('Person needs an email, lower-cased', () => {
    expect(accepted(deploymentTargetSchema, { kind: 'Person', email: 'Ana@Example.com' })).toEqual({ kind: 'Person', email: 'ana@example.com' });
    expect(refusals(deploymentTargetSchema, { kind: 'Person', email: 'ana at example' })).toEqual([{ path: ['email'], message: 'must be an email address' }]);
  });

  it('refuses another kind, listing the five', () => {
    expect(refusals(deploymentTargetSchema, { kind: 'Site' })).toEqual([
      { path: ['kind'], message: "Invalid discriminator value. Expected 'AllTenants' | 'Tenant' | 'Tag' | 'Computer' | 'Person'" },
    ]);
  });
});

describe('deployments', () => {
  it('fill in enabled, critical and Unordered, and leave the device classes absent (every class)', () => {
    expect(accepted(deploymentSchema, softwareDeploymentInput)).toEqual({ ...softwareDeploymentInput, enabled: true, critical: true, orderingHint: 'Unordered' });
    expect(accepted(deploymentSchema, taskDeploymentInput)).toEqual({ ...taskDeploymentInput, enabled: true, critical: true, orderingHint: 'Unordered', parameters: {} });
  });

  it('keep what is given', () => {
    const given = { ...softwareDeploymentInput, enabled: false, critical: false, orderingHint: 'End', deviceClasses: ['Server', 'DomainController'] };
    expect(accepted(deploymentSchema, given)).toEqual(given);
  });

  it('accept 1 to 4 device classes; an empty list says to leave it out instead', () => {
    expect(accepted(deploymentSchema, { ...taskDeploymentInput, deviceClasses: ['Workstation', 'Portable', 'Server', 'DomainController'] }).deviceClasses).toHaveLength(4);
    expect(refusals(deploymentSchema, { ...taskDeploymentInput, deviceClasses: [] })).toEqual([
      { path: ['deviceClasses'], message: 'lists at least one class, or leave it out for all' },
    ]);
    expect(issueCodes(deploymentSchema, { ...taskDeploymentInput, deviceClasses: ['Server', 'Server', 'Server', 'Server', 'Server'] })).toEqual([{ path: ['deviceClasses'], code: 'too_big' }]);
    expect(issueCodes(deploymentSchema, { ...taskDeploymentInput, deviceClasses: ['Laptop'] })).toEqual([{ path: ['deviceClasses', 0], code: 'invalid_value' }]);
  });

  it('refuse another item kind, listing the two', () => {
    expect(refusals(deploymentSchema, { ...taskDeploymentInput, itemKind: 'Script' })).toEqual([
      { path: ['itemKind'], message: "Invalid discriminator value. Expected 'Software' | 'Task'" },
    ]);
  });

  it.each(['ThisVersion', 'NewerOrEqualVersion'])('a software deployment with desiredState %s needs a version, saying so', (desiredState) => {
    expect(accepted(deploymentSchema, { ...softwareDeploymentInput, desiredState, version: '1.2' })).toMatchObject({ desiredState, version: '1.2' });
    expect(refusals(deploymentSchema, { ...softwareDeploymentInput, desiredState })).toEqual([{ path: ['version'], message: `is required when desiredState is ${desiredState}` }]);
  });

  it.each(['LatestVersion', 'AnyVersion', 'UpdateIfFound', 'NotPresent', 'Ignored'])('a software deployment with desiredState %s refuses a version, saying to leave it out', (desiredState) => {
    expect(accepted(deploymentSchema, { ...softwareDeploymentInput, desiredState })).toMatchObject({ desiredState });
    expect(refusals(deploymentSchema, { ...softwareDeploymentInput, desiredState, version: '1.2' })).toEqual([
      { path: ['version'], message: `means nothing when desiredState is ${desiredState}; leave it out` },
    ]);
  });

  it('a software deployment checks its version as a version', () => {
    expect(refusals(deploymentSchema, { ...softwareDeploymentInput, desiredState: 'ThisVersion', version: 'newest' })).toEqual([{ path: ['version'], message: VERSION_MESSAGE }]);
  });

  it('a task deployment takes string, number and boolean values, strings up to 16,384 characters', () => {
    const parameters = { path: 'p'.repeat(16_384), depth: 3, force: false };
    expect(accepted(deploymentSchema, { ...taskDeploymentInput, parameters })).toMatchObject({ parameters });
    expect(issueCodes(deploymentSchema, { ...taskDeploymentInput, parameters: { path: 'p'.repeat(16_385) } })).toEqual([{ path: ['parameters', 'path'], code: 'too_big' }]);
    expect(issueCodes(deploymentSchema, { ...taskDeploymentInput, parameters: { path: ['a'] } })).toEqual([{ path: ['parameters', 'path'], code: 'invalid_union' }]);
  });

  it('a task deployment names values by parameter names', () => {
    expect(issueCodes(deploymentSchema, { ...taskDeploymentInput, parameters: { '1x': 1 } })).toEqual([{ path: ['parameters', '1x'], code: 'invalid_key' }]);
  });

  it('a task deployment accepts 50 values and refuses 51, naming the limit', () => {
    const values = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, i]));
    expect(accepted(deploymentSchema, { ...taskDeploymentInput, parameters: values(50) })).toMatchObject({ parameters: values(50) });
    expect(refusals(deploymentSchema, { ...taskDeploymentInput, parameters: values(51) })).toEqual([{ path: ['parameters'], message: 'at most 50 parameters' }]);
  });

  it('a task deployment needs a mode from the list', () => {
    expect(issueCodes(deploymentSchema, { ...taskDeploymentInput, mode: 'Fix' })).toEqual([{ path: ['mode'], code: 'invalid_value' }]);
  });
});

describe('item keys', () => {
  it.each(['software:app', 'task:t-1', `task:${'x'.repeat(128)}`])('accepts %j', (key) => {
    expect(accepted(itemKeySchema, key)).toBe(key);
  });

  it.each(['Software:app', 'other:app', 'xsoftware:app', 'software:', 'software:-x', 'software:a:b', `task:${'x'.repeat(129)}`, 'app', 42, undefined])(
    'refuses %j, saying the two forms',
    (key) => {
      expect(refusals(itemKeySchema, key)).toEqual([{ path: [], message: 'must be "software:<id>" or "task:<id>"' }]);
    },
  );

  it('keys a deployment by its kind and item id', () => {
    expect(itemKeyOf(deploymentSchema.parse(softwareDeploymentInput) satisfies Deployment)).toBe('software:app');
    expect(itemKeyOf(deploymentSchema.parse(taskDeploymentInput))).toBe('task:tidy');
  });
});
