import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../local/runtime.js';

function npmStart(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // what `npm start` runs, without npm in between
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NIGHTSHIFT_DATA_DIR: dataDir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const SUMMARY = /^demo: (\d+) sessions, (\d+) state transitions, (\d+) agent round-trips, (\d+\.\d) s$/;

describe('npm start', () => {
  let dataDir = '';
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs a session per demo machine, then finds them all compliant on the second run', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nightshift-demo-'));

    const first = await npmStart(dataDir);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstLines = first.stdout.trimEnd().split('\n');
    const firstSummary = SUMMARY.exec(firstLines.at(-1) ?? '');
    expect(firstSummary, first.stdout).not.toBeNull();
    expect(firstSummary?.[1]).toBe('3');
    // 3 detections + 3 verifications + 15 actions in the demo fleet
    expect(firstSummary?.[3]).toBe('21');
    expect(first.stdout).toMatch(/Update\s+7-Zip\s+23\.01\s+25\.01\s+Success/);
    expect(first.stdout).toMatch(/Update\s+Mozilla Firefox\s+128\.0\.3\s+145\.0\.1\s+Success/);
    expect(first.stdout).toMatch(/Uninstall\s+Zoom Workplace\s+6\.0\.2\s+removed\s+Success/);
    expect(first.stdout).toMatch(/Install\s+PipeWire audio server\s+absent\s+1\.4\.9\s+Success\s+\S+ s\s+prerequisite/);
    expect(first.stdout).toMatch(/TaskEnforce\s+Host firewall enabled\s+not compliant\s+compliant\s+Success/);
    expect(first.stdout).not.toContain('did not pass');
    // the schedule scene: fired on the runtime clock, the failing canary halts the ring, skips say why
    expect(first.stdout).toMatch(/run\s+Halted — ring canary: 0 of 1 session\(s\) passed \(0%\), below the 100% it needs/);
    expect(first.stdout).toMatch(/counts\s+5 targeted, 1 started, skipped 1 Offline, 1 NoApplicableDeployments, 1 TenantDisabled; 0 passed, 1 failed, 1 waiting for their ring/);
    expect(first.stdout).toMatch(/events\s+RunStarted → RunHalted/);
    expect(first.stdout).toMatch(/Reception desk\s+canary\s+Failed/);
    expect(first.stdout).toMatch(/Partner's workstation\s+office\s+not started/);
    expect(first.stdout).toMatch(/Associate's laptop\s+skipped: offline/);
    // the end users were mailed: Ana and Ben a detection and a follow-up each, Carla tonight's detection email with its links
    expect(first.stdout).toMatch(/Carla Mendes's laptop: maintenance waits for its window, .+ \(session ses_\w+\)/);
    expect(first.stdout).toMatch(/email\s+detection email sent to carla\.mendes@contoso-dental\.example, with Postpone, Cancel and Run-now links/);
    expect(first.stdout).toMatch(/sent\s+5 email\(s\) to end users this run/);

    const second = await npmStart(dataDir);
    expect(second.code).toBe(0);
    expect(second.stdout.match(/— Passed in [\d.]+ s — nothing to do/g)).toHaveLength(3);
    const secondSummary = SUMMARY.exec(second.stdout.trimEnd().split('\n').at(-1) ?? '');
    // the three detections, and the file server's disk audit (an observation: no verification after it)
    expect(secondSummary?.[3]).toBe('4');
    expect(second.stdout).toMatch(/observed: Disk usage report: used: \S+/);
    // the schedule (updated to fire again) makes a new run, and the canary halts it again
    expect(second.stdout).toMatch(/run\s+Halted — ring canary/);
    // tonight's session from the first run was replaced by a new one, which waits again
    expect(second.stdout).toMatch(/Carla Mendes's laptop: maintenance waits for its window/);
    // two demo runs, each starting the runtime, two sandboxes' worth of sessions and a schedule: minutes on a loaded CI machine
  }, 180_000);
});
