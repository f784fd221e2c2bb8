/**
 * The operator's page in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): the page loads under its Content-Security-Policy without a token,
 * asks for one, shows the shard map and the pod's health from GET /admin/cluster, and
 * follows a chosen event's availability over the stream while a reservation is made
 * through the gRPC API. GET /admin/cluster refuses anything but an admin token.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_PAGE_CSP } from '../../src/rest/routes/admin.js';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { grpcClients, unaryCall } from '../helpers/grpc.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

const test = anyTest as TestFn<{ svc: TestService; browser: Browser }>;

test.before(async (t) => {
  const svc = await startTestService();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] }).catch(async (err: unknown) => {
    await svc.close();
    throw err;
  });
  t.context = { svc, browser };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.svc?.close();
});

/** A fresh page; console errors (a CSP violation among them) are collected. */
async function openAdmin(t: { context: { svc: TestService; browser: Browser }; teardown(fn: () => Promise<void>): void }) {
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  const res = await page.goto(`${t.context.svc.service.httpUrl}/admin`);
  return { page, errors, res };
}

async function enterToken(page: Page, token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('#use-token');
}

const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
/**
 * Wait until `selector` shows exactly `want`. Locators, not waitForFunction: the page's CSP
 * forbids eval, which Playwright's function polling needs (so the test shows the policy holds).
 */
const textOf = (page: Page, selector: string, want: string, timeout = 20_000) =>
  page.locator(selector, { hasText: exactly(want) }).waitFor({ timeout });
// Browser-side code as a string: this program is type-checked without the DOM library.
const storedToken = (page: Page) => page.evaluate<string | null>("sessionStorage.getItem('ticket-service.admin-token')");

test('the page shows the shard map and pod health, and a reservation changes the live availability', async (t) => {
  const { svc } = t.context;
  const count = svc.config.shards.count;
  const event = await createEvent(svc, { title: 'Admin Page Harbour Night' });
  const type = await createTicketType(svc, event.id, { quantity: 10 });

  const { page, errors, res } = await openAdmin(t);
  t.is(res?.status(), 200, 'the page itself needs no token');
  t.is(res?.headers()['content-security-policy'], ADMIN_PAGE_CSP);
  await page.waitForSelector('#message:has-text("Enter an admin token")');
  t.true(await page.locator('#main').isHidden(), 'nothing is shown before a token');

  await enterToken(page, svc.adminToken);
  t.is(await storedToken(page), svc.adminToken, 'the token lives in sessionStorage');
  await page.locator(`#shard-grid .shard-cell[data-shard="${count - 1}"]`).waitFor();
  t.is(await page.locator('#shard-grid .shard-cell').count(), count);
  await textOf(page, '#summary', `${count} shards: ${count} ok, 0 moving, 0 free; 1 live pod`);
  const pod = svc.config.pod.name;
  t.is(await page.locator(`#shard-grid .shard-cell[data-owner="${pod}"]`).count(), count, 'every shard held by the one pod');
  await textOf(page, `#pods tr[data-pod="${pod}"] td.ready`, 'ready');
  t.is(await page.locator(`#pods tr[data-pod="${pod}"] td.owned`).textContent(), String(count));
  t.is(await page.locator('#shards tbody tr').count(), count);

  // Choose the event in the list, watch it: the stream's first snapshot shows all 10.
  await page.waitForSelector(`#event-select option[value="${event.id}"]`, { state: 'attached' });
  await page.selectOption('#event-select', event.id);
  await page.click('#watch');
  const available = `#levels tr[data-ticket-type-id="${type.id}"] td.available`;
  await textOf(page, available, '10');

  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  t.teardown(async () => clients.close());
  const token = await signToken({ roles: ['service'], subject: 'booking-worker' });
  await unaryCall(clients.ticket, 'ReserveTickets', { event_id: event.id, reservation_id: randomUUID(), items: [{ ticket_type_id: type.id, quantity: 3 }] }, { token });
  await textOf(page, available, '7');
  t.deepEqual(errors, [], 'no script error and no CSP violation');
});

test('GET /admin/cluster refuses a missing or non-admin token; the page says so and forgets it', async (t) => {
  const { svc } = t.context;
  const service = await signToken({ roles: ['service'] });
  t.is((await svc.api('GET', '/admin/cluster', { token: null })).status, 401);
  const refused = await svc.api('GET', '/admin/cluster', { token: service });
  t.is(refused.status, 403);
  t.is(refused.body.error.code, 'FORBIDDEN');
  const ok = await svc.api('GET', '/admin/cluster');
  t.is(ok.status, 200);
  t.is(ok.headers.get('cache-control'), 'no-store');
  t.is(ok.body.shards.length, svc.config.shards.count);
  t.is(ok.body.pods[0].readiness.state, 'ready');

  // The static files are served to anyone, under the page's policy; the API keeps its own.
  for (const [path, type] of [['/admin/app.js', 'text/javascript'], ['/admin/admin.css', 'text/css']] as const) {
    const res = await svc.api('GET', path, { token: null });
    t.is(res.status, 200, path);
    t.regex(res.headers.get('content-type') ?? '', new RegExp(`^${type}`), path);
  }
  t.is((await svc.api('GET', '/events', { token: null })).headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");

  const { page } = await openAdmin(t);
  await enterToken(page, service);
  await page.waitForSelector('#message.error:has-text("refused the token (FORBIDDEN)")');
  t.is(await storedToken(page), null);
  t.true(await page.locator('#main').isHidden());
});
