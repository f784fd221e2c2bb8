/**
 * LISTEN for `inventory_changed` (NOTIFYed by the inventory projection after it writes the
 * ticket_types counters) on a dedicated, self-reconnecting connection (pg-listen), and
 * drop this pod's cached copy of that event's detail, whose counters just moved. Other
 * channels (ticket key changes) share the connection through `also`; each of those
 * handlers also runs after a reconnect, since notifications sent meanwhile are lost.
 */
import pgListen from 'pg-listen';
import type { Logger } from 'pino';
import { INVENTORY_CHANGED_CHANNEL } from '../inventory/projector.js';

/** Wait between reconnection attempts after the listening connection was lost. */
const RETRY_INTERVAL_MS = 500;

export interface NotificationListener {
  close(): Promise<void>;
}

export async function listenForInventoryChanges(
  connection: { url: string; ssl: boolean },
  onEventChanged: (eventId: string) => void,
  log: Logger,
  also: Readonly<Record<string, (payload: string | undefined) => void>> = {},
): Promise<NotificationListener> {
  let closed = false;
  // pg-listen is CommonJS with `exports.default`; under ESM the factory is `.default`.
  const subscriber = pgListen.default(
    { connectionString: connection.url, ssl: connection.ssl ? { rejectUnauthorized: true } : false },
    // Payloads are plain event ids, not JSON; keep reconnecting for as long as the pod lives.
    // pg-listen's reconnection loop does not stop when the listener is closed (with the
    // database gone it would retry, and hold the process open, for good): the wait before
    // each next attempt throws once closed, which ends the loop.
    {
      parse: (payload: string) => payload,
      retryLimit: Number.MAX_SAFE_INTEGER,
      retryTimeout: Number.MAX_SAFE_INTEGER,
      retryInterval: () => {
        if (closed) throw new Error('the notification listener was closed');
        return RETRY_INTERVAL_MS;
      },
      paranoidChecking: 15_000,
    },
  );
  subscriber.events.on('error', (err: Error) => {
    if (!closed) log.warn({ err: err.message }, 'inventory notification listener error');
  });
  subscriber.events.on('reconnect', (attempt: number) => log.info({ attempt }, 'inventory notification listener reconnecting'));
  subscriber.events.on('connected', () => Object.values(also).forEach((handler) => handler(undefined)));
  subscriber.notifications.on(INVENTORY_CHANGED_CHANNEL, (eventId: unknown) => {
    if (typeof eventId === 'string') onEventChanged(eventId);
  });
  for (const [channel, handler] of Object.entries(also)) {
    subscriber.notifications.on(channel, (payload: unknown) => handler(typeof payload === 'string' ? payload : undefined));
  }
  await subscriber.connect();
  await subscriber.listenTo(INVENTORY_CHANGED_CHANNEL);
  for (const channel of Object.keys(also)) await subscriber.listenTo(channel);
  // A reconnection in flight when the listener closed may still succeed: the connection it
  // made (and its periodic check) would hold the process open. Close that one too.
  subscriber.events.on('connected', () => {
    if (closed) subscriber.close().catch(() => undefined);
  });
  return {
    close: () => {
      closed = true;
      return subscriber.close();
    },
  };
}
