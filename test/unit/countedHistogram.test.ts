/**
 * The REST latency histogram (a few additions per observation) reads, through a registry,
 * exactly as a prom-client histogram fed the same observations: the text exposition and the
 * JSON form, with the registry's default labels, and after a reset.
 */
import test from 'ava';
import { Histogram, Registry } from 'prom-client';
import { CountedHistogram } from '../../src/observability/countedHistogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const OBSERVED: ReadonlyArray<readonly [string, string, number]> = [
  ['GET', '/events/:id', 0.0004],
  ['GET', '/events/:id', 0.001], // on a bound: counted in that bucket
  ['GET', '/events/:id', 0.0031],
  ['GET', '/events/:id/tickets', 0.02],
  ['GET', '/events/:id/tickets', 7], // above the last bound: +Inf only
  ['POST', '/events', 0.3],
  ['GET', '/events/:id', 0.0004],
];

function registries() {
  const make = () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'ticket-service' });
    return registry;
  };
  const [reference, counted] = [make(), make()];
  const config = { name: 'http_request_duration_seconds', help: 'REST request latency by route template', labelNames: ['method', 'route'] as const, buckets: BUCKETS };
  const expected = new Histogram({ ...config, labelNames: [...config.labelNames], registers: [reference] });
  const actual = new CountedHistogram({ ...config, registers: [counted] });
  return { reference, counted, expected, actual };
}

test('reads as a prom-client histogram fed the same observations', async (t) => {
  const { reference, counted, expected, actual } = registries();
  const series = new Map<string, { observe(v: number): void }>();
  for (const [method, route, seconds] of OBSERVED) {
    expected.labels({ method, route }).observe(seconds);
    const key = `${method} ${route}`;
    if (!series.has(key)) series.set(key, actual.labels({ method, route }));
    series.get(key)?.observe(seconds);
  }
  const text = await counted.metrics();
  t.is(text, await reference.metrics());
  t.regex(text, /http_request_duration_seconds_bucket\{le="0.001",service="ticket-service",method="GET",route="\/events\/:id"\} 3\n/);
  t.regex(text, /http_request_duration_seconds_count\{service="ticket-service",method="GET",route="\/events\/:id\/tickets"\} 2\n/);
  // The JSON form too, but for prom-client's empty exemplar fields (exemplars are off).
  const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) =>
    metrics.map((m) => ({ ...m, values: m.values.map((v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'exemplar'))) }));
  t.deepEqual(await counted.getMetricsAsJSON(), withoutExemplars(await reference.getMetricsAsJSON()));
});

test('a reset zeroes every series, and the series handed out still count', async (t) => {
  const { reference, counted, expected, actual } = registries();
  const detail = actual.labels({ method: 'GET', route: '/events/:id' });
  detail.observe(0.002);
  expected.labels({ method: 'GET', route: '/events/:id' }).observe(0.002);
  actual.reset();
  expected.reset();
  expected.zero({ method: 'GET', route: '/events/:id' }); // prom-client forgets the series; this one keeps it at zero
  t.is(await counted.metrics(), await reference.metrics());
  detail.observe(0.03);
  expected.labels({ method: 'GET', route: '/events/:id' }).observe(0.03);
  t.is(await counted.metrics(), await reference.metrics());
  t.throws(() => detail.observe(Number.NaN), { instanceOf: TypeError });
});
