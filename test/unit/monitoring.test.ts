/**
 * The dashboard and alerts in k8s/monitoring/ agree with the service: every manifest
 * parses; the dashboard is JSON in a ConfigMap the Grafana sidecar picks up; every PromQL
 * expression of a panel or an alert parses and names only metrics a started service
 * exports (read from its own /metrics); every alert has a severity and a runbook section
 * that exists in docs/operations.md, whose metrics table lists every exported metric.
 */
import { readdirSync, readFileSync } from 'node:fs';
import anyTest, { type TestFn } from 'ava';
import { parser } from '@prometheus-io/lezer-promql';
import { parseAllDocuments } from 'yaml';
import { startTestService, type TestService } from '../helpers/service.js';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; data?: Record<string, string>; spec?: any; resources?: string[] };
interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
  readonly panels?: readonly Panel[];
}
interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

const DIR = 'k8s/monitoring';
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs: Array<Doc & { file: string }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(`${DIR}/${file}`, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${DIR}/${file}: ${d.errors[0]?.message}`);
    return { ...(d.toJS() as Doc), file };
  }),
);
const dashboardMap = docs.find((d) => d.kind === 'ConfigMap') as Doc;
const dashboards = Object.values(dashboardMap.data ?? {}).map((json) => JSON.parse(json) as { uid: string; title: string; panels: Panel[] });
const allPanels = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const panels = dashboards.flatMap((d) => allPanels(d.panels));
const rules: Rule[] = docs
  .filter((d) => d.kind === 'PrometheusRule')
  .flatMap((d) => (d.spec.groups as Array<{ rules: Rule[] }>).flatMap((g) => g.rules));
const expressions = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
];

/**
 * The metric names a PromQL expression selects (the name of every vector selector), parsed
 * with the Prometheus project's own grammar; throws on a syntax error.
 */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`PromQL syntax error at ${node.from}: ${expr.slice(Math.max(0, node.from - 20), node.from + 20)}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(expr.slice(node.from, node.to));
    },
  });
  return names;
}

const test = anyTest as TestFn<{ svc: TestService; exported: Map<string, string> }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
  const text = (await t.context.svc.api('GET', '/metrics', { token: null })).body as string;
  // `# TYPE name type` for every metric the registry holds, observed or not.
  t.context.exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

/** Is `name` a series the service exports (a histogram's _bucket/_sum/_count included)? */
function exportedSeries(exported: ReadonlyMap<string, string>, name: string): boolean {
  if (exported.has(name)) return true;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && (exported.get(base) === 'histogram' || exported.get(base) === 'summary');
}

test('metric names are extracted from PromQL, ignoring functions, keywords, labels and durations; bad PromQL is refused', (t) => {
  t.deepEqual(
    metricNames('histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="x",route=~"a|b"}[5m]))) > 1'),
    ['http_request_duration_seconds_bucket'],
  );
  t.deepEqual(
    metricNames('(max by (pod) (a_total == 0)) and on () (max(b_gauge) >= 4) or vector(0) unless c offset 5m'),
    ['a_total', 'b_gauge', 'c'],
  );
  t.throws(() => metricNames('sum(rate(x_total[5m])'), { message: /syntax error/ });
});

test('every metric a dashboard panel or an alert queries is one the service exports', (t) => {
  const { exported } = t.context;
  t.true(exported.size > 40, 'the service exported its metrics');
  t.true(expressions.length >= 25);
  for (const { where, expr } of expressions) {
    const names = metricNames(expr);
    t.true(names.length > 0, `${where} queries a metric`);
    for (const name of names) t.true(exportedSeries(exported, name), `${where}: ${name} is not exported`);
  }
});

test('the dashboard is JSON in a ConfigMap the Grafana sidecar loads, with the panels operators need', (t) => {
  t.is(dashboardMap.metadata.labels?.grafana_dashboard, '1');
  t.is(dashboards.length, 1);
  const [dashboard] = dashboards;
  t.is(dashboard?.uid, 'ticket-service');
  for (const metric of [
    'http_requests_total',
    'http_request_duration_seconds_bucket',
    'grpc_server_handled_total',
    'grpc_server_handling_seconds_bucket',
    'ticket_inventory_operations_total',
    'ticket_commit_duration_seconds_bucket',
    'ticket_actor_mailbox_depth_max',
    'ticket_shards_owned',
    'cache_lookups_total',
    'ticket_availability_publication_lag_seconds_bucket',
    'ticket_search_duration_seconds_bucket',
  ]) {
    t.true(panels.some((p) => (p.targets ?? []).some((q) => q.expr.includes(metric))), `a panel shows ${metric}`);
  }
  const ids = allPanels(dashboard?.panels ?? []).map((p) => (p as Panel & { id: number }).id);
  t.is(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('every alert has a severity and a runbook section in docs/operations.md', (t) => {
  const operations = readFileSync('docs/operations.md', 'utf8');
  // GitHub's anchors: a heading, lower-cased, punctuation dropped, spaces as dashes.
  const anchors = new Set(
    [...operations.matchAll(/^#+ (.+)$/gm)].map((m) => (m[1] as string).toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')),
  );
  const alerts = rules.map((r) => r.alert);
  for (const name of ['TicketInventoryOversold', 'TicketFencedCommits', 'TicketShardLeaseRenewalFailures', 'TicketActorBusy', 'TicketHighErrorRatio', 'TicketRestLatencyHigh', 'TicketGrpcLatencyHigh', 'TicketPodWithoutShards']) {
    t.true(alerts.includes(name), name);
  }
  for (const rule of rules) {
    t.true(['critical', 'warning'].includes(rule.labels?.severity ?? ''), `${rule.alert} severity`);
    t.truthy(rule.annotations?.summary, `${rule.alert} summary`);
    const runbook = /^docs\/operations\.md#([\w-]+)$/.exec(rule.annotations?.runbook_url ?? '');
    t.truthy(runbook, `${rule.alert} runbook_url points into docs/operations.md`);
    t.true(anchors.has(runbook?.[1] ?? ''), `${rule.alert}: docs/operations.md has a section #${runbook?.[1]}`);
  }
});

test('the monitoring kustomization applies the dashboard and the rules, and the service kustomization does not', (t) => {
  const kustomization = docs.find((d) => d.kind === 'Kustomization');
  t.deepEqual(new Set(kustomization?.resources), new Set(files.filter((f) => f !== 'kustomization.yaml')));
  const service = parseAllDocuments(readFileSync('k8s/kustomization.yaml', 'utf8'))[0]?.toJS() as { resources: string[] };
  t.false(service.resources.some((r) => r.includes('monitoring')), 'k8s/ applies without the Prometheus Operator rule CRD or Grafana');
});

test('the metrics table in docs/operations.md lists every metric the service exports (besides the process metrics)', (t) => {
  const operations = readFileSync('docs/operations.md', 'utf8');
  const rows = new Set([...operations.matchAll(/^\| `([a-z_:]+)` \| (counter|gauge|histogram) \|/gm)].map((m) => `${m[1]} ${m[2]}`));
  for (const [name, type] of t.context.exported) {
    if (name.startsWith('process_') || name.startsWith('nodejs_')) continue;
    t.true(rows.has(`${name} ${type}`), `docs/operations.md lists ${name} (${type})`);
  }
});
