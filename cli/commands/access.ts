import { Option, type Command } from 'commander';
import { configPath, parseLogin, writeConfig } from '../config.js';
import { example, type Cli } from '../context.js';
import { UsageError } from '../errors.js';
import { principal } from '../views.js';

export function accessCommands(program: Command, cli: Cli): void {
  example(
    program
      .command('login')
      .description(`store the API URL and token in ${configPath({ HOME: '~' })} (mode 0600; $XDG_CONFIG_HOME is honoured)`)
      .requiredOption('--url <url>', 'the API base URL, without /v1 (npm start serves http://127.0.0.1:8787)')
      .addOption(new Option('--token <jwt>', 'the bearer token (visible in shell history: prefer --token-stdin)').conflicts('tokenStdin'))
      .option('--token-stdin', 'read the token from stdin')
      .action(async (options: { url: string; token?: string; tokenStdin?: boolean }) => {
        const token = options.tokenStdin === true ? await cli.readStdin() : options.token;
        if (token === undefined) throw new UsageError('give the token with --token <jwt> or --token-stdin');
        const config = parseLogin({ url: options.url, token });
        const path = await writeConfig(cli.io.env, config);
        // the token itself is never printed: it is an operator's credential
        cli.out(`Saved the API URL ${config.apiUrl} and the token to ${path}.`);
        cli.note('Check it with: nightshift whoami');
      }),
    'nightshift login --url http://127.0.0.1:8787 --token-stdin < token.txt',
    'nightshift login --url https://api.msp.example --token "$JWT"',
  );

  example(
    program
      .command('whoami')
      .description('who the token says you are: name, role and tenant (GET /v1/me)')
      .action(async (_options: unknown, command: Command) => {
        const api = await cli.api(command);
        const me = await api.call(api.client.GET('/v1/me'));
        cli.show(command, me, (data, view) => principal(data, api.connection.apiUrl, view));
      }),
    'nightshift whoami',
    'nightshift whoami --json | jq -r .role',
  );
}
