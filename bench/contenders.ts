/**
 * The two ways of selling compared by the bench, behind one shape: a fresh event with one
 * big ticket type each, a `call` that reserves, a correctness check, and cleanup.
 *   actor    — InventoryService.reserve → the event's EventInventory actor (group commit)
 *   row-lock — one locking transaction per reservation on its own pool (rowLock.ts)
 */
import { randomUUID } from 'node:crypto';
import { checkActor, checkRowLock, type CellCheck } from './checks.js';
import { createRowLockPool, rowLockSeller } from './rowLock.js';
import { createCatalog, type BenchStack } from './stack.js';
import type { LoadResult } from './workload.js';

export type SideName = 'actor' | 'rowLock';

export interface Contender {
  readonly name: SideName;
  call(quantity: number): Promise<void>;
  check(load: LoadResult): Promise<CellCheck>;
  close(): Promise<void>;
}

export interface ContenderSettings {
  readonly capacity: number;
  readonly holdSeconds: number;
  readonly poolMax: number;
}

export async function actorContender(stack: BenchStack, label: string, s: ContenderSettings): Promise<Contender> {
  const catalog = await createCatalog(stack.admin, `bench actor ${label}`, s.capacity);
  const inventory = stack.service.inventory.service;
  const { eventId, ticketTypeId } = catalog;
  return {
    name: 'actor',
    async call(quantity) {
      await inventory.reserve(eventId, { reservationId: randomUUID(), items: [{ ticketTypeId, quantity }], holdSeconds: s.holdSeconds });
    },
    check: (load) => checkActor(inventory, stack.admin, catalog, load),
    // Snapshot and stop now, not during the next cell.
    close: () => stack.service.inventory.registry.passivate(eventId),
  };
}

export async function rowLockContender(stack: BenchStack, label: string, s: ContenderSettings): Promise<Contender> {
  const catalog = await createCatalog(stack.admin, `bench row-lock ${label}`, s.capacity);
  const pool = createRowLockPool(stack.databaseUrl, s.poolMax);
  const seller = rowLockSeller(pool, catalog, s.holdSeconds);
  return {
    name: 'rowLock',
    call: (quantity) => seller.reserve(quantity),
    check: (load) => checkRowLock(seller, stack.admin, catalog, load),
    close: () => pool.end(),
  };
}
