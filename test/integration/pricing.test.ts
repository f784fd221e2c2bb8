import test, { type TestFn } from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

const t0 = test as TestFn<{ svc: TestService; serviceToken: string }>;
t0.before(async (t) => {
  t.context.svc = await startTestService();
  t.context.serviceToken = await signToken({ roles: ['service'] });
});
t0.after.always(async (t) => {
  await t.context.svc?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';

async function newEvent(svc: TestService): Promise<string> {
  const { rows } = await svc.db.query<{ id: string }>(
    `INSERT INTO events (title, category, start_date, end_date)
     VALUES ('X', 'concerts', now() + interval '10 days', now() + interval '10 days 3 hours') RETURNING id`,
  );
  return rows[0]!.id;
}

async function newTicketType(svc: TestService, eventId: string): Promise<string> {
  const { rows } = await svc.db.query<{ id: string }>(
    `INSERT INTO ticket_types (event_id, name, price_minor, quantity, available_quantity)
     VALUES ($1, 'GA', 5000, 100, 100) RETURNING id`,
    [eventId],
  );
  return rows[0]!.id;
}

const rule = { name: 'Surge', kind: 'demand', threshold: 8000, adjustment_bps: 2500 };
const promo = { code: 'Summer10', percent_off_bps: 1000, max_uses: 100 };

t0('pricing rule CRUD round trip', async (t) => {
  const { svc } = t.context;
  const eventId = await newEvent(svc);
  const ticketTypeId = await newTicketType(svc, eventId);
  const base = `/events/${eventId}/pricing-rules`;
  const created = await svc.api('POST', base, { body: { ...rule, ticket_type_id: ticketTypeId } });
  t.is(created.status, 201);
  t.like(created.body, { event_id: eventId, ticket_type_id: ticketTypeId, kind: 'demand', threshold: 8000, active: true });
  const list = await svc.api('GET', base);
  t.is(list.status, 200);
  t.deepEqual(list.body, { items: [created.body], next_cursor: null });
  const updated = await svc.api('PUT', `${base}/${created.body.id}`, {
    body: { kind: 'time', threshold: 86_400, adjustment_bps: -1000, ticket_type_id: null, active: false },
  });
  t.is(updated.status, 200);
  t.like(updated.body, { name: 'Surge', kind: 'time', threshold: 86_400, adjustment_bps: -1000, ticket_type_id: null, active: false });
  t.is((await svc.api('DELETE', `${base}/${created.body.id}`)).status, 204);
  t.is((await svc.api('DELETE', `${base}/${created.body.id}`)).body.error.code, 'NOT_FOUND');
  t.deepEqual((await svc.api('GET', base)).body.items, []);
});

t0('promo code CRUD round trip', async (t) => {
  const { svc } = t.context;
  const eventId = await newEvent(svc);
  const base = `/events/${eventId}/promo-codes`;
  const created = await svc.api('POST', base, {
    body: { ...promo, valid_from: '2030-01-01T00:00:00Z', valid_until: '2030-02-01T00:00:00.000Z' },
  });
  t.is(created.status, 201);
  t.like(created.body, {
    event_id: eventId,
    code: 'Summer10',
    percent_off_bps: 1000,
    amount_off: null,
    max_uses: 100,
    used_count: 0,
    valid_from: '2030-01-01T00:00:00.000Z',
    valid_until: '2030-02-01T00:00:00.000Z',
    active: true,
  });
  const list = await svc.api('GET', base);
  t.deepEqual(list.body, { items: [created.body], next_cursor: null });
  // Switching to an amount discount clears the percentage.
  const updated = await svc.api('PUT', `${base}/${created.body.id}`, {
    body: { amount_off_minor: 500, currency: 'USD', max_uses: null, valid_until: null },
  });
  t.is(updated.status, 200);
  t.like(updated.body, {
    code: 'Summer10',
    percent_off_bps: null,
    amount_off: { currency: 'USD', amount_minor: 500, display: '$5.00' },
    max_uses: null,
    valid_from: '2030-01-01T00:00:00.000Z',
    valid_until: null,
  });
  const back = await svc.api('PUT', `${base}/${created.body.id}`, { body: { percent_off_bps: 2000, code: 'SUMMER10' } });
  t.like(back.body, { code: 'SUMMER10', percent_off_bps: 2000, amount_off: null });
  t.is((await svc.api('DELETE', `${base}/${created.body.id}`)).status, 204);
  t.is((await svc.api('PUT', `${base}/${created.body.id}`, { body: { active: false } })).status, 404);
});

t0('promo codes are unique per event regardless of case', async (t) => {
  const { svc } = t.context;
  const eventId = await newEvent(svc);
  const otherEvent = await newEvent(svc);
  t.is((await svc.api('POST', `/events/${eventId}/promo-codes`, { body: promo })).status, 201);
  const dup = await svc.api('POST', `/events/${eventId}/promo-codes`, { body: { ...promo, code: 'SUMMER10' } });
  t.is(dup.status, 409);
  t.is(dup.body.error.code, 'CONFLICT');
  // The same code on another event is fine.
  t.is((await svc.api('POST', `/events/${otherEvent}/promo-codes`, { body: promo })).status, 201);
  // Renaming onto an existing code conflicts too.
  const other = await svc.api('POST', `/events/${eventId}/promo-codes`, { body: { ...promo, code: 'WINTER' } });
  const rename = await svc.api('PUT', `/events/${eventId}/promo-codes/${other.body.id}`, { body: { code: 'summer10' } });
  t.is(rename.status, 409);
  t.is(rename.body.error.code, 'CONFLICT');
});

t0('validation errors are 400 VALIDATION', async (t) => {
  const { svc } = t.context;
  const eventId = await newEvent(svc);
  const otherTicketType = await newTicketType(svc, await newEvent(svc));
  const rules = `/events/${eventId}/pricing-rules`;
  const codes = `/events/${eventId}/promo-codes`;
  const bad = [
    await svc.api('POST', rules, { body: { ...rule, kind: 'weather' } }),
    await svc.api('POST', rules, { body: { ...rule, threshold: 10_001 } }),
    await svc.api('POST', rules, { body: { ...rule, adjustment_bps: 100_001 } }),
    await svc.api('POST', rules, { body: { ...rule, surprise: 1 } }),
    await svc.api('POST', rules, { body: { ...rule, ticket_type_id: otherTicketType } }),
    await svc.api('POST', rules, { body: { ...rule, ticket_type_id: 'nope' } }),
    await svc.api('POST', codes, { body: { ...promo, amount_off_minor: 500, currency: 'USD' } }),
    await svc.api('POST', codes, { body: { code: 'NONE' } }),
    await svc.api('POST', codes, { body: { code: 'AMT', amount_off_minor: 500 } }),
    await svc.api('POST', codes, { body: { ...promo, currency: 'USD' } }),
    await svc.api('POST', codes, { body: { ...promo, percent_off_bps: 0 } }),
    await svc.api('POST', codes, { body: { ...promo, code: 'has space' } }),
    await svc.api('POST', codes, { body: { ...promo, used_count: 5 } }),
    await svc.api('POST', codes, {
      body: { ...promo, valid_from: '2030-02-01T00:00:00Z', valid_until: '2030-01-01T00:00:00Z' },
    }),
    await svc.api('GET', '/events/not-a-uuid/promo-codes'),
    await svc.api('PUT', `${rules}/not-a-uuid`, { body: { active: false } }),
    await svc.api('GET', `${codes}?cursor=garbage`),
    await svc.api('GET', `${codes}?limit=0`),
  ];
  for (const [i, res] of bad.entries()) {
    t.is(res.status, 400, `case ${i}: ${JSON.stringify(res.body)}`);
    t.is(res.body.error?.code, 'VALIDATION', `case ${i}`);
  }
  // Patches are checked against the stored row.
  const r = await svc.api('POST', rules, { body: { ...rule, kind: 'time', threshold: 86_400 } });
  const c = await svc.api('POST', codes, { body: { ...promo, valid_from: '2030-01-01T00:00:00Z' } });
  const badPatches = [
    await svc.api('PUT', `${rules}/${r.body.id}`, { body: {} }),
    await svc.api('PUT', `${rules}/${r.body.id}`, { body: { kind: 'demand' } }),
    await svc.api('PUT', `${rules}/${r.body.id}`, { body: { ticket_type_id: otherTicketType } }),
    await svc.api('PUT', `${codes}/${c.body.id}`, { body: { valid_until: '2029-12-31T00:00:00Z' } }),
    await svc.api('PUT', `${codes}/${c.body.id}`, { body: { percent_off_bps: 100, amount_off_minor: 1, currency: 'USD' } }),
    await svc.api('PUT', `${codes}/${c.body.id}`, { body: { used_count: 0 } }),
  ];
  for (const [i, res] of badPatches.entries()) {
    t.is(res.status, 400, `patch ${i}: ${JSON.stringify(res.body)}`);
    t.is(res.body.error?.code, 'VALIDATION', `patch ${i}`);
  }
});

t0('auth: 401 without a token, 403 without the admin role', async (t) => {
  const { svc, serviceToken } = t.context;
  const eventId = await newEvent(svc);
  const rules = `/events/${eventId}/pricing-rules`;
  const codes = `/events/${eventId}/promo-codes`;
  const calls: [string, string, unknown?][] = [
    ['GET', rules],
    ['POST', rules, rule],
    ['PUT', `${rules}/${MISSING}`, { active: false }],
    ['DELETE', `${rules}/${MISSING}`],
    ['GET', codes],
    ['POST', codes, promo],
    ['PUT', `${codes}/${MISSING}`, { active: false }],
    ['DELETE', `${codes}/${MISSING}`],
  ];
  for (const [method, path, body] of calls) {
    const anon = await svc.api(method, path, { body, token: null });
    t.is(anon.status, 401, `${method} ${path}`);
    t.is(anon.body.error.code, 'UNAUTHENTICATED');
    const service = await svc.api(method, path, { body, token: serviceToken });
    t.is(service.status, 403, `${method} ${path}`);
    t.is(service.body.error.code, 'FORBIDDEN');
  }
});

t0('unknown event, rule or code is 404 NOT_FOUND', async (t) => {
  const { svc } = t.context;
  const eventId = await newEvent(svc);
  const otherEvent = await newEvent(svc);
  const r = await svc.api('POST', `/events/${eventId}/pricing-rules`, { body: rule });
  const c = await svc.api('POST', `/events/${eventId}/promo-codes`, { body: promo });
  const missing = [
    await svc.api('GET', `/events/${MISSING}/pricing-rules`),
    await svc.api('POST', `/events/${MISSING}/pricing-rules`, { body: rule }),
    await svc.api('GET', `/events/${MISSING}/promo-codes`),
    await svc.api('POST', `/events/${MISSING}/promo-codes`, { body: promo }),
    await svc.api('PUT', `/events/${eventId}/pricing-rules/${MISSING}`, { body: { active: false } }),
    await svc.api('DELETE', `/events/${eventId}/pricing-rules/${MISSING}`),
    await svc.api('PUT', `/events/${eventId}/promo-codes/${MISSING}`, { body: { active: false } }),
    await svc.api('DELETE', `/events/${eventId}/promo-codes/${MISSING}`),
    // A rule or code is only reachable through its own event.
    await svc.api('PUT', `/events/${otherEvent}/pricing-rules/${r.body.id}`, { body: { active: false } }),
    await svc.api('DELETE', `/events/${otherEvent}/promo-codes/${c.body.id}`),
  ];
  for (const [i, res] of missing.entries()) {
    t.is(res.status, 404, `case ${i}: ${JSON.stringify(res.body)}`);
    t.is(res.body.error.code, 'NOT_FOUND', `case ${i}`);
  }
  t.like((await svc.api('POST', `/events/${MISSING}/promo-codes`, { body: promo })).body.error.details, {
    resource: 'event',
    id: MISSING,
  });
});

for (const kind of ['pricing-rules', 'promo-codes'] as const) {
  t0(`${kind} paginate with a cursor`, async (t) => {
    const { svc } = t.context;
    const eventId = await newEvent(svc);
    const base = `/events/${eventId}/${kind}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const body = kind === 'pricing-rules' ? { ...rule, name: `R${i}` } : { ...promo, code: `CODE${i}` };
      const res = await svc.api('POST', base, { body });
      t.is(res.status, 201);
      ids.push(res.body.id as string);
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await svc.api('GET', `${base}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      t.is(page.status, 200);
      sizes.push(page.body.items.length);
      seen.push(...page.body.items.map((x: { id: string }) => x.id));
      cursor = page.body.next_cursor;
    } while (cursor && sizes.length < 10);
    t.deepEqual(sizes, [2, 2, 1]);
    t.deepEqual(seen, ids);
    t.is(new Set(seen).size, 5);
  });
}
