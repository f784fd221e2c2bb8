/**
 * ticket.InventoryService: levels, capacity and locks, all answered by the event's actor.
 * Levels of a draft or cancelled event are for admins only (NOT_FOUND for anyone else).
 */
import { NotFoundError } from '../../errors.js';
import { unary } from '../call.js';
import { levelMessage } from '../convert.js';
import type { InventoryServiceHandlers } from '../generated/ticket/InventoryService.js';
import type { HandlerDeps } from './deps.js';
import { isAdmin, optionalId, optionalText, requiredId } from './validate.js';
import { checkCapacityChange } from '../../catalog/capacity.js';
import { withTransaction } from '../../db/pool.js';

export function inventoryServiceHandlers({ inventory, pool, requireReadableEvent }: HandlerDeps): InventoryServiceHandlers {
  return {
    CheckAvailability: unary('public', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      const items = req.items.map((i, n) => ({ ticketTypeId: requiredId(i.ticket_type_id, `items[${n}].ticket_type_id`), quantity: i.quantity }));
      await requireReadableEvent(eventId, isAdmin(ctx));
      const { levels } = await inventory.as(ctx.caller).levels(eventId);
      const byId = new Map(levels.map((l) => [l.ticketTypeId, l]));
      for (const item of items) {
        if (!byId.has(item.ticketTypeId)) throw new NotFoundError('ticket type', item.ticketTypeId);
      }
      const available = items.every((i) => i.quantity > 0 && (byId.get(i.ticketTypeId)?.available ?? 0) >= i.quantity);
      const asked = items.length > 0 ? levels.filter((l) => items.some((i) => i.ticketTypeId === l.ticketTypeId)) : levels;
      return { available: items.length > 0 && available, levels: asked.map(levelMessage) };
    }),

    // Within the event's max_capacity and its venue's capacity (CONFLICT with the numbers), race-free under the event's row lock.
    UpdateInventory: unary('write', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      const ticketTypeId = requiredId(req.ticket_type_id, 'ticket_type_id');
      const inv = inventory.as(ctx.caller);
      const { levels } = await inv.oneAtATime(eventId, () =>
        withTransaction(pool, async (c) => {
          await checkCapacityChange(c, inv, eventId, { ticketTypeId, capacity: req.capacity });
          return inv.updateCapacity(eventId, ticketTypeId, req.capacity);
        }),
      );
      const level = levels.find((l) => l.ticketTypeId === ticketTypeId);
      if (!level) throw new NotFoundError('ticket type', ticketTypeId);
      return { level: levelMessage(level) };
    }),

    GetInventoryLevels: unary('public', async (req, ctx) => {
      const eventId = requiredId(req.event_id, 'event_id');
      await requireReadableEvent(eventId, isAdmin(ctx));
      const { levels, eventLocked } = await inventory.as(ctx.caller).levels(eventId);
      return { levels: levels.map(levelMessage), event_locked: eventLocked };
    }),

    LockInventory: unary('write', async (req, ctx) => {
      const { levels, eventLocked } = await inventory.as(ctx.caller).lock(
        requiredId(req.event_id, 'event_id'),
        optionalId(req.ticket_type_id, 'ticket_type_id') ?? null,
        req.locked,
        optionalText(req.reason, 'reason', 500) ?? null,
      );
      return { levels: levels.map(levelMessage), event_locked: eventLocked };
    }),
  };
}
