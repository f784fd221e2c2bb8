/**
 * The cached-read fast path runs before Koa, outside its error handling: a throw in it must
 * neither escape the HTTP server's handler nor leave the request unanswered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { pino } from 'pino';
import { RestKoa } from '../../src/rest/app.js';
import type { CachedReads } from '../../src/rest/cachedReads.js';

async function serve(cached: CachedReads['serve']): Promise<{ url: string; server: Server; errors: unknown[] }> {
  const app = new RestKoa();
  app.use((ctx) => {
    ctx.body = 'from koa';
  });
  app.cached = { serve: cached } as CachedReads;
  const errors: unknown[] = [];
  app.log = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line)) });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server, errors };
}

test('a fast path that throws before answering hands the request to Koa, and the failure is logged', async (t) => {
  const { url, server, errors } = await serve(() => {
    throw new Error('boom');
  });
  t.teardown(() => server.close());
  const res = await fetch(url);
  t.is(res.status, 200);
  t.is(await res.text(), 'from koa');
  t.like(errors[0], { msg: 'cached read failed' });
});

test('a fast path that throws after its head went out ends the connection instead of hanging', async (t) => {
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-length': '10' });
    throw new Error('boom');
  });
  t.teardown(() => server.close());
  await t.throwsAsync(async () => {
    const res = await fetch(url);
    await res.text();
  });
});
