import type { RunTarget as CoreRunTarget, ScheduleRun as CoreScheduleRun, SkipReason } from '../../../functions/core/model/schedule-run.js';
import type { RunCost } from '../../../functions/core/model/usage.js';
import type { SchedulePreview as CoreSchedulePreview } from '../../../functions/core/use-cases/preview-schedule.js';

/**
 * The run and preview shapes the API answers. Its document declares them as
 * `z.custom<T>()` (opaque objects), so the generated types say nothing about
 * them; these are the core's `T`, which is what the routes answer. When
 * console/scripts/openapi.ts maps them (its CORE_TYPES), these go.
 */
export type ScheduleRun = CoreScheduleRun;
export type ScheduleRunWithCost = CoreScheduleRun & { readonly cost?: RunCost };
export type RunTarget = CoreRunTarget;
export type SchedulePreview = CoreSchedulePreview;
export type RunStatus = CoreScheduleRun['status'];
export type { SkipReason };

export interface RunTargetPage {
  readonly items: readonly RunTarget[];
  readonly nextCursor?: string;
}

/** The answer of a route whose document type is opaque, as the core type the route returns. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T is the core type the route answers, named at each call: what the generated types cannot say
export const asCore = <T>(body: unknown): T => body as T;
