/**
 * `ticketctl status`: each pod's health as the pods themselves report it (their `/ready`,
 * fetched from the REST URL each pod announces in its heartbeat) beside what Redis says
 * about it (heartbeat, shutting down, drained, shards held and wanted), and the spread of
 * shards over pods. Probing is separate from formatting so the table can be checked
 * without servers.
 */
import type { ClusterView, PodView } from './shardState.js';
import { formatAge, summarize } from './shardState.js';
import { table } from './output.js';

const PROBE_TIMEOUT_MS = 2000;

export type Readiness =
  | {
      readonly state: 'ready' | 'not_ready';
      readonly checks: Readonly<Record<string, string>>;
      /** Each gRPC service's health status as the pod reports it (`SERVING`, `NOT_SERVING`). */
      readonly services?: Readonly<Record<string, string>>;
    }
  | { readonly state: 'unreachable'; readonly reason: string }
  | { readonly state: 'unknown' };

/** The pod's `/ready` answer, or why there is none. Never throws. */
export async function probeReady(http: string | null, timeoutMs = PROBE_TIMEOUT_MS): Promise<Readiness> {
  if (http === null) return { state: 'unknown' };
  try {
    const res = await fetch(`${http}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as { status?: unknown; checks?: unknown; services?: unknown };
    const record = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, string>) : {});
    return { state: res.status === 200 && body.status === 'ready' ? 'ready' : 'not_ready', checks: record(body.checks), services: record(body.services) };
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed';
    return { state: 'unreachable', reason };
  }
}

export interface PodStatus extends PodView {
  readonly readiness: Readiness;
}

export async function podStatuses(view: ClusterView): Promise<PodStatus[]> {
  return Promise.all(view.pods.map(async (p) => ({ ...p, readiness: p.live ? await probeReady(p.http) : ({ state: 'unknown' } as const) })));
}

function stateOf(p: PodView): string {
  if (!p.live) return 'gone';
  if (p.shuttingDown) return 'shutting down';
  if (p.drained) return 'drained';
  return 'serving';
}

/** The gRPC services a pod reports as not serving (e.g. the inventory services while Redis is down). */
const notServing = (services: Readonly<Record<string, string>> | undefined) =>
  Object.entries(services ?? {})
    .filter(([name, v]) => name !== '' && v !== 'SERVING')
    .map(([name]) => `${name}: not serving`);

/** `ready`, `ready (redis: degraded, ticket.InventoryService: not serving)`, `not ready (shards: starting)`, `unreachable (connection failed)`, `-`. */
export function readinessLabel(r: Readiness): string {
  switch (r.state) {
    case 'ready': {
      const notes = [...Object.entries(r.checks).filter(([, v]) => v === 'degraded').map(([k]) => `${k}: degraded`), ...notServing(r.services)];
      return notes.length > 0 ? `ready (${notes.join(', ')})` : 'ready';
    }
    case 'not_ready': {
      const failing = Object.entries(r.checks).filter(([, v]) => v !== 'ok' && v !== 'degraded');
      return `not ready (${failing.map(([k, v]) => `${k}: ${v}`).join(', ')})`;
    }
    case 'unreachable':
      return `unreachable (${r.reason})`;
    case 'unknown':
      return '-';
  }
}

/** Shards held per live pod, e.g. `pod-a 32, pod-b 32`. */
export function spread(pods: readonly PodView[]): string {
  const holders = pods.filter((p) => p.live || p.ownedShards > 0);
  return holders.length > 0 ? holders.map((p) => `${p.name} ${p.ownedShards}`).join(', ') : 'no pods';
}

export function formatStatus(view: ClusterView, pods: readonly PodStatus[]): string[] {
  const rows = [
    ['POD', 'STATE', 'READY', 'HEARTBEAT', 'SHARDS', 'DESIRED', 'REST'],
    ...pods.map((p) => [
      p.name,
      stateOf(p),
      readinessLabel(p.readiness),
      p.live ? `${formatAge(p.heartbeatAgeMs)} ago` : '-',
      String(p.ownedShards),
      String(p.desiredShards),
      p.http ?? '-',
    ]),
  ];
  const lines = pods.length > 0 ? table(rows) : ['no live pods'];
  lines.push('', summarize(view), `spread: ${spread(pods)}`);
  return lines.map((l) => l.trimEnd());
}

export function statusJson(view: ClusterView, pods: readonly PodStatus[]) {
  const by = (state: string) => view.shards.filter((s) => s.state === state).length;
  return {
    shardCount: view.shardCount,
    shards: { ok: by('ok'), moving: by('moving'), free: by('free') },
    pods: pods.map((p) => ({ ...p, state: stateOf(p) })),
  };
}
