// The page's one way to the server: the JSON API (pyvirtd's operations under /api), the CSRF
// token on every state change, and the one live event socket every view listens to.
let session = null;

export class ApiError extends Error {
  constructor(error, status) {
    super(error.message || `HTTP ${status}`);
    this.code = error.code;
    this.status = status;
  }
}

export async function init() {
  const r = await fetch('/api/session');
  if (r.status === 401) { location.href = '/login'; return null; }
  session = await r.json();
  return session;
}

export function csrf() { return session ? session.csrf : ''; }

// ------------------------------------------------------------------ connections
// One web process may serve several connections (qemu:///system and qemu:///session): every
// request names its connection (/api/c/ID/...), and so does every route of the page
// (#/c/ID/guest/NAME, #/c/ID/storage, ...; #/guests lists the guests of all of them).  The shell
// sets the connection its route names before a view renders; a view is keyed by it.
let current = null;
export function connections() { return session ? session.connections : []; }
export function setConn(id) { current = id; }
export function conn() { return current; }
export function connURI(id) { const c = connections().find((x) => x.id === id); return c ? c.uri : id; }
// what the page calls a connection: its label from the config file, else its URI
export function connLabel(id) { const c = connections().find((x) => x.id === id); return c ? (c.label || c.uri) : id; }
export function apiPath(path, id = current) { return `/api/c/${encodeURIComponent(id)}${path}`; }
export function pageHref(page, arg, id = current) {
  return `#/c/${encodeURIComponent(id)}/${page}${arg === undefined ? '' : '/' + encodeURIComponent(arg)}`;
}

function query(args) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(args || {})) {
    if (v === undefined || v === null) continue;
    q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

// call('POST', `/v1/domains/${q(name)}/start`, {paused: false}) -> the operation's result, on the
// route's connection (or the one named by `id`)
export async function call(method, path, args, id = current) {
  let url = apiPath(path, id);
  const opts = { method, headers: {} };
  if (method === 'GET' || method === 'DELETE') url += query(args);
  else { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(args || {}); }
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = csrf();
  const r = await fetch(url, opts);
  if (r.status === 401) { location.href = '/login'; throw new ApiError({ message: 'logged out' }, 401); }
  let data;
  try { data = await r.json(); } catch { throw new ApiError({ message: `${r.status} ${r.statusText}` }, r.status); }
  if (data.error) throw new ApiError(data.error, r.status);
  return data.result;
}

// A long tool run (/create, /clone): NDJSON lines {"line"} as they come, given to onLine, then
// {"result"} (returned) or {"error"} (thrown).  A refusal before the run is plain JSON.
export async function callStream(path, args, onLine, id = current) {
  const r = await fetch(apiPath(path, id), { method: 'POST', body: JSON.stringify(args || {}),
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() } });
  if (r.status === 401) { location.href = '/login'; throw new ApiError({ message: 'logged out' }, 401); }
  if (!(r.headers.get('Content-Type') || '').startsWith('application/x-ndjson')) {
    const data = await r.json().catch(() => ({ error: { message: `${r.status} ${r.statusText}` } }));
    if (data.error) throw new ApiError(data.error, r.status);
    return data.result;
  }
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if ('line' in msg) onLine(msg.line); else last = msg;
    }
    if (done) break;
  }
  if (!last) throw new ApiError({ message: 'the run ended without an answer' }, r.status);
  if (last.error) throw new ApiError(last.error, r.status);
  return last.result;
}

// a list of records crosses the wire as {fields, rows}
export function rows(table) {
  if (!table || !table.fields) return table || [];
  return table.rows.map((r) => Object.fromEntries(table.fields.map((f, i) => [f, r[i]])));
}

export const q = encodeURIComponent;

export function wsURL(path) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

// ------------------------------------------------------------------ events
const listeners = new Set();
let socket = null;

// events of one connection (and the socket's own 'lost', which is every connection's)
export function onEventOf(id, fn) { return onEvent((ev) => { if (!ev.conn || ev.conn === id) fn(ev); }); }

export function onEvent(fn) {
  listeners.add(fn);
  if (socket && socket.readyState === WebSocket.OPEN) {
    for (const id of socket.subscribed) fn({ kind: 'Connect', event: 'subscribed', conn: id });
  }
  return () => listeners.delete(fn);
}

function emit(ev) { for (const fn of [...listeners]) fn(ev); }

export function openEvents() {
  socket = new WebSocket(wsURL('/api/events'));
  socket.subscribed = new Set();  // the connections whose events this socket now carries
  socket.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.kind === 'Connect' && ev.event === 'subscribed') socket.subscribed.add(ev.conn);
    if (ev.kind === 'Connect' && ev.event === 'lost') socket.subscribed.delete(ev.conn);
    emit(ev);
  };
  socket.onclose = () => { emit({ kind: 'Connect', event: 'lost' }); setTimeout(openEvents, 2000); };
}

// ------------------------------------------------------------------ libvirt's numbers
// Reloads triggered by events overlap (a network's 'defined' and 'started' events each fetch the
// list), and their replies can arrive out of order: an older reply landing last would put a stale
// state on the page. `latest()` makes one tracker per list (or per key, e.g. a guest's name): a
// reply that is no longer the newest for its key rejects with STALE, which callers ignore.
export const STALE = new Error('superseded by a newer request');
export function latest() {
  const seq = new Map();
  return (promise, key = '') => {
    const mine = (seq.get(key) || 0) + 1;
    seq.set(key, mine);
    return promise.then(
      (value) => { if (seq.get(key) !== mine) throw STALE; return value; },
      (err) => { throw seq.get(key) === mine ? err : STALE; });
  };
}

export const STATES = ['no state', 'running', 'blocked', 'paused', 'in shutdown', 'shut off', 'crashed', 'suspended'];
export const RUNNING = 1, PAUSED = 3, SHUTOFF = 5;
export function active(info) { return info.id !== -1; }

export function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// XML built through the DOM, so names are escaped by the serializer, never by hand
export function xmlDoc(root, children) {
  const doc = document.implementation.createDocument(null, root, null);
  for (const [tag, text] of Object.entries(children)) {
    if (text === undefined || text === '') continue;
    const el = doc.createElement(tag);
    el.textContent = text;
    doc.documentElement.appendChild(el);
  }
  return new XMLSerializer().serializeToString(doc);
}
