// The operator's page (GET /admin). No build step: a plain ES module, served as a file so
// the page's Content-Security-Policy needs no inline script. Every datum comes from the
// service with the admin token the operator enters (kept in sessionStorage: gone with the
// tab): GET /admin/cluster for the shard map and each pod's health, and
// GET /events/:id/availability/stream read with fetch (EventSource cannot send the
// Authorization header, which drafts need). Text goes in with textContent only.

const TOKEN_KEY = 'ticket-service.admin-token';
const CLUSTER_REFRESH_MS = 5000;
const RECONNECT_MS = 1000;

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

function authHeaders() {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function getJson(path) {
  const res = await fetch(path, { headers: { ...authHeaders(), accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'HTTP', body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

function say(text, isError = false) {
  const el = $('message');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

// ---------------------------------------------------------------------------------------
// Token

function showSignedIn(signedIn) {
  $('main').hidden = !signedIn;
  $('forget-token').hidden = !signedIn;
}

/** A refused token is forgotten: the operator enters another one. */
function onAuthError(err) {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    sessionStorage.removeItem(TOKEN_KEY);
    stopAll();
    showSignedIn(false);
    say(`The service refused the token (${err.code}): enter an admin token.`, true);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Cluster

function formatAge(ms) {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms ago`;
  return `${(ms / 1000).toFixed(1)} s ago`;
}

function readiness(r) {
  if (r.state === 'ready') {
    const degraded = Object.entries(r.checks ?? {}).filter(([, v]) => v === 'degraded').map(([k]) => `${k}: degraded`);
    // gRPC services the pod does not serve now (the inventory services while Redis is down).
    const notServing = Object.entries(r.services ?? {}).filter(([k, v]) => k !== '' && v !== 'SERVING').map(([k]) => `${k}: not serving`);
    const notes = [...degraded, ...notServing];
    return { text: notes.length ? `ready (${notes.join(', ')})` : 'ready', className: notes.length ? 'degraded' : '' };
  }
  if (r.state === 'not_ready') {
    const failing = Object.entries(r.checks ?? {}).filter(([, v]) => v !== 'ok' && v !== 'degraded').map(([k, v]) => `${k}: ${v}`);
    return { text: `not ready (${failing.join(', ')})`, className: 'not-ready' };
  }
  if (r.state === 'unreachable') return { text: `unreachable (${r.reason})`, className: 'not-ready' };
  return { text: '-', className: '' };
}

function renderCluster(c) {
  $('summary').textContent = c.summary;
  const colour = new Map(c.pods.map((p, i) => [p.name, `owner-${i % 8}`]));

  const pods = $('pods').tBodies[0];
  pods.replaceChildren();
  for (const p of c.pods) {
    const row = pods.insertRow();
    row.dataset.pod = p.name;
    const name = cell(row, '');
    const swatch = document.createElement('span');
    swatch.className = `swatch ${colour.get(p.name)}`;
    name.append(swatch, document.createTextNode(p.name));
    cell(row, p.state);
    const ready = readiness(p.readiness);
    cell(row, ready.text, `ready ${ready.className}`.trim());
    cell(row, p.live ? formatAge(p.heartbeatAgeMs) : 'gone');
    cell(row, String(p.ownedShards), 'owned');
    cell(row, String(p.desiredShards));
    cell(row, p.http ?? '-');
  }

  const legend = $('legend');
  legend.replaceChildren(
    ...c.pods.map((p) => {
      const item = document.createElement('span');
      const swatch = document.createElement('span');
      swatch.className = `swatch ${colour.get(p.name)}`;
      item.append(swatch, document.createTextNode(p.name));
      return item;
    }),
  );

  const grid = $('shard-grid');
  grid.replaceChildren(
    ...c.shards.map((s) => {
      const el = document.createElement('div');
      el.className = `shard-cell state-${s.state} ${s.leaseOwner ? colour.get(s.leaseOwner) ?? '' : ''}`.trim();
      el.dataset.shard = String(s.shard);
      el.dataset.owner = s.leaseOwner ?? '';
      el.textContent = String(s.shard);
      el.title = `shard ${s.shard}: lease ${s.leaseOwner ?? 'free'}, desired ${s.desiredOwner ?? 'none'}, epoch ${s.epoch ?? '-'} (${s.state})`;
      return el;
    }),
  );

  const shards = $('shards').tBodies[0];
  shards.replaceChildren();
  for (const s of c.shards) {
    const row = shards.insertRow();
    for (const v of [s.shard, s.leaseOwner ?? '-', s.desiredOwner ?? '-', s.state, s.epoch ?? '-', s.epochOwner ?? '-', s.override ?? '']) cell(row, String(v));
  }
}

let clusterTimer;

async function loadCluster() {
  try {
    renderCluster(await getJson('/admin/cluster'));
    say(`Cluster as of ${new Date().toLocaleTimeString()}.`);
  } catch (err) {
    if (!onAuthError(err)) say(`Cluster: ${err.message}`, true);
  }
}

// ---------------------------------------------------------------------------------------
// Events and live availability

async function loadEvents() {
  try {
    const page = await getJson('/events?limit=100');
    const select = $('event-select');
    select.replaceChildren(select.options[0]);
    for (const e of page.items) select.add(new Option(`${e.title} (${e.id})`, e.id));
  } catch (err) {
    if (!onAuthError(err)) say(`Events: ${err.message}`, true);
  }
}

function renderLevels(view) {
  const body = $('levels').tBodies[0];
  body.replaceChildren();
  for (const t of view.ticket_types) {
    const row = body.insertRow();
    row.dataset.ticketTypeId = t.ticket_type_id;
    cell(row, t.name);
    cell(row, String(t.available), 'available');
    cell(row, String(t.capacity));
    cell(row, String(t.sold));
    cell(row, String(t.held));
    cell(row, view.event_locked ? 'locked' : t.status);
    cell(row, t.price?.display ?? '-');
  }
}

function streamState(text, isError = false) {
  const el = $('stream-state');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

/** One SSE frame (`event:` and `data:` lines); availability frames are rendered. */
function onFrame(frame) {
  let event = 'message';
  const data = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (event !== 'availability' || data.length === 0) return;
  const view = JSON.parse(data.join('\n'));
  renderLevels(view);
  streamState(`Live: ${view.event_id}, version ${view.version}, updated ${new Date().toLocaleTimeString()}.`);
}

let stream;

async function watch(eventId) {
  stream?.abort();
  const controller = new AbortController();
  stream = controller;
  $('levels').tBodies[0].replaceChildren();
  streamState(`Connecting to ${eventId}…`);
  while (!controller.signal.aborted) {
    try {
      const res = await fetch(`/events/${encodeURIComponent(eventId)}/availability/stream`, {
        headers: { ...authHeaders(), accept: 'text/event-stream' },
        signal: controller.signal,
        cache: 'no-store',
      });
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        const err = new ApiError(res.status, body?.error?.code ?? 'HTTP', body?.error?.message ?? `HTTP ${res.status}`);
        if (onAuthError(err)) return;
        streamState(`Stream: ${err.message}`, true);
        if (res.status < 500 && res.status !== 429) return; // no such event, bad id: retrying changes nothing
      } else {
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            onFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
        streamState('Stream ended; reconnecting…');
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      streamState(`Stream: ${err.message}; reconnecting…`, true);
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

// ---------------------------------------------------------------------------------------

function stopAll() {
  clearInterval(clusterTimer);
  clusterTimer = undefined;
  stream?.abort();
  stream = undefined;
}

function start() {
  showSignedIn(true);
  stopAll();
  void loadCluster();
  void loadEvents();
  clusterTimer = setInterval(() => void loadCluster(), CLUSTER_REFRESH_MS);
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('token').value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  $('token').value = '';
  start();
});

$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  stopAll();
  showSignedIn(false);
  say('Token forgotten.');
});

$('refresh').addEventListener('click', () => void loadCluster());

$('event-select').addEventListener('change', (e) => {
  if (e.target.value) $('event-id').value = e.target.value;
});

$('watch-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $('event-id').value.trim() || $('event-select').value;
  if (id) void watch(id);
});

if (token()) start();
else say('Enter an admin token to see the cluster.');
