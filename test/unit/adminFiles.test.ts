/**
 * The operator's page ships as files: everything index.html loads is in admin/ and has a
 * route, nothing is inline (the page's CSP forbids it), and the image copies the folder
 * to where the compiled service looks for it (dist/src/rest/routes → ../../../../admin).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { RestDeps } from '../../src/rest/deps.js';
import { adminRoutes, resolveAdminDir } from '../../src/rest/routes/admin.js';

const dir = resolveAdminDir();
const html = readFileSync(path.join(dir, 'index.html'), 'utf8');

test('every file the page loads is in admin/ and served under /admin', (t) => {
  const served = new Set(adminRoutes({} as RestDeps).map((r) => r.path));
  const loaded = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
  t.true(loaded.length >= 3);
  for (const url of loaded) {
    t.true(url.startsWith('/admin/'), url);
    t.true(served.has(url), `${url} has a route`);
    t.true(existsSync(path.join(dir, url.slice('/admin/'.length))), `${url} is a file in admin/`);
  }
});

test('nothing inline: no script body, no style element or attribute, no event handler attribute', (t) => {
  t.notRegex(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  t.notRegex(html, /<style\b|\sstyle=|\son[a-z]+=/i);
});

test('the image copies admin/ next to dist/', (t) => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
  t.regex(runtime, /^COPY admin \.\/admin$/m);
  t.regex(runtime, /^WORKDIR \/app$/m);
});
