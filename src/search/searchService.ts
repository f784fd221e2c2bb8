/**
 * What REST and gRPC call to search: the configured backend behind the search cache
 * (CACHE_TTL_SEARCH; keys retire on every catalog write and every indexed batch), with
 * Postgres answering whenever Elasticsearch fails. Such an answer is flagged `degraded`,
 * counted, and never cached, so the next search asks Elasticsearch again.
 * Each search that reaches a backend logs one `search` line at debug with the query's
 * shape (which filters, text length, paging) and duration, never the text itself.
 *
 * Health (asked by the pod's health poll every second, and by every `/ready`) is answered
 * from what this pod last learnt about the primary while that is fresh: a search the
 * primary answered or failed tells as much as a health request, so a pod under search
 * traffic sends none. Otherwise one health request at a time goes out (concurrent askers
 * share it); an answer is trusted for HEALTH_OK_FOR_MS, a failure for HEALTH_FAILED_FOR_MS
 * (shorter: a recovery shows soon). With Elasticsearch that is one cluster-health request
 * per pod every 10 s at most, instead of one per pod per second. Postgres alone (no
 * fallback) is asked every time: a local query, and /ready's Postgres and search checks
 * then never disagree.
 */
import type { Logger } from 'pino';
import { systemClock, TIMED_OUT, within, type Clock } from '../../actors/runtime/clock.js';
import type { Caches } from '../cache/caches.js';
import { AppError } from '../errors.js';
import type { CatalogEvent } from '../catalog/events.js';
import type { SearchBackend, SearchQuery, SearchResult } from './backend.js';
import type { SearchMetrics } from './searchMetrics.js';

export interface SearchAnswer {
  readonly result: SearchResult;
  /** Elasticsearch failed and Postgres answered. */
  readonly degraded: boolean;
}

export type SearchHealth = 'ok' | 'degraded';

/** The primary's health check gets this long, so /ready can still ask the fallback in time. */
export const PRIMARY_HEALTH_TIMEOUT_MS = 1000;
/** How long a healthy primary (a health answer or a search it answered) is taken as healthy. */
export const HEALTH_OK_FOR_MS = 10_000;
/** How long a failed primary (a failed health request or search) is taken as failed. */
export const HEALTH_FAILED_FOR_MS = 2_000;

export interface SearchService {
  readonly backend: SearchBackend['name'];
  search(query: SearchQuery): Promise<SearchAnswer>;
  /** 'ok', or 'degraded' when Elasticsearch is down and Postgres answers; rejects when no backend can. */
  health(): Promise<SearchHealth>;
}

export interface SearchServiceDeps {
  readonly primary: SearchBackend;
  /** Answers when the primary fails (Postgres, when the primary is Elasticsearch). */
  readonly fallback?: SearchBackend;
  readonly caches: Caches;
  readonly metrics: SearchMetrics;
  readonly log: Logger;
  /** Measures how fresh the last word on the primary's health is, and times its health request (tests move it by hand). */
  readonly clock?: Pick<Clock, 'monotonic' | 'setTimeout' | 'clearTimeout'>;
}

/** A degraded answer: carried out of the cache loader so the cache does not keep it. */
class UncachedAnswer extends Error {
  constructor(readonly answer: SearchAnswer) {
    super('degraded search answer');
  }
}

const DATE_FIELDS = ['startDate', 'endDate', 'cancelledAt', 'createdAt', 'updatedAt'] as const;

/** Cached results come back from Redis as JSON: dates as strings. */
function reviveEvent(e: CatalogEvent): CatalogEvent {
  const copy: Record<string, unknown> = { ...e };
  for (const f of DATE_FIELDS) {
    const v = copy[f];
    if (typeof v === 'string') copy[f] = new Date(v);
  }
  return copy as unknown as CatalogEvent;
}

/** The query's shape for the log: which parts are present, never the text. */
function shape(query: SearchQuery): Record<string, unknown> {
  return {
    text_length: query.q?.length ?? 0,
    category: query.category !== undefined,
    city: query.city !== undefined,
    near: query.near !== undefined,
    include_past: query.includePast === true,
    limit: query.limit,
    paged: query.cursor !== undefined,
  };
}

export function createSearchService({ primary, fallback, caches, metrics, log, clock = systemClock }: SearchServiceDeps): SearchService {
  /** The latest word on the primary's health: when, and the failure if it failed. */
  let known: { at: number; failure?: Error } | undefined;
  let asking: Promise<void> | undefined;
  const okFor = fallback ? HEALTH_OK_FOR_MS : 0;
  const failedFor = fallback ? HEALTH_FAILED_FOR_MS : 0;
  const learn = (failure?: Error) => {
    known = { at: clock.monotonic(), ...(failure ? { failure } : {}) };
  };

  /** Resolves when the primary is healthy as far as this pod knows, asking it only when that is stale. */
  function primaryHealth(): Promise<void> {
    if (known) {
      const age = clock.monotonic() - known.at;
      if (!known.failure && age < okFor) return Promise.resolve();
      if (known.failure && age < failedFor) return Promise.reject(known.failure);
    }
    asking ??= askPrimary().finally(() => {
      asking = undefined;
    });
    return asking;
  }

  async function askPrimary(): Promise<void> {
    try {
      if ((await within(clock, PRIMARY_HEALTH_TIMEOUT_MS, primary.health())) === TIMED_OUT) throw new Error('health check timed out');
      learn();
    } catch (err) {
      learn(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  async function answer(query: SearchQuery): Promise<SearchAnswer> {
    const started = performance.now();
    let backend = primary.name;
    let degraded = false;
    let result: SearchResult;
    try {
      result = await primary.search(query);
      learn();
    } catch (err) {
      if (!fallback || isCallerError(err)) throw err;
      learn(err instanceof Error ? err : new Error(String(err)));
      log.warn({ err: (err as Error).message, backend: primary.name }, 'search backend failed: answering from the fallback');
      metrics.degraded.inc();
      backend = fallback.name;
      degraded = true;
      result = await fallback.search(query);
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.searchSeconds.observe({ backend }, seconds);
    metrics.searches.inc({ backend, degraded: String(degraded) });
    log.debug({ ...shape(query), backend, degraded, total: result.total, duration_ms: Math.round(seconds * 1000) }, 'search');
    return { result, degraded };
  }

  return {
    backend: primary.name,
    async search(query) {
      const key = await caches.searchKey({
        q: query.q,
        category: query.category,
        city: query.city,
        lat: query.near?.lat,
        lon: query.near?.lon,
        radius_km: query.near?.radiusKm,
        limit: query.limit,
        cursor: query.cursor,
        // REST leaves it out, gRPC sends false: the same search, the same key.
        include_past: query.includePast === true ? true : undefined,
      });
      try {
        const cached = await caches.search.getOrLoad(key, async () => {
          const fresh = await answer(query);
          if (fresh.degraded) throw new UncachedAnswer(fresh);
          return fresh.result;
        });
        const result = cached as SearchResult;
        return { result: { ...result, items: result.items.map(reviveEvent) }, degraded: false };
      } catch (err) {
        if (err instanceof UncachedAnswer) return err.answer;
        throw err;
      }
    },
    async health() {
      try {
        await primaryHealth();
        return 'ok';
      } catch (err) {
        if (!fallback) throw err;
        await fallback.health();
        return 'degraded';
      }
    },
  };
}

/** A bad cursor is the caller's mistake whichever backend reads it: no fallback for that. */
function isCallerError(err: unknown): boolean {
  return err instanceof AppError && err.code === 'VALIDATION';
}
