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

/** The parts of a trigger a schedule chooses. */
export type TriggerSpecField = Exclude<keyof ScheduleTriggerSpec, 'scheduleId'>;

/**
 * The parts of a trigger no schedule chooses: how a fire is delivered, which
 * the runtime fixes (the stack's resources in AWS, the runtime's options
 * locally) and put() writes the same for every trigger. One that differs was
 * changed behind Nightshift's back, e.g. by hand in the console.
 * - `target`: what the fire invokes (the `fire-schedule` function);
 * - `role`: whom the scheduler invokes it as;
 * - `deadLetterQueue`: where a fire that cannot be delivered goes;
 * - `retryPolicy`: how often and for how long delivery is tried;
 * - `input`: what the target is handed (a `ScheduleFireEvent`);
 * - `activePeriod`: a start or end date; put() sets none, a trigger fires for as long as it exists.
 */
export type TriggerDeliveryField = 'target' | 'role' | 'deadLetterQueue' | 'retryPolicy' | 'input' | 'activePeriod';

export type TriggerField = TriggerSpecField | TriggerDeliveryField;

/** A trigger as the scheduler holds it. */
export interface HeldScheduleTrigger extends ScheduleTriggerSpec {
  /**
   * The delivery parts that are not what put() would write, each named once;
   * absent or empty when the trigger delivers as put() makes it. The adapter
   * tells, as only it knows what it writes; the sweep repairs by put().
   */
  readonly deliveryDrift?: readonly TriggerDeliveryField[];
}

export interface ScheduleTriggerPort {
  /** Creates the trigger, or makes an existing one match `spec` exactly, its delivery included. */
  put(spec: ScheduleTriggerSpec): Promise<void>;
  /** Removes the trigger; one that does not exist is fine. */
  delete(scheduleId: string): Promise<void>;
  /** Every trigger Nightshift holds, as the scheduler holds it, for the reconcile sweep to compare with the table. */
  list(): Promise<HeldScheduleTrigger[]>;
}

/** What the trigger hands the `fire-schedule` handler. */
export interface ScheduleFireEvent {
  readonly scheduleId: string;
  /** When the occurrence was due (ISO 8601), the same on every redelivery: it keys the run. */
  readonly scheduledTime: string;
}
