import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { startApiServer, type ApiServer } from '../../local/api-server.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { runtimeWithFleet } from '../support/fleet.js';
import { API_FLEET } from '../http/support.js';

/**
 * `nightshift branding`, run in-process against the real API on a local port
 * over a real runtime: files in, brandings saved, previews written to disk,
 * a test email in the local mailbox, refusals printed with their field.
 */

let runtime: LocalRuntime;
let server: ApiServer;
let workDir: string;
let technicianToken: string;

beforeAll(async () => {
  runtime = await runtimeWithFleet(API_FLEET);
  server = await startApiServer(runtime);
  workDir = await mkdtemp(join(tmpdir(), 'nightshift-cli-branding-'));
  technicianToken = await server.mintDevToken({ role: 'Technician' });
});

afterAll(async () => {
  await server.close();
  await runtime.close();
  await rm(workDir, { recursive: true, force: true });
});

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function nightshift(args: string[], token = server.devToken): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { NIGHTSHIFT_API_URL: server.url, NIGHTSHIFT_TOKEN: token, XDG_CONFIG_HOME: workDir, NIGHTSHIFT_DATA_DIR: workDir, TZ: 'UTC' },
  });
  return { code, stdout, stderr };
}

async function file(name: string, content: unknown): Promise<string> {
  const path = join(workDir, name);
  await writeFile(path, JSON.stringify(content));
  return path;
}

describe('nightshift branding', () => {
  it('set from files, show, then preview writes the HTML with the tenant colour and the MSP logo (proves the CLI round trip through the API)', async () => {
    const msp = await file('msp.json', { companyName: 'Contoso IT', logoUri: 'https://cdn.contoso-it.example/logo.png', logoAltText: 'Contoso IT logo', fromAddress: 'maintenance@contoso-it.example' });
    const saved = await nightshift(['branding', 'set', '--file', msp]);
    expect(saved, saved.stderr).toMatchObject({ code: 0, stdout: 'Saved branding default of the MSP (version 1).\n' });

    const acme = await file('acme.json', { tableHeaderColour: '#7a1f1f' });
    expect((await nightshift(['branding', 'set', '--tenant', 'acme', '--file', acme])).stdout).toBe('Saved branding default of tenant acme (version 1).\n');

    // a file printed by `show --json` goes back as it is: its version is the one the change is decided on
    const shown = await nightshift(['branding', 'show', '--tenant', 'acme', '--json']);
    expect(shown.code).toBe(0);
    const [stored] = (JSON.parse(shown.stdout) as { items: Record<string, unknown>[] }).items;
    const edited = await file('acme-edited.json', { ...stored, tableHeaderColour: '#6b1a1a' });
    expect((await nightshift(['branding', 'set', '--tenant', 'acme', '--file', edited])).stdout).toBe('Saved branding default of tenant acme (version 2).\n');

    const human = await nightshift(['branding', 'show', '--tenant', 'acme']);
    expect(human.stdout).toMatch(/branding\s+default of tenant acme/);
    expect(human.stdout).toMatch(/version\s+2/);
    expect(human.stdout).toMatch(/tableHeaderColour\s+#6b1a1a/);

    const out = join(workDir, 'preview.html');
    const preview = await nightshift(['branding', 'preview', '--kind', 'Detection', '--tenant', 'acme', '--out', out]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/^Wrote the HTML of "Maintenance on .+" to .+preview\.html\.\n$/);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('#6b1a1a');
    expect(html).toContain('Contoso IT logo');

    const text = await nightshift(['branding', 'preview', '--kind', 'FollowUp', '--tenant', 'acme', '--text']);
    expect(text.stdout).toMatch(/^Subject: Maintenance/);
    expect(text.stdout).toContain('Contoso IT');
  });

  it('prints the refusal with its field and exits 1: a pale text colour, a Technician changing branding (proves errors read well)', async () => {
    const pale = await file('pale.json', { textColour: '#dddddd' });
    const refused = await nightshift(['branding', 'set', '--tenant', 'globex', '--file', pale]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: VALIDATION_FAILED: .*contrast/);
    expect(refused.stderr).toContain('field: body.branding.textColour');

    const forbidden = await nightshift(['branding', 'set', '--tenant', 'globex', '--file', await file('ok.json', { companyName: 'Globex IT' })], technicianToken);
    expect(forbidden).toMatchObject({ code: 1, stderr: expect.stringContaining('error: FORBIDDEN') as string });
    expect((await nightshift(['branding', 'preview', '--kind', 'Reminder'])).code).toBe(2);
  });

  it('sends a test email a technician asks for, into the local mailbox, then deletes the tenant override (proves test-email and delete)', async () => {
    const sent = await nightshift(['branding', 'test-email', '--kind', 'Cancelled', '--tenant', 'acme', '--to', 'tech@contoso-it.example'], technicianToken);
    expect(sent.code, sent.stderr).toBe(0);
    const messageId = /\(message (.+)\)\.$/m.exec(sent.stdout)?.[1];
    const mail = (await runtime.mailbox.messages()).find((message) => message.messageId === messageId);
    expect(mail?.subject).toMatch(/^\[Test\] Maintenance cancelled/);
    expect(mail?.destination.to).toEqual(['tech@contoso-it.example']);

    expect((await nightshift(['branding', 'delete', '--tenant', 'acme'])).stdout).toBe('Deleted branding default of tenant acme.\n');
    expect((await nightshift(['branding', 'show', '--tenant', 'acme'])).stdout).toBe("No branding. The MSP's branding applies.\n");
    const missing = await nightshift(['branding', 'delete', '--tenant', 'acme']);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('error: NOT_FOUND') as string });
  });
});
