/** ticket.InventoryService: levels, capacity and locks, all answered by the event's actor. */
import { NotFoundError } from '../../errors.js';
import { unary } from '../call.js';
import { levelMessage } from '../convert.js';
import type { InventoryServiceHandlers } from '../generated/ticket/InventoryService.js';
import type { HandlerDeps } from './deps.js';
import { optional, required } from './validate.js';

export function inventoryServiceHandlers({ inventory }: HandlerDeps): InventoryServiceHandlers {
  return {
    CheckAvailability: unary('public', async (req, ctx) => {
      const { levels } = await inventory.as(ctx.caller).levels(required(req.event_id, 'event_id'));
      const byId = new Map(levels.map((l) => [l.ticketTypeId, l]));
      for (const item of req.items) {
        if (!byId.has(item.ticket_type_id)) throw new NotFoundError('ticket type', item.ticket_type_id);
      }
      const available = req.items.every((i) => i.quantity > 0 && (byId.get(i.ticket_type_id)?.available ?? 0) >= i.quantity);
      const asked = req.items.length > 0 ? levels.filter((l) => req.items.some((i) => i.ticket_type_id === l.ticketTypeId)) : levels;
      return { available: req.items.length > 0 && available, levels: asked.map(levelMessage) };
    }),

    UpdateInventory: unary('write', async (req, ctx) => {
      const ticketTypeId = required(req.ticket_type_id, 'ticket_type_id');
      const { levels } = await inventory.as(ctx.caller).updateCapacity(required(req.event_id, 'event_id'), ticketTypeId, req.capacity);
      const level = levels.find((l) => l.ticketTypeId === ticketTypeId.toLowerCase());
      if (!level) throw new NotFoundError('ticket type', ticketTypeId);
      return { level: levelMessage(level) };
    }),

    GetInventoryLevels: unary('public', async (req, ctx) => {
      const { levels, eventLocked } = await inventory.as(ctx.caller).levels(required(req.event_id, 'event_id'));
      return { levels: levels.map(levelMessage), event_locked: eventLocked };
    }),

    LockInventory: unary('write', async (req, ctx) => {
      const { levels, eventLocked } = await inventory.as(ctx.caller).lock(
        required(req.event_id, 'event_id'),
        optional(req.ticket_type_id) ?? null,
        req.locked,
        optional(req.reason) ?? null,
      );
      return { levels: levels.map(levelMessage), event_locked: eventLocked };
    }),
  };
}
