/**
 * Schema-level checks of the Kubernetes manifests and Dockerfile (no cluster or Docker
 * engine runs here): every document parses, has the fields its kind requires, and
 * agrees with the code (config variable names, ports, probe paths, selectors).
 */
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> };

/** A template for the operator to fill in; parsed by its own test, never applied. */
const TEMPLATE = 'secrets.example.yaml';
const docs: Doc[] = readdirSync('k8s')
  .filter((f) => f.endsWith('.yaml') && f !== TEMPLATE)
  .flatMap((f) =>
    parseAllDocuments(readFileSync(`k8s/${f}`, 'utf8')).map((d) => {
      if (d.errors.length) throw new Error(`k8s/${f}: ${d.errors[0]?.message}`);
      return d.toJS() as Doc;
    }),
  );
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const one = (kind: string) => {
  const found = byKind(kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as Doc;
};

const podSpec = () => one('Deployment').spec.template.spec;

test('every manifest has apiVersion, kind and a DNS-1123 name', (t) => {
  t.true(docs.length >= 7);
  for (const d of docs) {
    t.regex(d.apiVersion, /^[a-z0-9.-]+(\/v[0-9a-z]+)?$|^v1$/);
    t.truthy(d.kind);
    if (d.kind !== 'Kustomization') t.regex(d.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
  const kinds = new Set(docs.map((d) => d.kind));
  for (const k of ['Deployment', 'Service', 'ConfigMap', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceMonitor']) {
    t.true(kinds.has(k), k);
  }
});

test('ConfigMap and Deployment env use only variables the service reads, and the ConfigMap is valid config', (t) => {
  const known = new Set(CONFIG_VARIABLES);
  const cm = one('ConfigMap');
  for (const name of Object.keys(cm.data ?? {})) t.true(known.has(name), `ConfigMap ${name}`);
  const container = one('Deployment').spec.template.spec.containers[0];
  for (const e of container.env as Array<{ name: string }>) t.true(known.has(e.name), `env ${e.name}`);
  // The ConfigMap plus a secret yields a configuration that loads: mutual TLS between pods,
  // so no INTERNAL_AUTH_SECRET is needed.
  const config = loadConfig({ ...cm.data, JWT_SECRET: 'x'.repeat(32) });
  t.true(config.internal.mutualTls);
  t.true(config.grpc.tls.enabled);
});

test('the Deployment is consistent with the Services, probes and the image', (t) => {
  const dep = one('Deployment');
  const pod = dep.spec.template.spec;
  t.deepEqual(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels);
  const container = pod.containers[0];
  const ports = new Map<string, number>(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
  const cm = one('ConfigMap').data ?? {};
  t.is(ports.get('http'), Number(cm.PORT));
  t.is(ports.get('grpc'), Number(cm.GRPC_PORT));
  t.is(container.readinessProbe.httpGet.path, '/ready');
  t.is(container.livenessProbe.httpGet.path, '/health');
  t.true(pod.terminationGracePeriodSeconds > 25, 'grace period exceeds the 25 s drain timeout');
  for (const svc of byKind('Service')) {
    t.deepEqual(svc.spec.selector, dep.spec.selector.matchLabels);
    for (const p of svc.spec.ports) t.true(ports.has(p.targetPort), `${svc.metadata.name} → ${p.targetPort}`);
  }
  t.true(byKind('Service').some((s) => s.spec.clusterIP === 'None'), 'a headless Service for pod-to-pod calls');
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  t.regex(dockerfile, /EXPOSE 3002 50052/);
  t.regex(dockerfile, /^CMD \["node", "dist\/src\/main\.js"\]$/m, 'exec form so SIGTERM reaches node');
  t.regex(dockerfile, /^USER node$/m);
});

test('pods reach each other over mutual TLS on an internal port that only they may open', (t) => {
  const cm = one('ConfigMap').data ?? {};
  const dep = one('Deployment');
  const pod = dep.spec.template.spec;
  const container = pod.containers[0];
  const ports = new Map<string, number>(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
  t.is(ports.get('internal'), Number(cm.INTERNAL_GRPC_PORT));

  // The certificate files the ConfigMap names are the cert-manager Secret's keys, mounted.
  const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'grpc-certs');
  const volume = pod.volumes.find((v: { name: string }) => v.name === 'grpc-certs');
  const certificate = byKind('Certificate').find((c) => c.spec.secretName === volume.secret.secretName);
  t.truthy(certificate, 'a cert-manager Certificate writes the mounted Secret');
  for (const [variable, file] of [['GRPC_TLS_CA_PATH', 'ca.crt'], ['GRPC_TLS_CERT_PATH', 'tls.crt'], ['GRPC_TLS_KEY_PATH', 'tls.key']] as const) {
    t.is(cm[variable], `${mount.mountPath}/${file}`, variable);
  }
  t.deepEqual(new Set(certificate?.spec.usages), new Set(['server auth', 'client auth']));
  t.true(certificate?.spec.dnsNames.includes(cm.GRPC_TLS_SERVER_NAME), 'peers check a name the certificate carries');

  // Internal port: only on the headless Service; never on the callers' Service.
  const headless = byKind('Service').find((s) => s.spec.clusterIP === 'None');
  t.is(cm.GRPC_TLS_SERVER_NAME, headless?.metadata.name);
  t.deepEqual(headless?.spec.ports.map((p: { targetPort: string }) => p.targetPort), ['internal']);
  for (const svc of byKind('Service').filter((s) => s.spec.clusterIP !== 'None')) {
    t.false(svc.spec.ports.some((p: { targetPort: string }) => p.targetPort === 'internal'), svc.metadata.name);
  }
  // The NetworkPolicy admits the internal port from the service's own pods only.
  const policy = one('NetworkPolicy');
  t.deepEqual(policy.spec.podSelector.matchLabels, dep.spec.selector.matchLabels);
  const rules = policy.spec.ingress as Array<{ from?: Array<{ podSelector: { matchLabels: Record<string, string> } }>; ports: Array<{ port: string }> }>;
  for (const rule of rules.filter((r) => r.ports.some((p) => p.port === 'internal'))) {
    t.truthy(rule.from, 'the internal port is never open to everyone');
    for (const from of rule.from ?? []) t.deepEqual(from.podSelector.matchLabels, dep.spec.selector.matchLabels);
  }
  t.true(rules.some((r) => r.ports.some((p) => p.port === 'internal')));
});

test('kustomization applies every manifest but the Secret template, and pins the image to the release', (t) => {
  const kustomization = one('Kustomization') as unknown as { resources: string[]; images: Array<{ name: string; newTag: string }> };
  for (const file of readdirSync('k8s').filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== TEMPLATE)) {
    t.true(kustomization.resources.includes(file), `kustomization lists ${file}`);
  }
  t.false(kustomization.resources.includes(TEMPLATE), 'the Secret template is never applied');
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const images = podSpec().initContainers.concat(podSpec().containers).map((c: { image: string }) => c.image);
  for (const image of new Set(images)) {
    const pin = kustomization.images.find((i) => i.name === image);
    t.is(pin?.newTag, version, `${image} pinned to ${version}`);
  }
});

test('the Secret template holds every key the pods and the migration read; only optional ones may be left empty', (t) => {
  const template = parseAllDocuments(readFileSync(`k8s/${TEMPLATE}`, 'utf8'))[0]?.toJS() as { kind: string; metadata: { name: string }; stringData: Record<string, string> };
  t.is(template.kind, 'Secret');
  const refs = podSpec()
    .initContainers.concat(podSpec().containers)
    .flatMap((c: { env?: Array<{ valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }> }) => c.env ?? [])
    .map((e: { valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }) => e.valueFrom?.secretKeyRef)
    .filter((r: unknown): r is { name: string; key: string; optional?: boolean } => r !== undefined);
  t.true(refs.length >= 5);
  for (const ref of refs) {
    t.is(ref.name, template.metadata.name, ref.key);
    t.true(ref.key in template.stringData, `the template has ${ref.key}`);
    if (!ref.optional) t.not(template.stringData[ref.key], '', `${ref.key} is required and filled in`);
  }
  // The service needs a JWT_SECRET or a JWT_JWKS_URL: at least one of the optional pair is filled in.
  t.true(template.stringData['jwt-secret'] !== '' || template.stringData['jwt-jwks-url'] !== '');
});

test('the schema is migrated before the service starts, with ticketctl from the image PATH', (t) => {
  const [migrate] = podSpec().initContainers as Array<{ image: string; command: string[]; env: Array<{ name: string }> }>;
  t.deepEqual(migrate?.command, ['ticketctl', 'migrate']);
  t.is(migrate?.image, podSpec().containers[0].image);
  t.true(migrate?.env.some((e) => e.name === 'DATABASE_URL'));
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  t.regex(dockerfile, /ln -s \/app\/dist\/src\/cli\/ticketctl\.js \/usr\/local\/bin\/ticketctl/);
  t.regex(readFileSync('src/cli/ticketctl.ts', 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the compiled script runs by itself');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> };
  t.is(pkg.bin.ticketctl, 'dist/src/cli/ticketctl.js');
});

test('behind the ingress the client address is one hop from the right of X-Forwarded-For', (t) => {
  const config = loadConfig({ ...one('ConfigMap').data, JWT_SECRET: 'x'.repeat(32) });
  t.true(config.trustProxy);
  t.is(config.trustProxyHops, 1);
});
