import { ConfigurationError } from '../core/errors.js';
import { DEFAULT_PRICING_REGION, type PricingOptions } from '../core/model/usage.js';
import { FUNCTION_SETTINGS } from '../handlers/function-settings.js';

/** An AWS Region's name: `us-east-1`, `eu-central-2`, `us-gov-west-1`. */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * Which list prices a session's cost is shown at: `PRICING_REGION` when set
 * (an MSP that bills in its customers' Region, or runs Nightshift elsewhere),
 * else the Region the function runs in, else us-east-1; the architecture is
 * the one the stack deploys. A Region the price table lacks is priced at
 * us-east-1's, and the answer says so; a value that is no Region name at all
 * stops the function, naming the variable.
 */
export function pricingFromEnvironment(environment: Readonly<Record<string, string | undefined>>): Required<PricingOptions> {
  const configured = environment.PRICING_REGION?.trim();
  if (configured && !REGION_NAME.test(configured)) {
    throw new ConfigurationError(`function configuration is invalid: PRICING_REGION: must be a Region name such as eu-west-1; got ${configured.slice(0, 40)}`);
  }
  return { region: configured || environment.AWS_REGION || DEFAULT_PRICING_REGION, architecture: FUNCTION_SETTINGS.architecture };
}
