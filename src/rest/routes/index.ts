import type { RestDeps } from '../deps.js';
import type { RouteSpec } from '../route.js';
import { eventRoutes } from './events.js';
import { ticketRoutes } from './tickets.js';
import { pricingRoutes } from './pricing.js';
import { venueRoutes } from './venues.js';

/** Catalog routes in registration order: static paths before `/:id` ones. */
export function catalogRoutes(deps: RestDeps): RouteSpec[] {
  return [...eventRoutes(deps), ...ticketRoutes(deps), ...venueRoutes(deps), ...pricingRoutes(deps)];
}
