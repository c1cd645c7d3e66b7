/**
 * Every Lambda handler, once. The CDK stack creates one function per entry
 * and the local runtime loads the same modules; the state machine reaches the
 * step handlers through `${<substitution>}` placeholders in its ASL file.
 * Plain data on purpose: the CDK app reads it without importing handler code.
 */
export interface HandlerEntry {
  /** Function name suffix and log name. */
  readonly name: string;
  /** Module path from the repository root; it exports `handler` (Lambda) and `createHandler` (local runtime). */
  readonly entry: string;
  /** The ASL placeholder that stands for this function's ARN, for handlers the state machine invokes. */
  readonly substitution?: string;
  readonly description: string;
}

export const HANDLERS: readonly HandlerEntry[] = [
  {
    name: 'start-session',
    entry: 'functions/handlers/start-session.ts',
    description: 'Creates a maintenance session (idempotently) and starts its workflow',
  },
  {
    name: 'prepare-session',
    entry: 'functions/handlers/prepare-session.ts',
    substitution: 'PrepareSessionFunctionArn',
    description: 'Resolves the deployments that apply to the computer and starts the session',
  },
  {
    name: 'dispatch-command',
    entry: 'functions/handlers/dispatch-command.ts',
    substitution: 'DispatchCommandFunctionArn',
    description: 'Sends a detection or action command to the computer and parks the task token',
  },
  {
    name: 'plan-session',
    entry: 'functions/handlers/plan-session.ts',
    substitution: 'PlanSessionFunctionArn',
    description: 'Plans the maintenance actions from the detected state',
  },
  {
    name: 'gate-session',
    entry: 'functions/handlers/gate-session.ts',
    substitution: 'GateSessionFunctionArn',
    description: 'The gate before execution: runs, ends, or parks its task token until the maintenance window',
  },
  {
    name: 'window-timer',
    entry: 'functions/handlers/window-timer.ts',
    description: "Target of a session's one-time window timer: wakes the gate waiting for the maintenance window",
  },
  {
    name: 'record-action-failure',
    entry: 'functions/handlers/record-action-failure.ts',
    substitution: 'RecordActionFailureFunctionArn',
    description: 'Records an action whose command could not be sent, so the session goes on without it',
  },
  {
    name: 'finish-execution',
    entry: 'functions/handlers/finish-execution.ts',
    substitution: 'FinishExecutionFunctionArn',
    description: 'Applies the reboot preference after the last action',
  },
  {
    name: 'report-session',
    entry: 'functions/handlers/report-session.ts',
    substitution: 'ReportSessionFunctionArn',
    description: 'Verifies the actions against the second detection and records the final status',
  },
  {
    name: 'record-failure',
    entry: 'functions/handlers/record-failure.ts',
    substitution: 'RecordFailureFunctionArn',
    description: 'Records why a session failed',
  },
  {
    name: 'postpone-session',
    entry: 'functions/handlers/postpone-session.ts',
    description: 'Moves a waiting session later, within its postpone limits',
  },
  {
    name: 'run-session-now',
    entry: 'functions/handlers/run-session-now.ts',
    description: "Pulls a waiting session's execution to now",
  },
  {
    name: 'cancel-session',
    entry: 'functions/handlers/cancel-session.ts',
    description: 'Cancels a session, stopping its running command',
  },
  {
    name: 'get-session-log',
    entry: 'functions/handlers/get-session-log.ts',
    description: "Reads a page of a session's log",
  },
  {
    name: 'save-catalog',
    entry: 'functions/handlers/save-catalog.ts',
    description: 'Validates and stores a tenant, computer, software, task or deployment',
  },
  {
    name: 'explain-computer',
    entry: 'functions/handlers/explain-computer.ts',
    description: 'Explains which deployment of each item applies to a computer, and why',
  },
  {
    name: 'reconcile-commands',
    entry: 'functions/handlers/reconcile-commands.ts',
    description: 'Polls agent commands whose completion event is overdue, so a lost event never leaves a session hanging',
  },
  {
    name: 'complete-command',
    entry: 'functions/handlers/complete-command.ts',
    description: 'Consumes SSM command status events and completes the waiting workflow step',
  },
  {
    name: 'execution-ended',
    entry: 'functions/handlers/execution-ended.ts',
    description: 'Records a session Failed when its workflow execution failed, timed out or was aborted',
  },
  {
    name: 'sweep-sessions',
    entry: 'functions/handlers/sweep-sessions.ts',
    description: 'Starts sessions left Created by a lost workflow start, and fails those that never began',
  },
];
