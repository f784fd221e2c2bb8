/**
 * `ticketctl events cancel <id> [--reason R]`: cancel an event (final). Works on Postgres:
 * the catalog row is cancelled first (with its reason) and the pods are told (NOTIFY);
 * the event's actor then releases every open hold and voids every ticket, and refuses
 * reserve, confirm and check-in from then on. The command waits until the inventory
 * journal holds the cancellation; only then is the cancel done. If no pod applies it in
 * time it exits 1 (the catalog stays cancelled and the actor applies it whenever it next
 * loads or syncs the event; run the command again to wait once more).
 */
import type { Command } from 'commander';
import { textField, uuidField } from '../../../actors/inventory/commandSchema.js';
import { EVENT_CANCELLED_CHANNEL, inventoryCancelled, markCancelled } from '../../catalog/eventCancel.js';
import { NotFoundError } from '../../errors.js';
import { CliError, loadDatabaseConfig, withClient } from '../db.js';
import { printJson, printLines } from '../output.js';

interface CancelOptions {
  readonly reason: string;
  readonly wait: string;
  readonly json?: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function cancelAction(rawId: string, options: CancelOptions): Promise<void> {
  const id = uuidField.safeParse(rawId);
  if (!id.success) throw new CliError(`event id must be a UUID: ${rawId}`);
  const reason = textField(500).safeParse(options.reason.trim());
  if (!reason.success) throw new CliError('--reason must be 1 to 500 characters without control characters');
  const waitSeconds = Number(options.wait);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 600) throw new CliError('--wait must be 0 to 600 seconds');
  const eventId = id.data;
  const { event, applied } = await withClient(loadDatabaseConfig(), async (client) => {
    await client.query('BEGIN');
    let cancelled;
    try {
      cancelled = await markCancelled(client, eventId, reason.data);
      await client.query('SELECT pg_notify($1, $2)', [EVENT_CANCELLED_CHANNEL, eventId]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (err instanceof NotFoundError) throw new CliError(`no event ${eventId}`);
      throw err;
    }
    const deadline = Date.now() + waitSeconds * 1000;
    let done = await inventoryCancelled(client, eventId);
    while (!done && Date.now() < deadline) {
      await sleep(200);
      done = await inventoryCancelled(client, eventId);
    }
    return { event: cancelled, applied: done };
  });
  if (!applied) {
    throw new CliError(
      `event ${eventId} is cancelled in the catalog, but no pod applied it to the inventory within ${waitSeconds}s; ` +
        'it is applied when the event next loads: run this command again to wait for it',
    );
  }
  const cancelledAt = event.cancelledAt?.toISOString() ?? null;
  if (options.json) printJson({ event_id: eventId, status: event.status, cancelled_at: cancelledAt, reason: event.cancelReason });
  else printLines([`event ${eventId} cancelled at ${cancelledAt ?? '?'} (${event.cancelReason ?? ''}): holds released, tickets void`]);
}

export function registerEvents(program: Command): void {
  const events = program.command('events').description('events (DATABASE_URL, DATABASE_SSL)');
  events
    .command('cancel')
    .description('cancel an event for good: open holds released, tickets void, no more sales or check-ins')
    .argument('<id>', 'event id')
    .option('--reason <text>', 'why (kept with the event; a second cancel keeps the first reason)', 'cancelled by an operator')
    .option('--wait <seconds>', 'how long to wait for the inventory to apply it', '15')
    .option('--json', 'print the result as JSON')
    .action(cancelAction);
}
