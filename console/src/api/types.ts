import type { components } from './schema.js';

/**
 * The API's shapes as the console names them, all from the generated
 * document types (schema.d.ts). Types only: pure modules (and their tests,
 * which run in Node) take them from here without loading the client.
 */
export type Schemas = components['schemas'];
export type SessionSummary = Schemas['SessionSummary'];
export type SessionStatusCounts = Schemas['SessionStatusCounts'];
export type SessionReport = Schemas['SessionReport'];
export type SessionLogEntry = Schemas['SessionLogPage']['entries'][number];
export type SessionStatus = SessionSummary['status'];
export type Principal = Schemas['Principal'];
