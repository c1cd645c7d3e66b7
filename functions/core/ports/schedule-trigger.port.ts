/**
 * What fires schedules: one EventBridge Scheduler schedule per Nightshift
 * schedule in AWS (in Nightshift's schedule group), croner on the runtime
 * clock locally. Each fire invokes the `fire-schedule` handler with the
 * schedule id and the time it was due.
 */
export interface ScheduleTriggerSpec {
  readonly scheduleId: string;
  /** EventBridge form, e.g. `cron(0 14 ? * TUE *)`; see `schedules/cron.ts`. */
  readonly expression: string;
  /** The IANA zone the expression is read in. */
  readonly timeZone: string;
  readonly enabled: boolean;
  /** Minutes Scheduler may fire late to spread load; 0 fires on the minute. */
  readonly flexibleWindowMinutes: number;
}

export interface ScheduleTriggerPort {
  /** Creates the trigger, or makes an existing one match `spec` exactly. */
  put(spec: ScheduleTriggerSpec): Promise<void>;
  /** Removes the trigger; one that does not exist is fine. */
  delete(scheduleId: string): Promise<void>;
  /** Every trigger Nightshift holds, as the scheduler holds it, for the reconcile sweep to compare with the table. */
  list(): Promise<ScheduleTriggerSpec[]>;
}

/** What the trigger hands the `fire-schedule` handler. */
export interface ScheduleFireEvent {
  readonly scheduleId: string;
  /** When the occurrence was due (ISO 8601), the same on every redelivery: it keys the run. */
  readonly scheduledTime: string;
}
