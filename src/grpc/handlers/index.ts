import type { GrpcServices } from '../server.js';
import { checkinServiceHandlers } from './checkinService.js';
import type { HandlerDeps } from './deps.js';
import { inventoryServiceHandlers } from './inventoryService.js';
import { pricingServiceHandlers } from './pricingService.js';
import { ticketServiceHandlers } from './ticketService.js';

export function grpcServices(deps: HandlerDeps): GrpcServices {
  return {
    ticket: ticketServiceHandlers(deps),
    inventory: inventoryServiceHandlers(deps),
    pricing: pricingServiceHandlers(deps),
    checkin: checkinServiceHandlers(deps),
  };
}
