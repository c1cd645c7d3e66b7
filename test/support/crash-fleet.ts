/**
 * The fleet the crash-resume test kills its runtime over, shared by the
 * runner (which builds it) and the test (which knows what every session must
 * end as). Times are seconds after `t0`, on the wall clock: the runner is a
 * real process on the real clock, killed and started again many times.
 */
import type { Deployment, Software } from '../../functions/core/model/catalog.js';
import type { SessionOptions, SessionStatus } from '../../functions/core/model/session.js';
import { everywhere, testComputer, testSoftware } from './fleet.js';

/** An installer that leaves one line per run in `runs/<id>`, so a second run of the same action shows on disk. */
function countingSoftware(id: string, options: { reboot?: boolean; slowSeconds?: number } = {}): Software {
  return {
    ...testSoftware(id, '1.0'),
    installScript: [
      'set -eu',
      `mkdir -p "$NIGHTSHIFT_ROOT/opt/${id}" "$NIGHTSHIFT_ROOT/runs"`,
      `printf '%s\\n' "$NIGHTSHIFT_VERSION" > "$NIGHTSHIFT_ROOT/opt/${id}/VERSION"`,
      // after the work, so whoever sees the line knows the version is in place
      `echo run >> "$NIGHTSHIFT_ROOT/runs/${id}"`,
      ...(options.slowSeconds ? [`sleep ${options.slowSeconds}`] : []),
      ...(options.reboot ? ['echo NIGHTSHIFT-REBOOT-REQUIRED'] : []),
      '',
    ].join('\n'),
  };
}

export interface CrashSession {
  readonly sessionId: string;
  readonly machine: string;
  /** Deployed (to this computer only) just before the session starts. */
  readonly software: readonly string[];
  readonly options: (t0Ms: number) => Partial<SessionOptions>;
  readonly expected: {
    readonly status: SessionStatus;
    /** A restart action ends the session's execution. */
    readonly restart: boolean;
    readonly rebootPending?: boolean;
    /** Execution starts no earlier than this, in seconds after t0. */
    readonly executeAfterSeconds?: number;
    readonly failureCode?: string;
  };
}

export interface CrashMachine {
  readonly name: string;
  readonly agentId: string;
  readonly latencyMs: number;
  /** Absent: online from the start. */
  readonly onlineAfterSeconds?: number | 'never';
  /** Restarts the machine must have gone through, exactly. */
  readonly boots: number;
}

/** Installs this software, the power cut comes while its installer sleeps: an action interrupted for good. */
export const INTERRUPTED_SOFTWARE = 'pslow';
/** The machine that installer runs on: the one the power cut takes down with the runtime. */
export const INTERRUPTED_MACHINE = 'plain';

export const CRASH_MACHINES: readonly CrashMachine[] = [
  { name: 'plain', agentId: 'i-00000000000c4a501', latencyMs: 150, boots: 0 },
  { name: 'reboot', agentId: 'i-00000000000c4a502', latencyMs: 150, boots: 2 },
  { name: 'offline', agentId: 'i-00000000000c4a503', latencyMs: 150, onlineAfterSeconds: 14, boots: 2 },
  { name: 'window', agentId: 'i-00000000000c4a504', latencyMs: 150, boots: 0 },
  { name: 'unreachable', agentId: 'i-00000000000c4a505', latencyMs: 150, onlineAfterSeconds: 'never', boots: 0 },
];

const at = (t0Ms: number, seconds: number) => new Date(t0Ms + seconds * 1000).toISOString();

/** Two waves per machine: the second session starts when the first has ended, with new software for the computer. */
export const CRASH_SESSIONS: readonly CrashSession[] = [
  { sessionId: 'crash-plain-1', machine: 'plain', software: ['p1', INTERRUPTED_SOFTWARE, 'p2'], options: () => ({}), expected: { status: 'Passed', restart: false } },
  { sessionId: 'crash-plain-2', machine: 'plain', software: ['p3', 'p4'], options: () => ({}), expected: { status: 'Passed', restart: false } },
  { sessionId: 'crash-reboot-1', machine: 'reboot', software: ['r1', 'r2'], options: () => ({ reboot: 'IfNecessary' }), expected: { status: 'Passed', restart: true } },
  { sessionId: 'crash-reboot-2', machine: 'reboot', software: ['r3'], options: () => ({ reboot: 'IfNecessary' }), expected: { status: 'Passed', restart: true } },
  {
    sessionId: 'crash-offline-1',
    machine: 'offline',
    software: ['o1', 'o2'],
    options: () => ({ reboot: 'Force', offline: 'ApplyOnConnect' }),
    expected: { status: 'Passed', restart: true },
  },
  { sessionId: 'crash-offline-2', machine: 'offline', software: ['o3'], options: () => ({ reboot: 'Force' }), expected: { status: 'Passed', restart: true } },
  {
    sessionId: 'crash-window-1',
    machine: 'window',
    software: ['w1', 'w2'],
    options: (t0Ms) => ({ reboot: 'Suppress', executeAt: at(t0Ms, 20) }),
    expected: { status: 'Passed', restart: false, rebootPending: true, executeAfterSeconds: 20 },
  },
  {
    sessionId: 'crash-window-2',
    machine: 'window',
    software: ['w3'],
    options: (t0Ms) => ({ reboot: 'Suppress', executeAt: at(t0Ms, 32) }),
    expected: { status: 'Passed', restart: false, executeAfterSeconds: 32 },
  },
  {
    sessionId: 'crash-unreachable-1',
    machine: 'unreachable',
    software: ['u1'],
    options: () => ({ offline: 'Skip' }),
    expected: { status: 'Failed', restart: false, failureCode: 'AGENT_UNREACHABLE' },
  },
];

const REBOOTING = new Set(['r1', 'r3', 'w1']);

export const crashSoftware = (): Software[] =>
  CRASH_SESSIONS.flatMap((session) => session.software).map((id) =>
    countingSoftware(id, { reboot: REBOOTING.has(id), ...(id === INTERRUPTED_SOFTWARE ? { slowSeconds: 3 } : {}) }),
  );

export const crashComputer = (machine: CrashMachine) => testComputer(`crash-${machine.name}`, machine.agentId);

/** The session's software, deployed to its computer alone, so a later wave adds to what an earlier one installed. */
export const crashDeployments = (session: CrashSession): Deployment[] =>
  session.software.map((id) => everywhere(id, { id: `deploy-${id}`, target: { kind: 'Computer', computerId: `crash-${session.machine}` } }));
