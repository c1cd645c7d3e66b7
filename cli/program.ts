import { Command, CommanderError } from 'commander';
import { accessCommands } from './commands/access.js';
import { auditCommands } from './commands/audit.js';
import { brandingCommands } from './commands/branding.js';
import { catalogCommands } from './commands/catalog.js';
import { scheduleCommands } from './commands/schedules.js';
import { sessionCommands } from './commands/sessions.js';
import { Cli, type CliIo } from './context.js';
import { CliError, EXIT } from './errors.js';

export type { CliIo } from './context.js';

/**
 * The `nightshift` command tree. Thin on purpose: each command parses its
 * arguments, makes one request through the typed client, and formats the
 * answer (views.ts) or prints it unchanged (`--json`).
 */
export function createProgram(io: CliIo): Command {
  const cli = new Cli(io);
  const program = new Command('nightshift')
    .description('Nightshift from the command line: maintenance sessions, schedules, runs and the fleet, through the operator API')
    .option('--json', "print the API's JSON unchanged (for scripts: PSA, RMM, jq)")
    .option('--api-url <url>', 'the API to talk to (overrides NIGHTSHIFT_API_URL and the stored login)')
    .option('--no-color', 'no colours, even on a terminal (NO_COLOR does the same)')
    // before any subcommand is added: commander copies these settings into each one
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Configuration: \`nightshift login\` stores the API URL and token; NIGHTSHIFT_API_URL and
NIGHTSHIFT_TOKEN override them; with neither, the local API of \`npm start\` is used.
Times are shown in your time zone (TZ). Exit codes: 0 done, 1 the API refused (the
code and the field at fault are printed), 2 a usage mistake, 3 the API cannot be reached.

Example:
  $ nightshift sessions list --status Failed --since 24h
`,
    );

  accessCommands(program, cli);
  sessionCommands(program, cli);
  scheduleCommands(program, cli);
  catalogCommands(program, cli);
  auditCommands(program, cli);
  brandingCommands(program, cli);
  return program;
}

/**
 * Runs one command line (without `node` and the script) and answers its exit
 * code; errors are printed to stderr as `error: <code>: <message>` (and
 * `field: <field>`), never as a stack.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    // commander has printed its own message (or the help) already
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      for (const line of error.lines()) io.stderr.write(`${line}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
