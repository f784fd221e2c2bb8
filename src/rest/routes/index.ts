import type { RestDeps } from '../deps.js';
import type { RouteSpec } from '../route.js';
import { venueRoutes } from './venues.js';

/** Catalog routes in registration order: static paths before `/:id` ones. */
export function catalogRoutes(deps: RestDeps): RouteSpec[] {
  return [...venueRoutes(deps)];
}
