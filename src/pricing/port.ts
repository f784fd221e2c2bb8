/** The pricing engine as the inventory actor's port, configured from DYNAMIC_PRICING_ENABLED and PRICE_UPDATE_INTERVAL. */
import type { PricingPort } from '../../actors/inventory/pricingPort.js';
import { computePrice, priceInterval } from './engine.js';

export function createPricingPort(options: { readonly enabled: boolean; readonly intervalSeconds: number }): PricingPort {
  return {
    enabled: options.enabled,
    price: computePrice,
    intervalOf: (now) => priceInterval(now, options.intervalSeconds),
  };
}
