/**
 * Where secret task parameter values live, by reference (see
 * `core/catalog/secrets.ts`): SSM Parameter Store SecureString parameters in
 * AWS, a 0600 file in the local runtime's data folder. Only saving a
 * deployment writes here; nothing in Nightshift reads a value back — the
 * computer does, when its script runs.
 */
export interface SecretStore {
  /** Stores the value under the reference, encrypted at rest, replacing any value stored there before. */
  put(reference: string, value: string): Promise<void>;
  /** Removes the values under these references; a reference with nothing stored is fine. */
  delete(references: readonly string[]): Promise<void>;
}
