import { describe, expect, it } from 'vitest';
import { addUsage, formatUsd, LIST_PRICES, NO_USAGE, priceUsage, PRICES_CHECKED_ON, runCostOf, sessionCostOf, type CountedUsage } from '../../functions/core/model/usage.js';

/** 1 GB-second of compute (2,000 ms at 512 MB), and round numbers elsewhere, so each price can be worked out by hand. */
const usage: CountedUsage = {
  ...NO_USAGE,
  stateTransitions: 26,
  lambdaInvocations: 36,
  lambdaDurationMs: 2_000,
  lambdaMemoryMbMs: 2_000 * 512,
  tableReadUnits: 64,
  tableWriteUnits: 120,
  eventsPublished: 2,
  schedulerInvocations: 1,
  schedulesWritten: 1,
  commandsSent: 15,
};

describe('what usage comes to at list prices', () => {
  it('prices every service at us-east-1 list prices for arm64, each part to the micro-dollar, the total their sum', () => {
    const price = priceUsage(usage);
    expect(price.priceUsd).toEqual({
      // 26 × $0.025 / 1,000
      stepFunctions: 0.00065,
      // 36 × $0.20 / 1M + 1 GB-s × $0.0000133334 = 0.0000205334
      lambda: 0.000021,
      // 120 × $0.625 / 1M + 64 × $0.125 / 1M
      dynamodb: 0.000083,
      events: 0.000002,
      scheduler: 0.000001,
      email: 0,
      total: 0.000757,
    });
    expect(price.counted.lambdaGbSeconds).toBe(1);
    expect(price.pricing).toEqual({ region: 'us-east-1', asOf: PRICES_CHECKED_ON, architecture: 'arm64' });
  });

  it('prices Lambda duration by architecture: x86_64 costs more per GB-second', () => {
    // 36 × $0.20 / 1M + 1 GB-s × $0.0000166667 = 0.0000238667
    expect(priceUsage(usage, { architecture: 'x86_64' }).priceUsd).toMatchObject({ lambda: 0.000024, total: 0.00076 });
  });

  it("prices the table at the Region's own rates", () => {
    // 120 × $0.7625 / 1M + 64 × $0.1525 / 1M = 0.00010126
    const frankfurt = priceUsage(usage, { region: 'eu-central-1' });
    expect(frankfurt.priceUsd).toMatchObject({ dynamodb: 0.000101, total: 0.000775 });
    expect(frankfurt.pricing.region).toBe('eu-central-1');
    expect(frankfurt.pricing.requestedRegion).toBeUndefined();
    for (const region of ['eu-west-1', 'ap-southeast-2', 'us-west-2']) expect(priceUsage(usage, { region }).pricing.region).toBe(region);
  });

  it('falls back to us-east-1 for a Region the table has no prices for, and says so', () => {
    const price = priceUsage(usage, { region: 'sa-east-1' });
    expect(price.priceUsd).toEqual(priceUsage(usage).priceUsd);
    expect(price.pricing).toMatchObject({ region: 'us-east-1', requestedRegion: 'sa-east-1' });
    expect(price.pricing.note).toContain('sa-east-1');
  });

  it('prices emails at SES rates: a thousand come to ten cents', () => {
    expect(priceUsage({ ...NO_USAGE, emailsSent: 1_000 }).priceUsd).toMatchObject({ email: 0.1, total: 0.1 });
  });

  it('has every price of every Region positive, so no service is silently free', () => {
    for (const prices of Object.values(LIST_PRICES)) {
      const values = [
        prices.stepFunctionsPer1000Transitions,
        prices.lambdaPerMillionRequests,
        prices.lambdaPerGbSecond.arm64,
        prices.lambdaPerGbSecond.x86_64,
        prices.dynamodbPerMillionReadUnits,
        prices.dynamodbPerMillionWriteUnits,
        prices.eventsPerMillion,
        prices.schedulerPerMillionInvocations,
        prices.emailsPer1000,
      ];
      expect(values.every((value) => value > 0)).toBe(true);
      expect(prices.lambdaPerGbSecond.arm64).toBeLessThan(prices.lambdaPerGbSecond.x86_64);
    }
  });

  it('adds usage counter by counter, keeping half table units exact', () => {
    const half = { ...NO_USAGE, tableReadUnits: 0.5, stateTransitions: 3 };
    let sum = NO_USAGE;
    for (let i = 0; i < 1_001; i++) sum = addUsage(sum, half);
    expect(sum).toMatchObject({ tableReadUnits: 500.5, stateTransitions: 3_003, lambdaInvocations: 0 });
  });

  it('shows prices with six decimals', () => {
    expect(formatUsd(0.000757)).toBe('$0.000757');
    expect(formatUsd(0)).toBe('$0.000000');
  });

  it('calls a session with no usage yet free and not final, and final once its usage was closed', () => {
    expect(sessionCostOf(undefined)).toMatchObject({ final: false, priceUsd: { total: 0 } });
    expect(sessionCostOf({ counted: usage, closedAt: '2026-11-30T10:00:00.000Z' })).toMatchObject({ final: true, priceUsd: { total: 0.000757 } });
  });

  it('prices a run\'s usage as a session\'s, at the Region asked for, with the number of sessions it holds', () => {
    const cost = runCostOf({ counted: usage, sessionsCounted: 12 }, { region: 'eu-central-1' });
    expect(cost).toEqual({ ...priceUsage(usage, { region: 'eu-central-1' }), sessionsCounted: 12 });
    expect(cost.priceUsd.total).toBe(0.000775);
    expect(runCostOf({ counted: usage, sessionsCounted: 0 }).pricing.region).toBe('us-east-1');
  });

  it('says the day the prices were checked, as a date', () => {
    expect(priceUsage(usage).pricing.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
