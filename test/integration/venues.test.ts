import anyTest, { type TestFn } from 'ava';
import { startTestService, type TestService } from '../helpers/service.js';

const t0 = anyTest as TestFn<{ svc: TestService }>;
t0.before(async (t) => {
  t.context.svc = await startTestService();
});
t0.after.always(async (t) => {
  await t.context.svc?.close();
});

const venue = {
  name: 'Blue Hall',
  address: '1 Main St',
  city: 'Lisbon',
  country: 'Portugal',
  latitude: 38.72,
  longitude: -9.14,
  capacity: 1200,
  amenities: ['bar'],
};

t0('venue CRUD round trip', async (t) => {
  const { api } = t.context.svc;
  const created = await api('POST', '/venues', { body: venue });
  t.is(created.status, 201);
  t.is(created.body.city, 'Lisbon');
  t.is(created.body.latitude, 38.72);
  const got = await api('GET', `/venues/${created.body.id}`, { token: null });
  t.is(got.status, 200);
  t.deepEqual(got.body, created.body);
  const updated = await api('PUT', `/venues/${created.body.id}`, { body: { capacity: 1500 } });
  t.is(updated.status, 200);
  t.is(updated.body.capacity, 1500);
  t.is(updated.body.name, 'Blue Hall');
  const del = await api('DELETE', `/venues/${created.body.id}`);
  t.is(del.status, 204);
  t.is((await api('GET', `/venues/${created.body.id}`)).status, 404);
});

t0('venue validation and errors', async (t) => {
  const { api } = t.context.svc;
  const bad = await api('POST', '/venues', { body: { ...venue, latitude: 123 } });
  t.is(bad.status, 400);
  t.is(bad.body.error.code, 'VALIDATION');
  const extra = await api('POST', '/venues', { body: { ...venue, hacker: true } });
  t.is(extra.status, 400);
  const badId = await api('GET', '/venues/not-a-uuid');
  t.is(badId.status, 400);
  const missing = await api('GET', '/venues/00000000-0000-4000-8000-000000000000');
  t.is(missing.status, 404);
  t.is(missing.body.error.code, 'NOT_FOUND');
  const noAuth = await api('POST', '/venues', { body: venue, token: null });
  t.is(noAuth.status, 401);
  const emptyPatch = await api('PUT', '/venues/00000000-0000-4000-8000-000000000000', { body: {} });
  t.is(emptyPatch.status, 400);
});

t0('venue listing filters by city and pages without repeats', async (t) => {
  const { api } = t.context.svc;
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await api('POST', '/venues', { body: { ...venue, city: 'Tromsø', name: `V${i}` } })).body.id);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: Array<{ id: string; city: string }>; next_cursor: string | null } } = await api(
      'GET',
      `/venues?city=TROMSØ&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    t.true(page.body.items.every((v) => v.city === 'Tromsø'));
    seen.push(...page.body.items.map((v) => v.id));
    cursor = page.body.next_cursor;
  } while (cursor);
  t.deepEqual(seen, ids);
});
