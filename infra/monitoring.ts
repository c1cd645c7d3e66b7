import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../functions/adapters/metrics.powertools.js';
import type { CountMetric } from '../functions/core/ports/metrics.port.js';

/**
 * The one dimension Powertools Metrics puts on every Nightshift metric
 * (`service`, the adapter's default); an alarm must name it to find the metric.
 */
export const METRIC_DIMENSIONS = { service: 'nightshift' } as const;

/** A workflow step failing on more than this share of its invocations for 15 minutes is an incident. */
const WORKFLOW_STEP_FAULT_RATE = 0.25;
/**
 * The operator API answers every client mistake with a 4xx and nothing else
 * with a 5xx (the fuzz test holds it to that), so 1% of a five-minute period
 * failing is a fault to look at; in a quiet period one failed request is.
 */
const API_SERVER_ERROR_RATE = 0.01;
/**
 * Most of an API's requests refused, for ten minutes running, with enough of
 * them to mean something: a script retrying with an expired token, an
 * integration sending the wrong body, or someone probing ids.
 */
const API_CLIENT_ERROR_SPIKE = { rate: 0.5, minRequests: 50, periods: 2 } as const;
/**
 * The slowest 1% of requests taking longer than this for 15 minutes: the
 * table or a port is slow, not a cold start (one per period at most).
 */
const API_LATENCY_P99 = Duration.seconds(5);

export interface NightshiftMonitoringProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Every handler's function, by registry name. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /** The functions the state machine invokes as steps (their errors are routed by Retry/Catch). */
  readonly workflowSteps: ReadonlySet<string>;
  /** The operator HTTP API (its `$default` stage). */
  readonly httpApi: apigwv2.IHttpApi;
  /** Where undeliverable events and failed asynchronous runs land: any message there is a session someone must look at. */
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;
  /**
   * An address subscribed to the alarm topic (it must confirm the subscription).
   * @default no subscription; subscribe to the topic in `AlarmTopicArn`
   */
  readonly alarmEmail?: string;
  /**
   * The reconciler's lag that raises an alarm. It runs every 5 minutes, so a
   * lag past this means lost completion events are waiting, not being picked up.
   * @default 15 minutes
   */
  readonly reconcilerLagAlarm?: Duration;
}

/**
 * Alarms and a dashboard (cdk-monitoring-constructs) for what an operator
 * must hear about: session executions that failed, timed out or were
 * aborted; a handler's errors or throttles; a reconciler falling behind; a
 * message in any dead-letter queue; run or session events that never reached
 * the event bus; the operator API failing, refusing most requests, or slow.
 * Every alarm notifies one SNS topic.
 */
export class NightshiftMonitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly facade: MonitoringFacade;

  constructor(scope: Construct, id: string, props: NightshiftMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // SNS's own AWS managed key does not let CloudWatch publish, so the topic has a key of its own that does
    const topicKey = new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Encrypts Nightshift alarm notifications' });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Nightshift alarms', masterKey: topicKey, enforceSSL: true });
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    new CfnOutput(stack, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'Subscribe here to hear every Nightshift alarm' });

    this.facade = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: {
        alarmNamePrefix: stack.stackName,
        actionsEnabled: true,
        // one bad five minutes is enough: each of these counts something that should never happen
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic }),
      },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: stack.stackName,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });

    // A timed-out or aborted execution never happens by design. A FAILED one does, routinely: every session that
    // fails (an offline laptop, a refused script) ends its workflow in the Fail state, so failures page through
    // SessionsFailedUnexpectedly below instead, and the dashboard still shows the failed executions.
    this.facade.monitorStepFunction({
      stateMachine: props.stateMachine,
      humanReadableName: 'Session workflow',
      alarmFriendlyName: 'SessionWorkflow',
      addTimedOutExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
      addAbortedExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
    });

    for (const [name, fn] of props.functions) {
      const workflowStep = props.workflowSteps.has(name);
      this.facade.monitorLambdaFunction({
        lambdaFunction: fn,
        humanReadableName: name,
        alarmFriendlyName: name,
        // A workflow step throws by design (an unreachable computer fails its session through the Catch; a dispatch
        // in progress is retried), so it alarms on a sustained share of failing invocations. Every other handler
        // either answers refusals without throwing or throws only what its event source will redeliver: any error counts.
        ...(workflowStep
          ? { addFaultRateAlarm: { Critical: { maxErrorRate: WORKFLOW_STEP_FAULT_RATE, datapointsToAlarm: 3, evaluationPeriods: 3 } } }
          : { addFaultCountAlarm: { Critical: { maxErrorCount: 0 } } }),
        addThrottlesCountAlarm: { Critical: { maxErrorCount: 0 } },
      });
    }

    this.facade.monitorCustom({
      humanReadableName: 'Sessions',
      alarmFriendlyName: 'Sessions',
      metricGroups: [
        {
          title: 'Sessions failed for a reason no operator expects',
          metrics: [
            {
              metric: new cloudwatch.Metric({
                namespace: METRICS_NAMESPACE,
                metricName: 'SessionsFailedUnexpectedly',
                dimensionsMap: METRIC_DIMENSIONS,
                statistic: cloudwatch.Stats.SUM,
                period: Duration.minutes(5),
              }),
              alarmFriendlyName: 'SessionsFailedUnexpectedly',
              addAlarm: { Critical: { threshold: 0, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD } },
            },
          ],
        },
      ],
    });

    // the MSP's PSA or chat missed a run or session event: the log holds each one, to be passed on by hand
    this.facade.monitorCustom({
      humanReadableName: 'Run and session events',
      alarmFriendlyName: 'Events',
      metricGroups: [
        {
          title: 'Events that could not be published to the event bus',
          metrics: [
            {
              metric: new cloudwatch.Metric({
                namespace: METRICS_NAMESPACE,
                metricName: 'EventsNotPublished' satisfies CountMetric,
                dimensionsMap: METRIC_DIMENSIONS,
                statistic: cloudwatch.Stats.SUM,
                period: Duration.minutes(5),
              }),
              alarmFriendlyName: 'EventsNotPublished',
              addAlarm: { Critical: { threshold: 0, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD } },
            },
          ],
        },
      ],
    });

    // end users are not being told: a sender not verified in SES, a sandboxed account, a missing link key
    this.facade.monitorCustom({
      humanReadableName: 'End-user email',
      alarmFriendlyName: 'Email',
      metricGroups: [
        {
          title: 'End-user emails sent, those that could not be, and those SES could not deliver',
          metrics: [
            {
              metric: new cloudwatch.Metric({
                namespace: METRICS_NAMESPACE,
                metricName: 'EmailsFailed' satisfies CountMetric,
                dimensionsMap: METRIC_DIMENSIONS,
                statistic: cloudwatch.Stats.SUM,
                period: Duration.minutes(15),
              }),
              alarmFriendlyName: 'EmailsFailed',
              addAlarm: { Critical: { threshold: 0, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD } },
            },
            new cloudwatch.Metric({
              namespace: METRICS_NAMESPACE,
              metricName: 'EmailsSent' satisfies CountMetric,
              dimensionsMap: METRIC_DIMENSIONS,
              statistic: cloudwatch.Stats.SUM,
              period: Duration.minutes(15),
            }),
            // no alarm of its own: the account's bounce and complaint rates are alarmed (see NightshiftMail.addAlarms), and each session's log names the address
            new cloudwatch.Metric({
              namespace: METRICS_NAMESPACE,
              metricName: 'EmailsUndelivered' satisfies CountMetric,
              dimensionsMap: METRIC_DIMENSIONS,
              statistic: cloudwatch.Stats.SUM,
              period: Duration.minutes(15),
            }),
          ],
        },
      ],
    });

    const lagSeconds = (props.reconcilerLagAlarm ?? Duration.minutes(15)).toSeconds();
    this.facade.monitorCustom({
      humanReadableName: 'Command reconciler',
      alarmFriendlyName: 'Reconciler',
      metricGroups: [
        {
          title: 'Reconciler lag (most overdue command handled per run)',
          metrics: [
            {
              metric: new cloudwatch.Metric({
                namespace: METRICS_NAMESPACE,
                metricName: 'ReconcilerLagSeconds',
                dimensionsMap: METRIC_DIMENSIONS,
                statistic: cloudwatch.Stats.MAXIMUM,
                // twice the reconciler's schedule: every period holds a run, even when one starts late
                period: Duration.minutes(10),
              }),
              alarmFriendlyName: 'ReconcilerLag',
              addAlarm: {
                Critical: {
                  threshold: lagSeconds,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  // two periods in a row: one slow run that catches up is not an incident
                  datapointsToAlarm: 2,
                  evaluationPeriods: 2,
                  // a reconciler that stopped running emits nothing: that is the worst lag of all
                  treatMissingDataOverride: cloudwatch.TreatMissingData.BREACHING,
                },
              },
            },
          ],
        },
      ],
    });

    this.facade.monitorApiGatewayV2HttpApi({
      api: props.httpApi,
      humanReadableName: 'Operator API',
      alarmFriendlyName: 'OperatorApi',
      add5xxRateAlarm: { Critical: { maxErrorRate: API_SERVER_ERROR_RATE } },
      add4xxRateAlarm: {
        Warning: {
          maxErrorRate: API_CLIENT_ERROR_SPIKE.rate,
          minSampleCountToEvaluateDatapoint: API_CLIENT_ERROR_SPIKE.minRequests,
          datapointsToAlarm: API_CLIENT_ERROR_SPIKE.periods,
          evaluationPeriods: API_CLIENT_ERROR_SPIKE.periods,
        },
      },
      addLatencyP99Alarm: { Critical: { maxLatency: API_LATENCY_P99, datapointsToAlarm: 3, evaluationPeriods: 3 } },
    });

    for (const [name, queue] of props.deadLetterQueues) {
      this.facade.monitorSqsQueue({
        queue,
        humanReadableName: name,
        alarmFriendlyName: name,
        addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0 } },
      });
    }
  }
}
