import type { LambdaArchitecture } from '../core/model/usage.js';

/**
 * How every Nightshift function is deployed, in one place beside the
 * registry: the CDK stack sizes the functions from it, the local runtime
 * hands handlers the same memory in their context, and a session's cost
 * counts GB-seconds and prices them by it. Plain data, so the CDK app can
 * read it without importing handler code.
 */
export const FUNCTION_SETTINGS: { readonly memoryMb: number; readonly architecture: LambdaArchitecture } = {
  /** MB, for every function; Lambda bills duration times this (and gives CPU in proportion). */
  memoryMb: 512,
  /** Graviton: a GB-second costs 20 % less than on x86_64. */
  architecture: 'arm64',
};
