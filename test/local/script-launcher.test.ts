import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ScriptLauncher } from '../../local/script-launcher.js';

/** A process as /proc tells it: its parent, its process group, and whether it is still a live process. */
async function procStat(pid: number): Promise<{ parent: number; group: number; state: string } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // after the command name (in parentheses): state, parent pid, process group
  const [state = '', parent = '', group = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state, parent: Number(parent), group: Number(group) };
}

const isGone = async (pid: number): Promise<boolean> => {
  const stat = await procStat(pid);
  return stat === undefined || stat.state === 'Z';
};

const until = (check: () => Promise<boolean>) =>
  vi.waitFor(async () => {
    if (!(await check())) throw new Error('not yet');
  }, { timeout: 10_000, interval: 10 });

const ENV = { PATH: '/usr/bin:/bin' };

describe('the script launcher', () => {
  const launchers: ScriptLauncher[] = [];
  const started: number[] = [];
  const folders: string[] = [];
  const newLauncher = (idleHelperMs?: number) => {
    const launcher = new ScriptLauncher(idleHelperMs === undefined ? {} : { idleHelperMs });
    launchers.push(launcher);
    return launcher;
  };
  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // ended already
      }
    }
    for (const launcher of launchers.splice(0)) launcher.close();
  });
  afterAll(async () => {
    for (const dir of folders) await rm(dir, { recursive: true, force: true });
  });

  it('starts a script as the leader of its own process group, a child of its helper and not of this process, and tells its end', async () => {
    const launcher = newLauncher();
    const launched = await launcher.launch('sleep', ['30'], { cwd: '/', env: ENV });
    started.push(launched.pid);
    const stat = await procStat(launched.pid);
    // this process never forked for it: the point of the launcher (see script-launcher.ts)
    expect(stat?.parent).not.toBe(process.pid);
    expect(stat?.group).toBe(launched.pid);
    let ended = false;
    void launched.exited.then(() => {
      ended = true;
    });
    // still running: the end is told by the process exiting, not by the launch returning. The helper answers in
    // order, so once a later script's end is in, a wrongly told end of this one would be in too
    await (await launcher.launch('true', [], { cwd: '/', env: ENV })).exited;
    expect(ended).toBe(false);
    process.kill(-launched.pid, 'SIGKILL');
    await launched.exited;
    expect(await isGone(launched.pid)).toBe(true);
  });

  it('runs the script in the folder and with exactly the environment it is given', async () => {
    const launcher = newLauncher();
    const dir = await mkdtemp(path.join(tmpdir(), 'nightshift-launcher-'));
    folders.push(dir);
    const launched = await launcher.launch('bash', ['-c', 'printf "%s|%s|%s" "$PWD" "$ONLY" "${HOME-unset}" > out'], { cwd: dir, env: { ...ENV, ONLY: 'given' } });
    await launched.exited;
    expect(await readFile(path.join(dir, 'out'), 'utf8')).toBe(`${dir}|given|unset`);
  });

  it('refuses a launch it cannot start, with the reason', async () => {
    const launcher = newLauncher();
    await expect(launcher.launch('/nonexistent/nightshift-script', [], { cwd: '/', env: ENV })).rejects.toThrow(/ENOENT/);
    // and serves the next one
    const launched = await launcher.launch('true', [], { cwd: '/', env: ENV });
    await launched.exited;
  });

  it('lets its helper go once idle, and starts another for the next launch', async () => {
    const launcher = newLauncher(20);
    const first = await launcher.launch('sleep', ['0.2'], { cwd: '/', env: ENV });
    const firstHelper = (await procStat(first.pid))?.parent ?? 0;
    await first.exited;
    await until(() => isGone(firstHelper));
    // letting go of a helper already let go changes nothing: the next launch starts a new one as before
    launcher.close();
    launcher.close();
    const second = await launcher.launch('sleep', ['0.2'], { cwd: '/', env: ENV });
    started.push(second.pid);
    const secondHelper = (await procStat(second.pid))?.parent ?? 0;
    expect(secondHelper).not.toBe(firstHelper);
    expect(await isGone(secondHelper)).toBe(false);
    await second.exited;
  });

  it('still tells the end of a script whose helper died while it ran, and the script runs on meanwhile', async () => {
    const launcher = newLauncher();
    const launched = await launcher.launch('sleep', ['30'], { cwd: '/', env: ENV });
    started.push(launched.pid);
    const helper = (await procStat(launched.pid))?.parent ?? 0;
    let ended = false;
    void launched.exited.then(() => {
      ended = true;
    });
    process.kill(helper, 'SIGKILL');
    await until(() => isGone(helper));
    // the script is in its own session: the helper's death leaves it running, and not told as ended. A launch
    // answered by a new helper comes after this process has seen the old one's exit (one sent to the dying
    // helper before that is refused, and tried again)
    await vi.waitFor(async () => (await launcher.launch('true', [], { cwd: '/', env: ENV })).exited, { timeout: 10_000, interval: 10 });
    expect(await isGone(launched.pid)).toBe(false);
    expect(ended).toBe(false);
    process.kill(-launched.pid, 'SIGKILL');
    await launched.exited;
    expect(ended).toBe(true);
  });
});
