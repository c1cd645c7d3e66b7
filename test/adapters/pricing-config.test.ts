import { describe, expect, it } from 'vitest';
import { pricingFromEnvironment } from '../../functions/adapters/pricing-config.js';

describe('which list prices a deployment shows', () => {
  it("takes PRICING_REGION, else the function's own Region, else us-east-1, always at the stack's architecture", () => {
    expect(pricingFromEnvironment({ PRICING_REGION: 'eu-west-1', AWS_REGION: 'us-east-1' })).toEqual({ region: 'eu-west-1', architecture: 'arm64' });
    expect(pricingFromEnvironment({ AWS_REGION: 'ap-southeast-2' })).toEqual({ region: 'ap-southeast-2', architecture: 'arm64' });
    expect(pricingFromEnvironment({ PRICING_REGION: ' ' })).toEqual({ region: 'us-east-1', architecture: 'arm64' });
  });

  it('stops on a PRICING_REGION that is no Region name, naming the variable', () => {
    expect(() => pricingFromEnvironment({ PRICING_REGION: 'Frankfurt' })).toThrow(/PRICING_REGION/);
  });
});
