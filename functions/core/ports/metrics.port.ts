/**
 * Every metric Nightshift emits, with its unit: the one list the adapters,
 * the dashboards and the README read. Names are CloudWatch metric names in
 * the `Nightshift` namespace.
 */
export const METRIC_UNITS = {
  /** A session record was created (not a repeated start of the same one). */
  SessionsStarted: 'Count',
  /** A session ended Passed: counted by the write that ended it, so a retried step counts nothing. */
  SessionsPassed: 'Count',
  /** A session ended PartialPassed (only non-critical deployments failed). */
  SessionsPartiallyPassed: 'Count',
  /** A session ended Failed, whichever of the report, the workflow's Catch, `execution-ended` or the sweeper ended it. */
  SessionsFailed: 'Count',
  /**
   * Of those, the ones no operator expects: Nightshift broke (INTERNAL), a step
   * or the workflow ran out of time, an execution was stopped by hand or never
   * began, or the configuration is wrong. An offline laptop or a refused
   * script is a routine failure and is not counted here; this is what pages.
   */
  SessionsFailedUnexpectedly: 'Count',
  /** Actions of an ended session that ran a command on the computer. */
  ActionsRun: 'Count',
  /** A schedule fired and its run was created (a redelivered fire counts nothing). */
  ScheduleRunsStarted: 'Count',
  /** Computers a run skipped (offline, nothing deployed, already busy, tenant disabled, start failed). */
  ScheduleTargetsSkipped: 'Count',
  /** Run or session events that could not be published to the event bus (logged with their content). */
  EventsNotPublished: 'Count',
  /** An end-user email was handed to SES (counted once per session, kind and variant). */
  EmailsSent: 'Count',
  /** An end-user email could not be sent; the session went on and its log says why. */
  EmailsFailed: 'Count',
  /** SES reported an end-user email undelivered (bounced, reported as spam, rejected), once per report; its session's log says to whom and why. */
  EmailsUndelivered: 'Count',
  /** An end-user decision taken through an email link (postpone, cancel, run now). */
  EndUserDecisions: 'Count',
  /** Schedule triggers the reconcile sweep found missing, different or orphaned, and fixed. */
  ScheduleTriggerDrift: 'Count',
  /** How long past its due time the most overdue worklist entry a reconciler run handled was (0 when none was due). */
  ReconcilerLagSeconds: 'Seconds',
} as const;

export type MetricName = keyof typeof METRIC_UNITS;
type NamesWithUnit<U> = { [K in MetricName]: (typeof METRIC_UNITS)[K] extends U ? K : never }[MetricName];
export type CountMetric = NamesWithUnit<'Count'>;
export type SecondsMetric = NamesWithUnit<'Seconds'>;

/**
 * Operational metrics. Adapters buffer what an invocation records and publish
 * it once when the invocation ends (CloudWatch EMF in Lambda); nothing here
 * waits or fails, so a use case records after the write it counts.
 */
export interface Metrics {
  /** Adds `value` (1 when omitted) to a count. */
  count(name: CountMetric, value?: number): void;
  /** Records one observation of a duration, e.g. a lag. */
  seconds(name: SecondsMetric, valueSeconds: number): void;
}
