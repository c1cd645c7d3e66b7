/**
 * A sandbox agent in a process of its own, for tests that kill it: sends the
 * commands it is given (argv[2], JSON), prints their ids as one JSON line,
 * then keeps running its commands until the test SIGKILLs it.
 */
import type { AgentCommand } from '../../functions/core/model/agent.js';
import { SandboxAgent, type MachineDescriptor } from '../../local/sandbox-agent.js';

interface ChildInput {
  readonly machinesDir: string;
  readonly machine: MachineDescriptor;
  readonly commands: readonly AgentCommand[];
}

const input = JSON.parse(process.argv[2] ?? '{}') as ChildInput;
const agent = new SandboxAgent({ machinesDir: input.machinesDir, onEvent: () => Promise.resolve(), pollMs: 10 });
await agent.discover();
await agent.addMachine(input.machine);
const ids: string[] = [];
for (const command of input.commands) ids.push((await agent.send(command)).commandId);
process.stdout.write(`${JSON.stringify(ids)}\n`);
// alive until killed
setInterval(() => undefined, 60_000);
