/**
 * PORT=0 and GRPC_PORT=0: the service binds ports the kernel picks, reports them (the
 * running service, PORTS_FILE written whole) and advertises the bound gRPC port to the
 * other pods.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Redis } from 'ioredis';
import { PORT_NAMES, readPortsFile } from '../../src/boundPorts.js';
import { grpcClients, healthStatus } from '../helpers/grpc.js';
import { startTestService } from '../helpers/service.js';

test('a service on port 0 reports the ports it bound and advertises its internal port', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticket-ports-'));
  const portsFile = path.join(dir, 'ports.json');
  const svc = await startTestService({ PORTS_FILE: portsFile });
  const clients = grpcClients(`127.0.0.1:${svc.service.ports.grpc}`);
  const redis = new Redis(svc.redisUrl, { db: 0, keyPrefix: svc.config.redis.keyPrefix, lazyConnect: true });
  try {
    t.is(svc.config.httpPort, 0);
    t.is(svc.config.grpcPort, 0);
    const { ports } = svc.service;
    t.deepEqual(Object.keys(ports).sort(), [...PORT_NAMES].sort());
    for (const name of PORT_NAMES) t.true(ports[name] > 0, `${name} port ${ports[name]}`);
    t.not(ports.http, ports.grpc);
    t.is(svc.service.grpcPort, ports.grpc);
    t.is(svc.service.httpUrl, `http://127.0.0.1:${ports.http}`);

    // The file: exactly the bound ports, one JSON line, no temporary file left beside it.
    t.deepEqual(await readPortsFile(portsFile), ports);
    t.deepEqual(JSON.parse(await readFile(portsFile, 'utf8')), ports);
    t.deepEqual(await readdir(dir), ['ports.json']);

    // The reported ports are the ones serving.
    t.is((await fetch(`http://127.0.0.1:${ports.http}/health`)).status, 200);
    t.is(await healthStatus(clients), 'SERVING');

    // Other pods forward to the address it registered: POD_IP's default with the bound internal port.
    await redis.connect();
    const registered = JSON.parse((await redis.hget('pods', svc.config.pod.name)) ?? '{}') as { address?: string };
    t.is(registered.address, `127.0.0.1:${ports.internal}`);
  } finally {
    redis.disconnect();
    clients.close();
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('no PORTS_FILE: nothing is written, the ports are still reported', async (t) => {
  const svc = await startTestService();
  try {
    t.is(svc.config.portsFile, undefined);
    t.true(svc.service.ports.http > 0 && svc.service.ports.grpc > 0);
  } finally {
    await svc.close();
  }
});

test('an unwritable PORTS_FILE fails the start', async (t) => {
  const err = await t.throwsAsync(startTestService({ PORTS_FILE: '/nonexistent-folder/ports.json' }));
  t.regex(err?.message ?? '', /PORTS_FILE/);
});

test('readPortsFile: undefined while missing, every port checked', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticket-ports-'));
  try {
    t.is(await readPortsFile(path.join(dir, 'missing.json')), undefined);
    await writeFile(path.join(dir, 'partial.json'), '{"http": 1234}');
    await t.throwsAsync(readPortsFile(path.join(dir, 'partial.json')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
