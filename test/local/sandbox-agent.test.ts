import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxAgent, type CommandStatusEvent } from '../../local/sandbox-agent.js';

describe('the sandbox agent on its own', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports a command it could not run (broken machine descriptor) as Failed instead of going quiet', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nightshift-sandbox-'));
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
});
