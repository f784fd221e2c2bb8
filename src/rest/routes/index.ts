import type { RestDeps } from '../deps.js';
import { createReadModels, type ReadModels } from '../readModels.js';
import type { RouteSpec } from '../route.js';
import { eventRoutes } from './events.js';
import { ticketKeyRoutes } from './ticketKeys.js';
import { ticketRoutes } from './tickets.js';
import { pricingRoutes } from './pricing.js';
import { venueRoutes } from './venues.js';

/** Catalog routes in registration order: static paths before `/:id` ones. */
export function catalogRoutes(deps: RestDeps, reads: ReadModels = createReadModels(deps)): RouteSpec[] {
  return [...eventRoutes(deps, reads), ...ticketKeyRoutes(deps), ...ticketRoutes(deps, reads), ...venueRoutes(deps), ...pricingRoutes(deps)];
}
