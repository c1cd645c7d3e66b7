#!/usr/bin/env tsx
/**
 * The `nightshift` binary: the program of program.ts on the real process.
 * Everything testable lives there; this file only wires the process in.
 */
import { runCli } from './program.js';

// `nightshift sessions list | head`: the reader leaving early is not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // read only by the commands that take stdin: touching process.stdin opens it
  get stdin() {
    return process.stdin;
  },
});
