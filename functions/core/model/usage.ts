/**
 * What a session (or a schedule run's fan-out) used of the AWS services
 * Nightshift runs on, counted where it was used, and what that comes to at
 * list prices. Nothing here is estimated from a model of a session: every
 * figure is a count the adapters made (invocations, table units as DynamoDB
 * reported them, events published) or Step Functions' own history.
 *
 * The price is list price without free tiers, savings plans or taxes, and
 * without what no session owns: storage, logs, metrics, data transfer. It
 * answers "what does one session cost us to run", which is what an MSP
 * bills by; the AWS bill stays the authority.
 */

/**
 * The counters a metered Lambda invocation adds to its session's (or run's)
 * usage, in one write. Whole numbers except the table units, which DynamoDB
 * reports in halves (an eventually consistent read of up to 4 KB is 0.5).
 */
export const USAGE_COUNTERS = [
  'lambdaInvocations',
  /** Each invocation's wall time rounded up to the millisecond, as Lambda bills it. */
  'lambdaDurationMs',
  /** Each invocation's memory (MB) times its billed duration (ms): GB-seconds without rounding. */
  'lambdaMemoryMbMs',
  /** DynamoDB read request units (on-demand), as `ConsumedCapacity` reported them. */
  'tableReadUnits',
  /** DynamoDB write request units (on-demand), the meter's own write included. */
  'tableWriteUnits',
  /** Custom events put on the Nightshift bus (EventBridge bills each event of up to 64 KB). */
  'eventsPublished',
  /** EventBridge Scheduler deliveries that invoked a handler (a window timer or a schedule firing). */
  'schedulerInvocations',
  /** Window timers set or moved: no charge of their own (Scheduler bills deliveries), shown for the record. */
  'schedulesWritten',
  /** SSM Run Command commands sent: no charge for Run Command itself, shown for the record. */
  'commandsSent',
  /** Emails sent through SES. */
  'emailsSent',
] as const;

export type UsageCounter = (typeof USAGE_COUNTERS)[number];
export type UsageCounters = Readonly<Record<UsageCounter, number>>;

/** The counters plus the state transitions Step Functions billed for the session's execution (retries included). */
export interface CountedUsage extends UsageCounters {
  readonly stateTransitions: number;
}

export const NO_COUNTERS: UsageCounters = Object.fromEntries(USAGE_COUNTERS.map((name) => [name, 0])) as Record<UsageCounter, number>;
export const NO_USAGE: CountedUsage = { ...NO_COUNTERS, stateTransitions: 0 };

/** Table units are halves; anything else the sum of floats might leave is noise. */
const exact = (value: number): number => Math.round(value * 1_000) / 1_000;

export function addUsage(a: CountedUsage, b: CountedUsage): CountedUsage {
  const sum: Record<string, number> = { stateTransitions: a.stateTransitions + b.stateTransitions };
  for (const name of USAGE_COUNTERS) sum[name] = exact(a[name] + b[name]);
  return sum as unknown as CountedUsage;
}

/** Lambda's two architectures, priced differently per GB-second. */
export type LambdaArchitecture = 'arm64' | 'x86_64';

/** List prices of one Region, in US dollars, in the units the price pages use. */
export interface RegionPrices {
  /** Step Functions Standard workflows. */
  readonly stepFunctionsPer1000Transitions: number;
  readonly lambdaPerMillionRequests: number;
  readonly lambdaPerGbSecond: Readonly<Record<LambdaArchitecture, number>>;
  /** DynamoDB on-demand, Standard table class. */
  readonly dynamodbPerMillionWriteUnits: number;
  readonly dynamodbPerMillionReadUnits: number;
  /** EventBridge custom events. */
  readonly eventsPerMillion: number;
  /** EventBridge Scheduler invocations. */
  readonly schedulerPerMillionInvocations: number;
  /** SES outbound email. */
  readonly emailsPer1000: number;
}

/** The day the prices below were last checked against the pages cited. */
export const PRICES_CHECKED_ON = '2026-11-30';
export const DEFAULT_PRICING_REGION = 'us-east-1';

/*
 * Sources (checked on PRICES_CHECKED_ON; stored copies of the public pages):
 * - Step Functions: https://aws.amazon.com/step-functions/pricing/ ("State
 *   transitions pricing table": $0.025 per 1,000 in all six Regions below;
 *   "each retry will be charged as an additional state transition").
 * - Lambda: https://aws.amazon.com/lambda/pricing/ ($0.20 per million
 *   requests; first-tier duration $0.0000166667 per GB-second x86_64,
 *   $0.0000133334 arm64; the same in these six Regions). Higher volume tiers
 *   (over 6 billion GB-seconds a month) are ignored.
 * - DynamoDB on-demand: https://aws.amazon.com/dynamodb/pricing/on-demand/
 *   (US East/West: $0.625 per million write and $0.125 per million read
 *   request units since the price cut of 1 November 2024).
 *   APPROXIMATION: eu-west-1, eu-central-1 and ap-southeast-2 are the
 *   pre-cut list prices of those Regions halved, as the cut applied to every
 *   Region; they were not read off the current page.
 * - EventBridge: https://aws.amazon.com/eventbridge/pricing/ ($1.00 per
 *   million custom events; Scheduler $1.00 per million invocations, after
 *   14 million free a month, which is ignored like every free tier).
 * - SES: https://aws.amazon.com/ses/pricing/ ($0.10 per 1,000 outbound
 *   emails). APPROXIMATION: taken as the same in every Region.
 */
const US_PRICES: RegionPrices = {
  stepFunctionsPer1000Transitions: 0.025,
  lambdaPerMillionRequests: 0.2,
  lambdaPerGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  dynamodbPerMillionWriteUnits: 0.625,
  dynamodbPerMillionReadUnits: 0.125,
  eventsPerMillion: 1,
  schedulerPerMillionInvocations: 1,
  emailsPer1000: 0.1,
};

export const LIST_PRICES: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': US_PRICES,
  'us-east-2': US_PRICES,
  'us-west-2': US_PRICES,
  'eu-west-1': { ...US_PRICES, dynamodbPerMillionWriteUnits: 0.70675, dynamodbPerMillionReadUnits: 0.1415 },
  'eu-central-1': { ...US_PRICES, dynamodbPerMillionWriteUnits: 0.7625, dynamodbPerMillionReadUnits: 0.1525 },
  'ap-southeast-2': { ...US_PRICES, dynamodbPerMillionWriteUnits: 0.71155, dynamodbPerMillionReadUnits: 0.1423 },
};

export interface PricingOptions {
  /** @default us-east-1 */
  readonly region?: string;
  /** @default arm64, what the stack deploys */
  readonly architecture?: LambdaArchitecture;
}

export interface UsagePrice {
  /** The counts, with Lambda's compute also in the unit it is billed in. */
  readonly counted: CountedUsage & { readonly lambdaGbSeconds: number };
  /** In US dollars, each rounded to the micro-dollar; `total` is the sum of the rounded parts, so a table of them adds up. */
  readonly priceUsd: {
    readonly stepFunctions: number;
    readonly lambda: number;
    readonly dynamodb: number;
    readonly events: number;
    readonly scheduler: number;
    readonly email: number;
    readonly total: number;
  };
  readonly pricing: {
    /** The Region whose prices were used. */
    readonly region: string;
    readonly asOf: string;
    readonly architecture: LambdaArchitecture;
    /** Set when the Region asked for has no prices in the table and us-east-1's were used instead. */
    readonly requestedRegion?: string;
    readonly note?: string;
  };
}

const MICRO = 1_000_000;
const toMicro = (usd: number): number => Math.round(usd * MICRO) / MICRO;
/** 1 GB-second is 1,024 MB for 1,000 ms. */
const MB_MS_PER_GB_SECOND = 1_024 * 1_000;

/** The price of `usage` at the list prices of `options.region` (us-east-1's, and said so, for a Region the table lacks). */
export function priceUsage(usage: CountedUsage, options: PricingOptions = {}): UsagePrice {
  const requested = options.region ?? DEFAULT_PRICING_REGION;
  const known = LIST_PRICES[requested];
  const region = known ? requested : DEFAULT_PRICING_REGION;
  const prices = known ?? US_PRICES;
  const architecture = options.architecture ?? 'arm64';
  const gbSeconds = usage.lambdaMemoryMbMs / MB_MS_PER_GB_SECOND;
  const parts = {
    stepFunctions: toMicro((usage.stateTransitions * prices.stepFunctionsPer1000Transitions) / 1_000),
    lambda: toMicro((usage.lambdaInvocations * prices.lambdaPerMillionRequests) / MICRO + gbSeconds * prices.lambdaPerGbSecond[architecture]),
    dynamodb: toMicro((usage.tableWriteUnits * prices.dynamodbPerMillionWriteUnits + usage.tableReadUnits * prices.dynamodbPerMillionReadUnits) / MICRO),
    // Stryker disable next-line ArithmeticOperator: every Region's price is $1 per million events, and n × 1 = n ÷ 1
    events: toMicro((usage.eventsPublished * prices.eventsPerMillion) / MICRO),
    // Stryker disable next-line ArithmeticOperator: every Region's price is $1 per million invocations, and n × 1 = n ÷ 1
    scheduler: toMicro((usage.schedulerInvocations * prices.schedulerPerMillionInvocations) / MICRO),
    email: toMicro((usage.emailsSent * prices.emailsPer1000) / 1_000),
  };
  const total = toMicro(parts.stepFunctions + parts.lambda + parts.dynamodb + parts.events + parts.scheduler + parts.email);
  return {
    counted: { ...usage, lambdaGbSeconds: Math.round(gbSeconds * 1_000) / 1_000 },
    priceUsd: { ...parts, total },
    pricing: {
      region,
      asOf: PRICES_CHECKED_ON,
      architecture,
      ...(known ? {} : { requestedRegion: requested, note: `no list prices for ${requested} in the table; ${DEFAULT_PRICING_REGION} prices are shown` }),
    },
  };
}

/** Dollars as people read a price this small: six decimals, `$0.000912`. */
export const formatUsd = (usd: number): string => `$${usd.toFixed(6)}`;

/** A session's usage as its report shows it: `final` once its execution ended and its state transitions are in. */
export interface SessionCost extends UsagePrice {
  readonly final: boolean;
}

/** A run's usage: its own fan-out plus each of its sessions as counted when that session's execution ended (and after). */
export interface RunCost extends UsagePrice {
  /** Sessions whose usage the run holds (each added once, whatever the number of deliveries). */
  readonly sessionsCounted: number;
}

/** A session's usage as stored: the counters so far and, once its execution ended, when and for which run it was closed. */
export interface SessionUsage {
  readonly counted: CountedUsage;
  /** When its execution's end was recorded; later invocations (a late command event) still add to it. */
  readonly closedAt?: string;
  /** The run it was added to when closed. */
  readonly runId?: string;
}

/** What closing a session's usage answers: the usage as it stood when it was closed, by this call or an earlier delivery. */
export interface ClosedSessionUsage {
  readonly closedNow: boolean;
  readonly atEnd: CountedUsage;
}

/** A run's usage as stored: its own fan-out and its sessions together. */
export interface RunUsage {
  readonly counted: CountedUsage;
  readonly sessionsCounted: number;
}

/** A session's cost from what its store holds: nothing yet counts as nothing used. */
export function sessionCostOf(usage: SessionUsage | undefined, pricing: PricingOptions = {}): SessionCost {
  return { ...priceUsage(usage?.counted ?? NO_USAGE, pricing), final: usage?.closedAt !== undefined };
}

export function runCostOf(usage: RunUsage, pricing: PricingOptions = {}): RunCost {
  return { ...priceUsage(usage.counted, pricing), sessionsCounted: usage.sessionsCounted };
}
