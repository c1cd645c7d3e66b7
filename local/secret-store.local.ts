import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SecretStore } from '../functions/core/ports/secret-store.port.js';
import { NODE_TENANT_TAG } from '../functions/core/catalog/secrets.js';

/** Owner read and write only, like a credentials file: the one place a secret lives locally. */
const PRIVATE_FILE_MODE = 0o600;

/**
 * Where the sandbox machines find their `aws` command: the sandbox agent puts
 * `<machines folder>/.bin` first on every script's PATH. No machine folder can
 * be named `.bin` (names start with a letter or digit).
 */
/** How the sandbox agent tells its `aws` the node role's `nightshift:tenant` tag. */
export const SANDBOX_ROLE_TENANT_VARIABLE = 'NIGHTSHIFT_SANDBOX_ROLE_TENANT';

export const sandboxBinDir = (machinesDir: string): string => path.join(machinesDir, '.bin');

/**
 * The local twin of SSM Parameter Store SecureString parameters: one file in
 * the runtime's data folder, mode 0600, a line per secret (`reference`, tab,
 * the value in base64, so any value fits on one line). Not encrypted: the
 * data folder is the developer's own, and the sandbox is a simulation, not a
 * security boundary. Writes replace the file atomically (a temporary file,
 * created 0600, renamed over it), one at a time, so a script reading it
 * mid-save sees the old secrets or the new ones, never half a file.
 */
export class LocalSecretStore implements SecretStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /**
   * Opens (or creates) the store and installs the sandbox's `aws` command
   * reading from it, so scripts resolve their secret references on the
   * "computer" exactly as they do with the AWS CLI on a real one.
   */
  static async open(file: string, machinesDir: string): Promise<LocalSecretStore> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '', { flag: 'a', mode: PRIVATE_FILE_MODE });
    // a file left by an older run, or copied with looser permissions, is made private again
    await chmod(file, PRIVATE_FILE_MODE);
    const binDir = sandboxBinDir(machinesDir);
    await mkdir(binDir, { recursive: true });
    await writeFile(path.join(binDir, 'aws'), sandboxAwsCli(file), { mode: 0o755 });
    await chmod(path.join(binDir, 'aws'), 0o755);
    return new LocalSecretStore(file);
  }

  put(reference: string, value: string): Promise<void> {
    return this.update((secrets) => secrets.set(reference, value));
  }

  delete(references: readonly string[]): Promise<void> {
    return this.update((secrets) => {
      for (const reference of references) secrets.delete(reference);
    });
  }

  /** For tests: what the computer would read. */
  async get(reference: string): Promise<string | undefined> {
    return (await this.read()).get(reference);
  }

  private update(change: (secrets: Map<string, string>) => void): Promise<void> {
    const next = this.writing.then(async () => {
      const secrets = await this.read();
      change(secrets);
      const text = [...secrets].map(([reference, value]) => `${reference}\t${Buffer.from(value, 'utf8').toString('base64')}\n`).join('');
      const temporary = `${this.file}.${randomUUID()}.tmp`;
      await writeFile(temporary, text, { mode: PRIVATE_FILE_MODE });
      await rename(temporary, this.file);
    });
    // a failed write must not stop the ones after it
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<Map<string, string>> {
    const text = await readFile(this.file, 'utf8');
    const secrets = new Map<string, string>();
    for (const line of text.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) secrets.set(line.slice(0, tab), Buffer.from(line.slice(tab + 1), 'base64').toString('utf8'));
    }
    return secrets;
  }
}

/** A path inside single quotes in bash. */
const quoted = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/**
 * The sandbox's stand-in for the AWS CLI. It answers the one call scripts
 * make, `aws ssm get-parameter --name <reference> --with-decryption --query
 * Parameter.Value --output text`, from the local store, with the real CLI's
 * output (the value and a newline) and its failures: ParameterNotFound on
 * standard error with exit 254, usage errors with exit 252. Anything else it
 * refuses, so a script that depends on more of the CLI fails here first.
 */
function sandboxAwsCli(storeFile: string): string {
  return `#!/usr/bin/env bash
# Nightshift sandbox: the AWS CLI's "ssm get-parameter", answered from the local secret store.
store=${quoted(storeFile)}
usage() { printf 'aws: error: %s\\n' "$1" >&2; exit 252; }
denied() {
  printf '\\nAn error occurred (AccessDeniedException) when calling the GetParameter operation: the sandbox node (role tag ${NODE_TENANT_TAG}=%s) is not authorized to perform: ssm:GetParameter on resource: %s\\n' "\${tenant:-none}" "$name" >&2
  exit 254
}
[ "$1" = ssm ] && [ "$2" = get-parameter ] || usage "the Nightshift sandbox answers only 'aws ssm get-parameter'"
shift 2
name='' decrypt='' query='' output=''
while [ $# -gt 0 ]; do
  case "$1" in
    --name) [ $# -ge 2 ] || usage 'argument --name: expected one argument'; name=$2; shift 2 ;;
    --name=*) name=\${1#--name=}; shift ;;
    --with-decryption) decrypt=1; shift ;;
    --query) [ $# -ge 2 ] || usage 'argument --query: expected one argument'; query=$2; shift 2 ;;
    --query=*) query=\${1#--query=}; shift ;;
    --output) [ $# -ge 2 ] || usage 'argument --output: expected one argument'; output=$2; shift 2 ;;
    --output=*) output=\${1#--output=}; shift ;;
    --region|--profile) shift 2 ;;
    --region=*|--profile=*) shift ;;
    *) usage "unknown option: $1" ;;
  esac
done
[ -n "$name" ] || usage 'the following arguments are required: --name'
[ -n "$decrypt" ] || usage 'the Nightshift sandbox stores SecureString parameters only: add --with-decryption'
[ "$query" = Parameter.Value ] && [ "$output" = text ] || usage 'the Nightshift sandbox answers only --query Parameter.Value --output text'
# the node policy: shared secrets, and those of the tenant the node's role is tagged with
tenant=\${${SANDBOX_ROLE_TENANT_VARIABLE}-}
case "$name" in
  /nightshift/secrets/shared/*) ;;
  /nightshift/secrets/tenants/"$tenant"/*) [ -n "$tenant" ] || denied ;;
  *) denied ;;
esac
while IFS=$'\\t' read -r reference value; do
  if [ "$reference" = "$name" ]; then
    printf '%s' "$value" | base64 -d || exit 255
    printf '\\n'
    exit 0
  fi
done < "$store"
printf '\\nAn error occurred (ParameterNotFound) when calling the GetParameter operation: \\n' >&2
exit 254
`;
}
