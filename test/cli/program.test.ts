import type { Command } from 'commander';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgram, runCli } from '../../cli/program.js';

const silent = { write: () => true };
const io = { stdout: silent, stderr: silent, env: {} };

function leaves(command: Command): Command[] {
  return command.commands.length === 0 ? [command] : command.commands.flatMap(leaves);
}

const pathOf = (command: Command): string => (command.parent ? `${pathOf(command.parent)} ${command.name()}` : command.name());

describe('the command tree', () => {
  it('gives every command a description and an example in its help', () => {
    const commands = leaves(createProgram(io));
    expect(commands.length).toBeGreaterThan(30);
    for (const command of commands) {
      expect(command.description(), pathOf(command)).not.toBe('');
      let text = '';
      command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
      command.outputHelp();
      expect(text, pathOf(command)).toMatch(/\nExamples?:\n {2}\$ nightshift /);
    }
  });

  it('covers the routes of the contract, grouped as the issue names them', () => {
    const paths = leaves(createProgram(io)).map(pathOf);
    for (const path of [
      'nightshift login',
      'nightshift whoami',
      ...['list', 'show', 'log', 'follow', 'start', 'cancel', 'postpone', 'run-now', 'rerun'].map((name) => `nightshift sessions ${name}`),
      ...['list', 'show', 'create', 'update', 'enable', 'disable', 'duplicate', 'delete', 'run-now', 'preview', 'history'].map((name) => `nightshift schedules ${name}`),
      ...['list', 'show', 'targets', 'halt', 'resume', 'promote', 'cancel'].map((name) => `nightshift runs ${name}`),
      ...['list', 'show', 'explain'].map((name) => `nightshift computers ${name}`),
      ...['list', 'show'].map((name) => `nightshift tenants ${name}`),
      ...['show', 'put'].flatMap((name) => ['software', 'tasks', 'deployments'].map((group) => `nightshift ${group} ${name}`)),
      'nightshift deployments list',
      'nightshift audit',
    ]) {
      expect(paths).toContain(path);
    }
  });
});

describe('exit codes without an API', () => {
  it('answers 0 for --help and 2 for a group without its subcommand', async () => {
    expect(await runCli(['--help'], io)).toBe(0);
    expect(await runCli(['sessions', 'show', '--help'], io)).toBe(0);
    expect(await runCli(['sessions'], io)).toBe(2);
  });

  it('refuses an option value it cannot read as a usage mistake, naming the option', async () => {
    let stderr = '';
    const code = await runCli(['sessions', 'list', '--since', 'yesterday'], { ...io, stderr: { write: (text: string) => (stderr += text) } });
    expect(code).toBe(2);
    expect(stderr).toContain("option '--since <when>' argument 'yesterday' is invalid");
  });

  it('asks for the JSON when create has neither a file nor piped input', async () => {
    let stderr = '';
    const code = await runCli(['schedules', 'create'], { ...io, stderr: { write: (text: string) => (stderr += text) }, stdin: Object.assign(Readable.from([]), { isTTY: true }) });
    expect(code).toBe(2);
    expect(stderr).toBe('error: give the JSON with --file <path>, or pipe it in (--file - reads stdin)\n');
  });

  it('refuses a file that is not JSON before any request, naming the file', async () => {
    let stderr = '';
    const code = await runCli(['deployments', 'put', '--file', '/nonexistent/deploy.json'], { ...io, stderr: { write: (text: string) => (stderr += text) } });
    expect(code).toBe(2);
    expect(stderr).toBe('error: cannot read /nonexistent/deploy.json: ENOENT\n');
  });
});
