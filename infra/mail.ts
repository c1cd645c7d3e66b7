import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import type { MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';

/**
 * The account's bounce and complaint rates (what SES acts on) that raise an
 * alarm: half of where SES puts an account under review (5% of mail bouncing,
 * 0.1% reported as spam), so the MSP hears of a bad address list before SES
 * pauses its sending.
 */
export const REPUTATION_ALARM_RATES = { bounce: 0.025, complaint: 0.0005 } as const;

/** The sending events SES puts on the default event bus (what went wrong with a message after SES took it), each with its `detail-type` there. */
const MAIL_EVENT_DETAIL_TYPE: ReadonlyMap<ses.EmailSendingEvent, string> = new Map([
  [ses.EmailSendingEvent.BOUNCE, 'Email Bounced'],
  [ses.EmailSendingEvent.COMPLAINT, 'Email Complaint Received'],
  [ses.EmailSendingEvent.REJECT, 'Email Rejected'],
  [ses.EmailSendingEvent.DELIVERY_DELAY, 'Email Delivery Delayed'],
]);
export const MAIL_EVENTS: readonly ses.EmailSendingEvent[] = [...MAIL_EVENT_DETAIL_TYPE.keys()];
/** What the mail-events rule matches: the detail-type of every event the configuration set publishes, and no other. */
export const MAIL_EVENT_DETAIL_TYPES: readonly string[] = [...MAIL_EVENT_DETAIL_TYPE.values()];

/** The first key's id in the generated link key ring. */
export const FIRST_LINK_KEY_ID = 'k1';

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const ADDRESS = /^[^\s<>"(),;:\\[\]@]{1,64}@[^\s<>"(),;:\\[\]@]+$/u;

export interface NightshiftMailProps {
  /**
   * The domain (`msp.example`) or address (`maintenance@msp.example`) the
   * end-user emails are sent from, created as an SES identity of the stack
   * (a domain's three DKIM records are outputs, to publish in its DNS).
   * Functions may send from it only.
   * @default no identity: the functions may send from any identity the account verified in SES
   */
  readonly mailFromIdentity?: string;
}

/**
 * End-user email and links: the SES identity Nightshift sends from, a
 * configuration set (SES's suppression list for bounces and complaints,
 * reputation metrics, and bounce, complaint, reject and delivery-delay
 * events on the account's default event bus, the only bus SES delivers to),
 * and the Secrets Manager secret holding the HMAC key ring that signs the
 * links in those emails.
 */
export class NightshiftMail extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  readonly configurationSetArn: string;
  readonly identity: ses.EmailIdentity | undefined;
  /** What `ses:SendEmail` may name as its From identity: the stack's identity, or every identity of the account. */
  readonly sendingIdentityArn: string;
  /**
   * The link key ring. Secrets Manager generates the first key into the flat
   * form `{"current":"k1","k1":"<64 letters and digits>"}` (it can generate
   * a top-level field only); `linkKeyRingSchema` reads it, and a rotation
   * writes the nested form.
   */
  readonly linkKeys: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: NightshiftMailProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const fromIdentity = props.mailFromIdentity?.trim();
    if (fromIdentity !== undefined && !DOMAIN.test(fromIdentity) && !ADDRESS.test(fromIdentity)) {
      throw new Error(`mailFromIdentity must be a domain (msp.example) or an email address (maintenance@msp.example); got "${props.mailFromIdentity ?? ''}"`);
    }

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      // SES stops sending to an address that bounced or complained, account-wide, instead of harming the reputation again
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      reputationMetrics: true,
      sendingEnabled: true,
    });
    this.configurationSet.addEventDestination('ToDefaultEventBus', {
      destination: ses.EventDestination.eventBus(events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default')),
      events: [...MAIL_EVENTS],
    });
    this.configurationSetArn = stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    if (fromIdentity === undefined) {
      this.identity = undefined;
      this.sendingIdentityArn = stack.formatArn({ service: 'ses', resource: 'identity', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    } else {
      const isAddress = fromIdentity.includes('@');
      this.identity = new ses.EmailIdentity(this, 'Identity', {
        identity: isAddress ? ses.Identity.email(fromIdentity) : ses.Identity.domain(fromIdentity),
        // mail sent without naming a configuration set still gets the suppression list and the events
        configurationSet: this.configurationSet,
      });
      this.sendingIdentityArn = this.identity.emailIdentityArn;
      if (!isAddress) {
        this.identity.dkimRecords.forEach((record, index) => {
          new CfnOutput(this, `DkimRecord${index + 1}`, {
            value: `${record.name} CNAME ${record.value}`,
            description: `DKIM record ${index + 1} of 3 to publish in the DNS of ${fromIdentity}, so SES can verify it and sign its mail`,
          });
        });
      }
    }

    this.linkKeys = new secretsmanager.Secret(this, 'LinkKeys', {
      description: 'Nightshift end-user link signing keys (HMAC key ring: the current key id and every key still accepted)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ current: FIRST_LINK_KEY_ID }),
        generateStringKey: FIRST_LINK_KEY_ID,
        // 64 letters and digits are valid base64 for 48 random bytes (~381 bits)
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
      // deleting it would turn every link already mailed into a forgery
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.linkKeys).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A key ring rotates by adding a key (rotateLinkKeyRing) and retiring old ones after their links expire; a Secrets Manager rotation would replace the value and void every link already mailed.',
    });
  }

  /**
   * Alarms on the account's reputation metrics, the ones SES reviews and
   * pauses accounts on. SES publishes them only once the account has had a
   * bounce or a complaint, so missing data is no alarm.
   */
  addAlarms(facade: MonitoringFacade): void {
    const rate = (metricName: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/SES', metricName, statistic: cloudwatch.Stats.MAXIMUM, period: Duration.hours(1) });
    const above = (threshold: number) => ({
      Critical: { threshold, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING },
    });
    facade.monitorCustom({
      humanReadableName: 'End-user email reputation',
      alarmFriendlyName: 'MailReputation',
      metricGroups: [
        {
          title: 'Bounce and complaint rates (SES, whole account)',
          metrics: [
            { metric: rate('Reputation.BounceRate'), alarmFriendlyName: 'MailBounceRate', addAlarm: above(REPUTATION_ALARM_RATES.bounce) },
            { metric: rate('Reputation.ComplaintRate'), alarmFriendlyName: 'MailComplaintRate', addAlarm: above(REPUTATION_ALARM_RATES.complaint) },
          ],
        },
      ],
    });
  }
}
