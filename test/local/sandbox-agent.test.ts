import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { AgentCommand } from '../../functions/core/model/agent.js';
import { SandboxAgent, type CommandStatusEvent, type MachineDescriptor } from '../../local/sandbox-agent.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'support', 'sandbox-agent-child.ts');

const until = (check: () => boolean | Promise<boolean>) =>
  vi.waitFor(async () => {
    if (!(await check())) throw new Error('not yet');
  }, { timeout: 20_000, interval: 10 });

describe('the sandbox agent on its own', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nightshift-sandbox-'));
    dirs.push(dir);
    return dir;
  };

  it('reports a command it could not run (broken machine descriptor) as Failed instead of going quiet', async () => {
    const dir = await tempDir();
    const events: CommandStatusEvent[] = [];
    const agent = new SandboxAgent({
      machinesDir: dir,
      onEvent: (event) => {
        events.push(event);
        return Promise.resolve();
      },
      pollMs: 5,
    });
    const { root } = await agent.addMachine({ agentId: 'i-0000000000000ba01', name: 'broken', platform: 'linux', online: true, latencyMs: 0 });
    await writeFile(path.join(root, '.sandbox/machine.json'), '{ not json');
    const { commandId } = await agent.send({ agentId: 'i-0000000000000ba01', platform: 'linux', script: 'true', comment: 'c', deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });
    await agent.idle();
    expect(events.map((e) => e.detail.status)).toEqual(['Failed']);
    expect((await agent.getInvocation(commandId, 'i-0000000000000ba01')).stderr).toMatch(/^sandbox agent: /);
  });

  it('announces a finished command once, and leaves only its state behind: the script and its run files are cleared', async () => {
    const dir = await tempDir();
    const events: CommandStatusEvent[] = [];
    const agent = new SandboxAgent({
      machinesDir: dir,
      onEvent: (event) => {
        events.push(event);
        return Promise.resolve();
      },
      pollMs: 5,
    });
    const agentId = 'i-0000000000000ba03';
    const { root } = await agent.addMachine({ agentId, name: 'tidy', platform: 'linux', online: true, latencyMs: 0 });
    const { commandId } = await agent.send({ agentId, platform: 'linux', script: 'echo hello\n', comment: 'c', deliveryTimeoutSeconds: 60, executionTimeoutSeconds: 60 });
    await agent.idle();
    expect(events.map((e) => e.detail.status)).toEqual(['Success']);
    expect(await agent.getInvocation(commandId, agentId)).toMatchObject({ status: 'Success', responseCode: 0, stdout: 'hello\n' });
    expect(await readdir(path.join(root, '.sandbox/commands', commandId))).toEqual(['command.json']);
  });

  describe('killed (SIGKILL) and started again', () => {
    const agentId = 'i-0000000000000ba02';
    const machine = (online = true): MachineDescriptor => ({ agentId, name: 'pc', platform: 'linux', online, latencyMs: 0 });
    /** Appends a line per run, says it started, then takes its time: long enough to be caught running. */
    const script = (sleepSeconds: number, exitCode = 0) =>
      `echo run >> "$NIGHTSHIFT_ROOT/runs"\n: > "$NIGHTSHIFT_ROOT/started"\nsleep ${sleepSeconds}\necho "done after ${sleepSeconds}s"\nexit ${exitCode}\n`;
    const command = (body: string, comment: string): AgentCommand => ({
      agentId,
      platform: 'linux',
      script: body,
      comment,
      deliveryTimeoutSeconds: 600,
      executionTimeoutSeconds: 600,
    });

    /** Sends the commands from an agent in a child process and SIGKILLs that process once `killWhen` holds. */
    async function sendAndKill(machinesDir: string, online: boolean, commands: AgentCommand[], killWhen: (root: string) => boolean): Promise<{ root: string; ids: string[] }> {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ machinesDir, machine: machine(online), commands })], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const ids = await new Promise<string[]>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0] ?? '[]') as string[]);
        });
        child.once('exit', (code) => reject(new Error(`the agent's process ended (${code ?? 'signal'}) before sending`)));
      });
      const root = path.join(machinesDir, 'pc');
      await until(() => killWhen(root));
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
      return { root, ids };
    }

    /** A fresh agent on the same folder: what a restarted runtime builds. */
    async function restarted(machinesDir: string) {
      const events: CommandStatusEvent[] = [];
      const agent = new SandboxAgent({
        machinesDir,
        onEvent: (event) => {
          events.push(event);
          return Promise.resolve();
        },
        pollMs: 10,
      });
      await agent.discover();
      return { agent, events };
    }

    const runsOf = async (root: string) => (await readFile(path.join(root, 'runs'), 'utf8')).split('\n').filter(Boolean).length;
    /** Kills the script's process group: the computer lost it while the agent was down. */
    const killScript = async (root: string, commandId: string) => {
      const pid = Number((await readFile(path.join(root, '.sandbox/commands', commandId, 'run-0.pid'), 'utf8')).trim());
      process.kill(-pid, 'SIGKILL');
      await until(() => !existsSync(`/proc/${pid}`) || readFile(`/proc/${pid}/cmdline`, 'utf8').then((text) => text === ''));
    };

    it('re-attaches to a script still running: it runs once, and its real exit code and output are reported', async () => {
      const dir = await tempDir();
      const { root, ids } = await sendAndKill(dir, true, [command(script(1.5, 3), 'nightshift/ses-1/Action#001/n1')], (r) => existsSync(path.join(r, 'started')));
      const { agent, events } = await restarted(dir);
      const [commandId = ''] = ids;
      // known again before it ends: the completion handler and a retried dispatch can ask
      expect(await agent.findCommand(agentId, 'nightshift/ses-1/Action#001/n1', new Date(0))).toBe(commandId);
      expect((await agent.getInvocation(commandId, agentId)).status).toBe('InProgress');

      expect(agent.resumeCommands()).toBe(1);
      await agent.idle();
      expect(events.map((e) => e.detail.status)).toEqual(['Failed']);
      const invocation = await agent.getInvocation(commandId, agentId);
      expect(invocation).toMatchObject({ status: 'Failed', responseCode: 3, stdout: 'done after 1.5s\n' });
      expect(await runsOf(root)).toBe(1);
    });

    it('reports a script that ended while the agent was down with its real result, once the agent is back', async () => {
      const dir = await tempDir();
      const { root, ids } = await sendAndKill(dir, true, [command(script(0.3), 'nightshift/ses-1/Action#001/n1')], (r) => existsSync(path.join(r, 'started')));
      const [commandId = ''] = ids;
      await until(() => existsSync(path.join(root, '.sandbox/commands', commandId, 'run-0.exit')));
      const { agent, events } = await restarted(dir);
      agent.resumeCommands();
      await agent.idle();
      expect(events.map((e) => e.detail.status)).toEqual(['Success']);
      expect(await agent.getInvocation(commandId, agentId)).toMatchObject({ responseCode: 0, stdout: 'done after 0.3s\n' });
      expect(await runsOf(root)).toBe(1);
      // the outcome is on record; the script and its run files are gone
      expect(existsSync(path.join(root, '.sandbox/commands', commandId, 'script.sh'))).toBe(false);
    });

    it('never runs an action again whose script died while the agent was down: it ends Failed with no exit code', async () => {
      const dir = await tempDir();
      const { root, ids } = await sendAndKill(dir, true, [command(script(30), 'nightshift/ses-1/Action#001/n1')], (r) => existsSync(path.join(r, 'started')));
      const [commandId = ''] = ids;
      await killScript(root, commandId);
      const { agent, events } = await restarted(dir);
      agent.resumeCommands();
      await agent.idle();
      expect(events.map((e) => e.detail.status)).toEqual(['Failed']);
      const invocation = await agent.getInvocation(commandId, agentId);
      expect(invocation.responseCode).toBe(-1);
      expect(invocation.stderr).toMatch(/stopped without an exit code while the agent was down; it was not run again/);
      expect(await runsOf(root)).toBe(1);
    });

    it('runs a detection again from the start when its script died while the agent was down: it only reads', async () => {
      const dir = await tempDir();
      // the first run hangs until it is killed; a second one is quick
      const detection = 'n=$(cat "$NIGHTSHIFT_ROOT/runs" 2>/dev/null | wc -l)\necho run >> "$NIGHTSHIFT_ROOT/runs"\n: > "$NIGHTSHIFT_ROOT/started"\n[ "$n" -gt 0 ] || sleep 30\n';
      const { root, ids } = await sendAndKill(dir, true, [command(detection, 'nightshift/ses-1/Detect/n1')], (r) => existsSync(path.join(r, 'started')));
      const [commandId = ''] = ids;
      await killScript(root, commandId);
      const { agent, events } = await restarted(dir);
      agent.resumeCommands();
      await agent.idle();
      expect(events.map((e) => e.detail.status)).toEqual(['Success']);
      expect(await runsOf(root)).toBe(2);
    });

    it('keeps holding a command for an offline computer, and runs it once when the computer comes back', async () => {
      const dir = await tempDir();
      const { root, ids } = await sendAndKill(dir, false, [command(script(0), 'nightshift/ses-1/Action#001/n1')], (r) => existsSync(path.join(r, '.sandbox/commands')));
      const [commandId = ''] = ids;
      const { agent, events } = await restarted(dir);
      expect((await agent.getInvocation(commandId, agentId)).status).toBe('Pending');
      agent.resumeCommands();
      await agent.setOnline(agentId, true);
      await agent.idle();
      expect(events.map((e) => e.detail.status)).toEqual(['Success']);
      expect(await runsOf(root)).toBe(1);
    });

    it('drops a command it was killed inside `send` for (its script written, its state not yet in place): nothing runs, nothing is announced', async () => {
      const dir = await tempDir();
      const first = new SandboxAgent({ machinesDir: dir, onEvent: () => Promise.resolve() });
      const { root } = await first.addMachine(machine());
      // what `send` leaves before the rename that puts command.json in place: nobody was given this command's id
      const commandDir = path.join(root, '.sandbox/commands', 'c0ffee00-0000-4000-8000-000000000000');
      await mkdir(commandDir, { recursive: true });
      await writeFile(path.join(commandDir, 'script.sh'), script(0), { mode: 0o700 });
      await writeFile(path.join(commandDir, 'command.json.c0ffee01-0000-4000-8000-000000000000.tmp'), '{"record":');
      const { agent, events } = await restarted(dir);
      expect(agent.history(agentId)).toEqual([]);
      expect(agent.resumeCommands()).toBe(0);
      await agent.idle();
      expect(events).toEqual([]);
      expect(existsSync(commandDir)).toBe(false);
      expect(existsSync(path.join(root, 'runs'))).toBe(false);
    });

    it('gives up a run it had counted but never began, so it can never begin late; the next run is the first', async () => {
      const dir = await tempDir();
      const { root, ids } = await sendAndKill(dir, false, [command(script(0), 'nightshift/ses-1/Action#001/n1')], (r) => existsSync(path.join(r, '.sandbox/commands')));
      const [commandId = ''] = ids;
      // what a kill between counting run 0 and spawning its wrapper leaves
      const stateFile = path.join(root, '.sandbox/commands', commandId, 'command.json');
      const stored = JSON.parse(await readFile(stateFile, 'utf8')) as { record: { startedAtMs?: number }; runs: number };
      await writeFile(stateFile, JSON.stringify({ ...stored, record: { ...stored.record, startedAtMs: Date.now() }, runs: 1 }));
      const { agent, events } = await restarted(dir);
      agent.resumeCommands();
      await agent.idle();
      expect(events.map((e) => e.detail.status)).toEqual(['Success']);
      expect(await runsOf(root)).toBe(1);
    });
  });
});
