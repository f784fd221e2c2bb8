/**
 * The baseline: how row-lock ticketing systems (pretix, alf.io style) sell. Every
 * reservation is its own transaction that locks the ticket type's counter row, checks
 * and decrements it, writes the reservation row and commits (one fsync per reservation,
 * the row lock held until the commit is durable). Own pool, same database, same size as
 * the service's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { CatalogRows } from './stack.js';

export class SoldOutError extends Error {
  override readonly name = 'SoldOutError';
}

export interface RowLockSeller {
  /** Hold `quantity` seats; resolves once committed, rejects with SoldOutError when not enough are left. */
  reserve(quantity: number): Promise<void>;
  /** The counter as committed: `available_quantity` of the ticket type. */
  available(): Promise<number>;
}

export function createRowLockPool(databaseUrl: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, application_name: 'bench-rowlock' });
  pool.on('error', () => undefined);
  return pool;
}

export function rowLockSeller(pool: pg.Pool, catalog: CatalogRows, holdSeconds: number): RowLockSeller {
  const { eventId, ticketTypeId, priceMinor } = catalog;
  return {
    async reserve(quantity) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ available_quantity: number }>(
          'SELECT available_quantity FROM ticket_types WHERE id = $1 FOR UPDATE',
          [ticketTypeId],
        );
        const available = rows[0]?.available_quantity ?? 0;
        if (available < quantity) throw new SoldOutError(`only ${available} left`);
        await client.query('UPDATE ticket_types SET available_quantity = available_quantity - $2 WHERE id = $1', [
          ticketTypeId,
          quantity,
        ]);
        await client.query(
          `INSERT INTO reservations (id, event_id, status, items, currency, total_minor, expires_at)
           VALUES ($1, $2, 'HELD', $3, 'USD', $4, now() + make_interval(secs => $5))`,
          [
            randomUUID(),
            eventId,
            JSON.stringify([{ ticket_type_id: ticketTypeId, quantity, unit_price_minor: priceMinor }]),
            priceMinor * quantity,
            holdSeconds,
          ],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async available() {
      const { rows } = await pool.query<{ available_quantity: number }>(
        'SELECT available_quantity FROM ticket_types WHERE id = $1',
        [ticketTypeId],
      );
      return rows[0]?.available_quantity ?? Number.NaN;
    },
  };
}
