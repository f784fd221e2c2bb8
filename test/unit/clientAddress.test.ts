/**
 * The cached-read fast path answers before Koa has made a context, so it finds the client
 * address (the rate limiter's key) itself. It must be Koa's `ctx.ip`, whatever the proxy
 * settings and the forwarded header: a property test against Koa's own answer.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import Koa from 'koa';
import { clientAddress, type ProxySettings } from '../../src/rest/cachedReads.js';

function request(remoteAddress: string | undefined, headers: Record<string, string>): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
  const req = new IncomingMessage(socket);
  req.headers = headers;
  return req;
}

function koaIp(req: IncomingMessage, settings: ProxySettings): string {
  const app = new Koa({ proxy: settings.proxy, proxyIpHeader: settings.proxyIpHeader, maxIpsCount: settings.maxIpsCount });
  return app.createContext(req, new ServerResponse(req)).ip;
}

const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('unknown', '', ' ', '  10.0.0.1  '));
const forwarded = fc.tuple(fc.array(address, { maxLength: 5 }), fc.constantFrom(',', ', ', ' ,')).map(([ips, separator]) => ips.join(separator));
const settings = fc.record({
  proxy: fc.boolean(),
  proxyIpHeader: fc.constantFrom('X-Forwarded-For', 'X-Real-IP'),
  maxIpsCount: fc.integer({ min: 0, max: 4 }),
});

test('clientAddress is what Koa makes ctx.ip, for any forwarded header and proxy settings', (t) => {
  fc.assert(
    fc.property(settings, fc.option(fc.ipV4(), { nil: undefined }), fc.option(forwarded, { nil: undefined }), fc.boolean(), (s, peer, header, otherHeader) => {
      const name = (otherHeader ? 'X-Real-IP' : 'X-Forwarded-For').toLowerCase();
      const headers = header === undefined ? {} : { [name]: header };
      t.is(clientAddress(request(peer, headers), s), koaIp(request(peer, headers), s));
    }),
    { numRuns: 500 },
  );
});

test('behind one trusted proxy the last hop counts, a spoofed entry before it does not; without a proxy the peer counts', (t) => {
  const behindOne = { proxy: true, proxyIpHeader: 'X-Forwarded-For', maxIpsCount: 1 };
  const spoofed = request('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' });
  t.is(clientAddress(spoofed, behindOne), '203.0.113.7');
  t.is(koaIp(spoofed, behindOne), '203.0.113.7');
  const direct = { proxy: false, proxyIpHeader: 'X-Forwarded-For', maxIpsCount: 0 };
  t.is(clientAddress(spoofed, direct), '10.0.0.2');
});
