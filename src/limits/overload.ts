/**
 * Load shedding by event loop delay. Every SAMPLE_INTERVAL_MS the detector reads the mean
 * delay of the event loop over the interval (perf_hooks.monitorEventLoopDelay, or an
 * injected sampler) and moves between three levels:
 *
 *   NORMAL ⇄ SHEDDING_READS ⇄ SHEDDING_WRITES
 *
 *  - SHEDDING_READS while the delay stays over OVERLOAD_LAG_MS: public reads are refused
 *    at once (REST 503 BUSY with Retry-After, gRPC UNAVAILABLE) so the loop has time for
 *    writes, which keep going;
 *  - SHEDDING_WRITES while it stays over WRITE_SHED_FACTOR × OVERLOAD_LAG_MS: writes too
 *    (a write that waits that long would miss its caller's deadline anyway).
 *
 * A level changes only after SUSTAIN_SAMPLES samples in a row ask for the same other
 * level, so a single garbage-collection pause neither starts nor stops shedding. Each
 * change is logged and sets the `ticket_load_shedding_level` gauge; refusals are counted in
 * `ticket_load_shed_total`. Health, readiness and metrics are never shed.
 * `check()` takes one sample now: the interval timer calls it, tests call it directly.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { OverloadedError } from '../errors.js';

export const SAMPLE_INTERVAL_MS = 500;
export const SUSTAIN_SAMPLES = 2;
export const WRITE_SHED_FACTOR = 4;
/** Retry-After of a shed request. */
const SHED_RETRY_AFTER_SECONDS = 1;

export type LoadLevel = 'NORMAL' | 'SHEDDING_READS' | 'SHEDDING_WRITES';
export type RequestKind = 'read' | 'write';
const LEVEL_NUMBER: Readonly<Record<LoadLevel, number>> = { NORMAL: 0, SHEDDING_READS: 1, SHEDDING_WRITES: 2 };

/** Mean event loop delay (ms) since the previous call. */
export type LagSampler = () => number;

export interface OverloadMetrics {
  readonly level: { set(value: number): void };
  readonly shed: { inc(labels: { door: string; kind: RequestKind }): void };
}

export interface OverloadOptions {
  readonly lagThresholdMs: number;
  readonly log: Logger;
  readonly metrics: OverloadMetrics;
  /** Defaults to the event loop delay histogram; tests inject their own. */
  readonly sampler?: LagSampler;
  /** Sample on a timer (default true); tests drive `check()` themselves. */
  readonly autoStart?: boolean;
}

export interface OverloadDetector {
  level(): LoadLevel;
  /** Throw OverloadedError (and count it) when requests of `kind` are being shed. */
  admit(door: string, kind: RequestKind): void;
  /** Take one sample now and change level if the samples say so. */
  check(): void;
  stop(): void;
}

/** The event loop's mean delay over each interval, from Node's histogram (its resolution subtracted). */
export function eventLoopLagSampler(): { sample: LagSampler; stop(): void } {
  const resolutionMs = 20;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    sample() {
      const mean = histogram.count > 0 ? histogram.mean / 1e6 : 0;
      histogram.reset();
      return Math.max(0, mean - resolutionMs);
    },
    stop: () => histogram.disable(),
  };
}

export function createOverloadDetector(options: OverloadOptions): OverloadDetector {
  const { lagThresholdMs, log, metrics } = options;
  const builtIn = options.sampler ? undefined : eventLoopLagSampler();
  const sample: LagSampler = options.sampler ?? (builtIn as { sample: LagSampler }).sample;
  let level: LoadLevel = 'NORMAL';
  let wanted: LoadLevel = 'NORMAL';
  let streak = 0;
  metrics.level.set(0);

  function levelFor(lagMs: number): LoadLevel {
    if (lagMs > lagThresholdMs * WRITE_SHED_FACTOR) return 'SHEDDING_WRITES';
    if (lagMs > lagThresholdMs) return 'SHEDDING_READS';
    return 'NORMAL';
  }

  function check(): void {
    const lagMs = sample();
    const target = levelFor(lagMs);
    streak = target === wanted ? streak + 1 : 1;
    wanted = target;
    if (target === level || streak < SUSTAIN_SAMPLES) return;
    const from = level;
    level = target;
    metrics.level.set(LEVEL_NUMBER[level]);
    const fields = { from, to: level, lag_ms: Math.round(lagMs), threshold_ms: lagThresholdMs };
    if (level === 'NORMAL') log.info(fields, 'load shedding stopped');
    else if (from === 'NORMAL') log.warn(fields, 'load shedding started');
    else log.warn(fields, 'load shedding level changed');
  }

  const timer = options.autoStart === false ? undefined : setInterval(check, SAMPLE_INTERVAL_MS);
  timer?.unref();

  return {
    level: () => level,
    admit(door, kind) {
      if (level === 'NORMAL' || (kind === 'write' && level === 'SHEDDING_READS')) return;
      metrics.shed.inc({ door, kind });
      throw new OverloadedError(SHED_RETRY_AFTER_SECONDS);
    },
    check,
    stop() {
      if (timer) clearInterval(timer);
      builtIn?.stop();
    },
  };
}
