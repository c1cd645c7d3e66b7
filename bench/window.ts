/**
 * `npm run bench:window`: what waiting for the maintenance window costs. Three
 * sessions of three actions each wait 1, 7 and 14 days for their window on a
 * manual clock (the same gate, timer and handlers as in AWS, on the embedded
 * runtime), and the bench prints the state transitions each one took. A Step
 * Functions Standard workflow is billed per transition, so equal figures mean
 * a two-week wait costs what a one-minute wait costs.
 */
import { manualClock, everywhere, runtimeWithFleet, testComputer, testSoftware } from '../test/support/fleet.js';

const DAY_MS = 86_400_000;
const WAIT_DAYS = [1, 7, 14] as const;

const clock = manualClock(new Date('2026-11-23T14:00:00Z'));
const software = ['one', 'two', 'three'].map((id) => testSoftware(id, '2.0'));
const computers = WAIT_DAYS.map((days) => testComputer(`pc-${days}d`, `i-0000000000000${String(days).padStart(4, '0')}`));
const runtime = await runtimeWithFleet(
  { software, deployments: software.map((s) => everywhere(s.id)), machines: computers.map((computer) => ({ computer })) },
  { clock, timerPollMs: 5, agentPollMs: 5 },
);

try {
  const start = clock.now().getTime();
  const sessions = [];
  for (const [index, days] of WAIT_DAYS.entries()) {
    const executeAt = new Date(start + days * DAY_MS).toISOString();
    sessions.push((await runtime.startSession(computers[index]?.id ?? '', undefined, { executeAt })).sessionId);
  }
  const transitions: number[] = [];
  for (const [index, days] of WAIT_DAYS.entries()) {
    clock.advance(start + days * DAY_MS - clock.now().getTime());
    const outcome = await runtime.waitForSession(sessions[index] ?? '');
    if (outcome.session.status !== 'Passed' || outcome.actions.length !== 3) {
      throw new Error(`the ${days}-day session ended ${outcome.session.status} with ${outcome.actions.length} action(s)`);
    }
    transitions.push(outcome.stateTransitions);
  }
  process.stdout.write(`window: ${WAIT_DAYS.map((days, index) => `${days} day${days === 1 ? '' : 's'} ${transitions[index]} transitions`).join(', ')}\n`);
} finally {
  await runtime.close();
}
