import { DeleteParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigurationError, TransientError } from '../core/errors.js';
import type { SecretStore } from '../core/ports/secret-store.port.js';
import { errorName, translateAwsError } from './aws-errors.js';

export interface SsmSecretStoreOptions {
  /**
   * The KMS key that encrypts the values.
   * @default the account's AWS managed key for SSM (`alias/aws/ssm`), which needs no key policy or IAM grant for KMS
   */
  readonly kmsKeyId?: string;
}

/** DeleteParameters takes at most 10 names per call. */
const DELETE_BATCH = 10;

/**
 * Secrets as SSM Parameter Store SecureString parameters, which the
 * computers read themselves (`aws ssm get-parameter --with-decryption`,
 * `Get-SSMParameter -WithDecryption`) with their instance role.
 *
 * Failures never carry the SDK's message: a validation message can quote
 * the request, and the request holds the value. Only the error's name and
 * the reference reach the caller (and so the logs).
 */
export class SsmSecretStore implements SecretStore {
  constructor(
    private readonly ssm: SSMClient,
    private readonly options: SsmSecretStoreOptions = {},
  ) {}

  async put(reference: string, value: string): Promise<void> {
    try {
      await this.ssm.send(
        new PutParameterCommand({
          Name: reference,
          Value: value,
          Type: 'SecureString',
          // standard tier: free, 4 KB values (save-catalog refuses larger secrets before they get here)
          Tier: 'Standard',
          Overwrite: true,
          ...(this.options.kmsKeyId === undefined ? {} : { KeyId: this.options.kmsKeyId }),
        }),
      );
    } catch (error) {
      throw withoutDetails(error, `storing secret ${reference}`);
    }
  }

  async delete(references: readonly string[]): Promise<void> {
    for (let start = 0; start < references.length; start += DELETE_BATCH) {
      const names = references.slice(start, start + DELETE_BATCH);
      try {
        // names with nothing stored come back as InvalidParameters, which is what "already gone" looks like
        await this.ssm.send(new DeleteParametersCommand({ Names: names }));
      } catch (error) {
        throw withoutDetails(error, `deleting secrets ${names.join(', ')}`);
      }
    }
  }
}

/** What an operator can do about the permanent failures worth naming. */
const HINTS: Readonly<Record<string, string>> = {
  AccessDeniedException: 'the function needs ssm:PutParameter and ssm:DeleteParameters on parameter/nightshift/secrets/*, and kms:Encrypt when a customer managed key encrypts them',
  ParameterLimitExceeded: 'the account holds as many standard parameters as SSM allows in this Region',
  ParameterMaxVersionLimitExceeded: 'the parameter has 100 versions and the oldest carries a label, so SSM will not drop it for a new one',
};

function withoutDetails(error: unknown, doing: string): Error {
  const name = errorName(error);
  // the cause is dropped on purpose: its message may quote the value
  if (translateAwsError(error, doing) instanceof TransientError) return new TransientError(`${doing} failed: ${name}`);
  const hint = HINTS[name];
  return new ConfigurationError(`${doing} failed: ${name}${hint === undefined ? '' : `; ${hint}`}`);
}
