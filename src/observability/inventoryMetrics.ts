/**
 * Metrics of the inventory actors, registered on the service's registry: the prom-client
 * side of the ports the actors declare (actors/runtime/actorObserver.ts, the actor's
 * `onCommit`), the operations answered by this pod's actors, availability publications,
 * and the inventory invariant gauge. Gauges of the pod's actors (how many are active, the
 * deepest mailbox, oversold ticket types) are read from the registry when metrics are
 * scraped, so they cost nothing between scrapes.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ActorObserver } from '../../actors/runtime/actorObserver.js';
import type { OnCommit } from '../../actors/inventory/actorPorts.js';
import type { InventoryCommand, InventoryReply, Level } from '../../actors/inventory/model.js';
import { toAppError } from '../errorNormalize.js';
import type { SlowOperationLog } from './slowOperations.js';

/** What the gauges read from this pod's actors at scrape time. */
export interface ActorGaugeSources {
  activeActors(): number;
  maxMailboxDepth(): number;
  /** The journaled levels of every active actor (the invariant gauge checks them). */
  levels(): Iterable<Readonly<Record<string, Level>>>;
}

export interface InventoryMetrics {
  readonly actorObserver: ActorObserver;
  readonly onCommit: OnCommit;
  /** Count the outcome of an inventory command answered by this pod's actor; passes the reply through. */
  observeOperation(command: InventoryCommand, reply: Promise<InventoryReply>): Promise<InventoryReply>;
  /** Observe an availability flush to Redis (the projector's `onAvailabilityFlush`). */
  readonly onAvailabilityFlush: (outcome: 'ok' | 'failed', views: number, lagSeconds: readonly number[]) => void;
}

/** The commands counted in ticket_inventory_operations_total, by label (expiries are counted from the journal). */
const OPERATIONS: Partial<Record<InventoryCommand['type'], string>> = {
  Reserve: 'reserve',
  Confirm: 'confirm',
  Release: 'release',
  CheckIn: 'checkin',
};

/**
 * The outcome label of a reply: `ok`, a check-in's result (`CHECKED_IN`, `ALREADY_USED`,
 * …), a refusal's code (`SOLD_OUT`, …) or a thrown error's code (`BUSY`, `SHARD_MOVING`,
 * `DEPENDENCY`, `INTERNAL` when unknown): a bounded set.
 */
export function outcomeOf(reply: InventoryReply): string {
  if (!reply.ok) return reply.code;
  return reply.kind === 'checkin' ? reply.result : 'ok';
}

/** Ticket types whose sold + held exceeds their capacity. Always 0: the actor refuses every command that would. */
export function oversoldTicketTypes(levels: Iterable<Readonly<Record<string, Level>>>): number {
  let count = 0;
  for (const byType of levels) for (const level of Object.values(byType)) if (level.sold + level.held > level.capacity) count++;
  return count;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createInventoryMetrics(registry: Registry, sources: ActorGaugeSources, slow: SlowOperationLog): InventoryMetrics {
  const registers = [registry];
  new Gauge({
    name: 'ticket_actors_active',
    help: 'Event actors held by this pod (activating, active or passivating)',
    registers,
    collect() {
      this.set(sources.activeActors());
    },
  });
  new Gauge({
    name: 'ticket_actor_mailbox_depth_max',
    help: 'Most messages waiting in one actor mailbox on this pod now',
    registers,
    collect() {
      this.set(sources.maxMailboxDepth());
    },
  });
  new Gauge({
    name: 'ticket_inventory_oversold_ticket_types',
    help: 'Ticket types whose sold + held exceeds capacity in the state of the actors this pod holds (must be 0)',
    registers,
    collect() {
      this.set(oversoldTicketTypes(sources.levels()));
    },
  });
  const turnMessages = new Histogram({
    name: 'ticket_actor_turn_messages',
    help: 'Messages one actor turn takes from its mailbox (commands per turn)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
    registers,
  });
  const busy = new Counter({ name: 'ticket_actor_busy_refusals_total', help: 'Messages refused with BUSY because an actor mailbox was full', registers });
  const activations = new Counter({ name: 'ticket_actor_activations_total', help: 'Actor activations (recovery from snapshot and journal), by outcome', labelNames: ['outcome'], registers });
  const activationSeconds = new Histogram({
    name: 'ticket_actor_activation_seconds',
    help: 'Time to activate an actor (load catalog, snapshot and journal)',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const passivations = new Counter({ name: 'ticket_actor_passivations_total', help: 'Actors passivated (idle, shard hand-off, shutdown)', registers });
  const commitSeconds = new Histogram({
    name: 'ticket_commit_duration_seconds',
    help: 'Time of one actor turn’s fenced commit, waiting for the group commit included',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const commits = new Counter({ name: 'ticket_commits_total', help: 'Actor turn commits by outcome (ok, fenced, failed)', labelNames: ['outcome'], registers });
  const operations = new Counter({
    name: 'ticket_inventory_operations_total',
    help: 'Reservations, confirms, releases, check-ins and expiries decided by this pod’s actors, by operation and outcome',
    labelNames: ['operation', 'outcome'],
    registers,
  });
  const publications = new Counter({
    name: 'ticket_availability_publications_total',
    help: 'Availability views written to Redis (and published to watchers), by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const publicationLag = new Histogram({
    name: 'ticket_availability_publication_lag_seconds',
    help: 'Time from an actor commit to its availability view being in Redis',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const expired = operations.labels({ operation: 'expire', outcome: 'EXPIRED' });

  return {
    actorObserver: {
      activated(key, outcome, seconds) {
        activations.inc({ outcome });
        activationSeconds.observe(seconds);
        slow('actor_activation', seconds * 1000, { event_id: key, outcome });
      },
      passivated: () => passivations.inc(),
      turn: (_key, messages) => turnMessages.observe(messages),
      busy: () => busy.inc(),
    },
    onCommit(eventId, outcome, seconds, entries) {
      commits.inc({ outcome });
      commitSeconds.observe(seconds);
      if (outcome === 'ok') {
        const holds = entries.reduce((n, e) => (e.event.type === 'HoldExpired' ? n + 1 : n), 0);
        if (holds > 0) expired.inc(holds);
      }
      slow('actor_commit', seconds * 1000, { event_id: eventId, outcome, journal_entries: entries.length });
    },
    observeOperation(command, reply) {
      const operation = OPERATIONS[command.type];
      if (operation === undefined) return reply;
      return reply.then(
        (r) => {
          operations.inc({ operation, outcome: outcomeOf(r) });
          return r;
        },
        (err: unknown) => {
          operations.inc({ operation, outcome: toAppError(err)?.code ?? 'INTERNAL' });
          throw err;
        },
      );
    },
    onAvailabilityFlush(outcome, views, lagSeconds) {
      publications.inc({ outcome }, views);
      for (const lag of lagSeconds) publicationLag.observe(lag);
    },
  };
}
