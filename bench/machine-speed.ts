/**
 * What the machine was like while a bench measured: its speed of the hour and
 * what else kept its cores busy. Engine figures on the local runtime move
 * with both (bench/fleet.ts prints them beside its own), so two figures
 * compare only where these agree.
 *
 * The speed is a fixed piece of JavaScript of the kinds the engine spends its
 * overhead on (a session-sized record parsed, its text walked, an awaited
 * promise per round), timed on this process's event loop. On a quiet machine
 * it takes the same time to a few tenths of a millisecond from one run to the
 * next; on this two-core virtual machine, whose speed moves from one hour to
 * the next and which reports no steal time, it is how a slow hour shows.
 */
import { readdir, readFile } from 'node:fs/promises';

/** A session-sized record: about 12 KB of JSON, twenty items like the bench's frozen catalog entries. */
const RECORD = {
  id: 'ses_reference',
  status: 'Running',
  items: Array.from({ length: 20 }, (_, index) => ({
    key: `SOFTWARE#app${index + 1}`,
    itemId: `app${index + 1}`,
    name: `Application ${index + 1}`,
    desiredVersion: '2.0.0',
    critical: index % 4 === 0,
    parameters: { channel: 'stable', ring: index % 3, folder: `/opt/app${index + 1}` },
    explanation: `deployed to every computer of the tenant at its latest version, ${'a reason in words '.repeat(20)}`,
  })),
};

const RECORD_TEXT = JSON.stringify(RECORD);

/**
 * One pass: 200 rounds of parsing the record and walking its text, each behind
 * an awaited promise. Little of it outlives a round, so the time does not
 * depend on how large V8 has grown its young generation by then.
 */
async function onePass(): Promise<number> {
  let checksum = 0;
  for (let round = 0; round < 200; round++) {
    const parsed = JSON.parse(RECORD_TEXT) as typeof RECORD;
    checksum += parsed.items.filter((item) => item.critical).length;
    // FNV-1a over the text: string reads and integer arithmetic, as validation and key building do
    let hash = 0x811c9dc5;
    for (let index = 0; index < RECORD_TEXT.length; index++) hash = Math.imul(hash ^ RECORD_TEXT.charCodeAt(index), 0x01000193);
    checksum += hash & 1;
    await Promise.resolve();
  }
  return checksum;
}

/** The median time of `passes` passes, in ms, after one pass that is not timed (V8 compiles it). */
export async function referenceWorkloadMs(passes = 7): Promise<number> {
  let sink = await onePass();
  const times: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const start = performance.now();
    sink += await onePass();
    times.push(performance.now() - start);
  }
  // the checksum is used, so V8 cannot drop the work
  if (sink < 0) throw new Error('unreachable');
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on every Linux Node runs on). */
const TICKS_PER_SECOND = 100;

interface CpuSample {
  readonly atMs: number;
  /** Every core's busy time since boot (user, nice, system, irq, softirq, steal), in ticks. */
  readonly machineBusyTicks: number;
  /**
   * This process's time and its children's, in ticks: its own, that of the
   * children it has reaped, and that of those still running with what they
   * have reaped (the agent's launcher process, which runs the scripts).
   */
  readonly ownTicks: number;
}

interface ProcessTimes {
  readonly parentPid: number;
  /** utime + stime + cutime + cstime */
  readonly ticks: number;
}

/** /proc/<pid>/stat: the fields after the command name (which may hold spaces, inside its parentheses). */
function parseProcessStat(text: string): ProcessTimes {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
  // the third field of the line is fields[0]: ppid is the 4th, utime the 14th
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = fields.slice(11, 15);
  return { parentPid: fields[1] ?? 0, ticks: utime + stime + cutime + cstime };
}

/** A reading of the machine's and this process tree's CPU times; undefined where /proc cannot be read (not Linux). */
export async function sampleCpu(): Promise<CpuSample | undefined> {
  try {
    const [machine, own, entries] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/self/stat', 'utf8'), readdir('/proc')]);
    const children = await Promise.all(
      entries
        .filter((name) => /^\d+$/.test(name))
        // a process gone meanwhile is simply not counted
        .map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').then(parseProcessStat, () => undefined)),
    );
    const childTicks = children.filter((times) => times?.parentPid === process.pid).reduce((total, times) => total + (times?.ticks ?? 0), 0);
    const cpu = (machine.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    return { atMs: performance.now(), machineBusyTicks: user + nice + system + irq + softirq + steal, ownTicks: parseProcessStat(own).ticks + childTicks };
  } catch {
    return undefined;
  }
}

/** The other processes' CPU between two samples, as cores busy on average: what the measured sessions shared the machine with. */
export function otherLoadCores(before: CpuSample, after: CpuSample): number {
  const seconds = (after.atMs - before.atMs) / 1000;
  const otherTicks = after.machineBusyTicks - before.machineBusyTicks - (after.ownTicks - before.ownTicks);
  return seconds > 0 ? Math.max(0, otherTicks / TICKS_PER_SECOND / seconds) : 0;
}
