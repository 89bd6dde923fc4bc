// The guest list of every connection: each connection's loaded once the event socket carries its
// events, then kept current by them (one info request for the guest an event names; no polling),
// search, state filter, bulk actions.  A guest is known by its connection and name together.
import { Component, html, useCallback, useEffect, useMemo, useRef, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows, q, onEvent, STATES, fmtBytes, latest, STALE, connections, connURI, connLabel, pageHref } from '/static/api.js';
import { ErrorBox } from '/static/ui.js';

const FILTERS = { all: () => true, running: (g) => g.state === 1, paused: (g) => g.state === 3,
  off: (g) => g.state === 5 || g.id === -1 };

const BULK = [
  ['Start', (g) => call('POST', `/v1/domains/${q(g.name)}/start`, {}, g.conn)],
  ['Shut down', (g) => call('POST', `/v1/domains/${q(g.name)}/shutdown`, {}, g.conn)],
  ['Force off', (g) => call('POST', `/v1/domains/${q(g.name)}/destroy`, {}, g.conn)],
];

const keyOf = (conn, name) => `${conn}\0${name}`;

// One row; re-rendered only when its guest's record or its checkbox changed, so an event for
// one guest of 1000 redraws one row, not the table.
class GuestRow extends Component {
  shouldComponentUpdate(next) {
    return next.g !== this.props.g || next.checked !== this.props.checked || next.u !== this.props.u;
  }

  render({ g, checked, toggle, many, u }) {
    const on = g.id !== -1;
    return html`<tr data-guest=${g.name} data-conn=${g.conn}>
      <td><input type="checkbox" aria-label=${'Select ' + g.name + (many ? ' on ' + connLabel(g.conn) : '')} checked=${checked}
        onChange=${() => toggle(g.key)} /></td>
      <td><a href=${pageHref('guest', g.name, g.conn)}>${g.name}</a>
        ${g.title ? html`<div class="title">${g.title}</div>` : null}</td>
      ${many ? html`<td class="conn" title=${connURI(g.conn)}>${connLabel(g.conn)}</td>` : null}
      <td><span class=${'state s' + g.state} data-state=${g.state}>${STATES[g.state] || g.state}</span></td>
      <td class="cpu">${on && u && u.cpu !== null ? `${u.cpu.toFixed(1)} %` : '—'}</td>
      <td>${g.vcpus}</td>
      <td class="mem">${on && u && u.rss ? `${fmtBytes(u.rss * 1024)} of ` : ''}${fmtBytes(g.max_mem_kib * 1024)}</td>
      <td>${g.autostart ? 'yes' : 'no'}</td>
    </tr>`;
  }
}

// CPU and memory use of the running guests: the one sampled figure of the list (states come by
// events).  One domain-stats call per connection every few seconds for its running guests at
// once (cpu.time and the QEMU process's RSS; none when nothing runs there); CPU is % of one host
// CPU, as the guest page's graph.
const USAGE_PERIOD = 3000;
function useUsage(guestsRef) {
  const [usage, setUsage] = useState(new Map());
  useEffect(() => {
    let stopped = false, timer = null;
    const prev = new Map();
    const tick = async () => {
      const next = new Map();
      await Promise.all(connections().map(async (c) => {
        const running = [...(guestsRef.current || new Map()).values()].filter((g) => g.conn === c.id && g.id !== -1)
          .map((g) => g.name);
        if (!running.length) return;
        const args = { groups: 'cpu-total,balloon' };
        if (!running.some((n) => n.includes(','))) args.doms = running.join(',');  // the list's separator
        try {
          const list = await call('GET', '/v1/domain-stats', args, c.id);
          const t = performance.now() / 1000;
          for (const { name, stats } of list) {
            if (stats['cpu.time'] === undefined) continue;
            const key = keyOf(c.id, name), p = prev.get(key);
            const cpu = p ? Math.max(0, (stats['cpu.time'] - p.cpu) / ((t - p.t) * 1e9) * 100) : null;
            next.set(key, { cpu, rss: stats['balloon.rss'] || 0 });
            prev.set(key, { cpu: stats['cpu.time'], t });
          }
        } catch { /* a connection that does not answer now shows no figures */ }
      }));
      if (stopped) return;
      setUsage(next);
      timer = setTimeout(tick, USAGE_PERIOD);
    };
    tick();
    return () => { stopped = true; clearTimeout(timer); };
  }, []);
  return usage;
}

export function GuestList() {
  const [guests, setGuests] = useState(null);
  const [error, setError] = useState(null);
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState('all');
  const [selected, setSelected] = useState(new Set());
  const [results, setResults] = useState(null);

  const many = connections().length > 1;
  const guestsRef = useRef(null);
  guestsRef.current = guests;
  const usage = useUsage(guestsRef);

  useEffect(() => {
    const fresh = latest();  // one tracker per connection's list, one per guest for its refreshes
    const tag = (conn, g) => ({ ...g, conn, key: keyOf(conn, g.name) });
    const drop = (key) => setGuests((m) => { const n = new Map(m || []); n.delete(key); return n; });
    const load = async (conn) => {
      try {
        const list = rows(await fresh(call('GET', '/v1/domains', undefined, conn), conn + '\0\0all'));
        setGuests((m) => {
          const n = new Map([...(m || new Map())].filter(([, g]) => g.conn !== conn));
          for (const g of list) n.set(keyOf(conn, g.name), tag(conn, g));
          return n;
        });
        setError(null);
      } catch (e) { if (e !== STALE) setError(e); }
    };
    const refresh = async (conn, name) => {
      const key = keyOf(conn, name);
      try {
        const info = await fresh(call('GET', `/v1/domains/${q(name)}/info`, undefined, conn), key);
        setGuests((m) => new Map(m || []).set(key, tag(conn, info)));
      } catch (e) {
        if (e.status === 404) drop(key);
      }
    };
    return onEvent((ev) => {
      if (ev.kind === 'Connect' && ev.event === 'subscribed') load(ev.conn);
      else if (ev.kind === 'Domain') {
        if (ev.event === 1) drop(keyOf(ev.conn, ev.name));
        else refresh(ev.conn, ev.name);
      }
    });
  }, []);

  const shown = useMemo(() => {
    if (!guests) return [];
    const s = search.trim().toLowerCase();
    return [...guests.values()]
      .filter(FILTERS[filter])
      .filter((g) => !s || g.name.toLowerCase().includes(s) || (g.title || '').toLowerCase().includes(s))
      .sort((a, b) => a.name.localeCompare(b.name) || a.conn.localeCompare(b.conn));
  }, [guests, search, filter]);

  const toggle = useCallback((name) => setSelected((s) => { const n = new Set(s); n.has(name) ? n.delete(name) : n.add(name); return n; }), []);
  const allShown = shown.length > 0 && shown.every((g) => selected.has(g.key));
  const toggleAll = () => setSelected(allShown ? new Set() : new Set(shown.map((g) => g.key)));

  const bulk = async (label, fn) => {
    const chosen = shown.filter((g) => selected.has(g.key));
    const named = (g) => ({ name: g.name, conn: g.conn, label: many ? `${g.name} (${connLabel(g.conn)})` : g.name });
    setResults({ label, items: chosen.map((g) => ({ ...named(g), pending: true })) });
    const settled = await Promise.allSettled(chosen.map((g) => fn(g)));
    setResults({ label, items: chosen.map((g, i) => ({ ...named(g), ok: settled[i].status === 'fulfilled',
      message: settled[i].status === 'rejected' ? settled[i].reason.message : 'done' })) });
  };

  return html`<section aria-labelledby="guests-h">
    <h1 id="guests-h">Guests</h1>
    <${ErrorBox} error=${error} />
    <div class="toolbar">
      <label for="search" class="sr-only">Search guests</label>
      <input id="search" type="search" placeholder="Search name or title" value=${search}
        onInput=${(e) => setSearch(e.target.value)} />
      <label for="state-filter" class="sr-only">Show guests</label>
      <select id="state-filter" value=${filter} onChange=${(e) => setFilter(e.target.value)}>
        <option value="all">All</option><option value="running">Running</option>
        <option value="paused">Paused</option><option value="off">Shut off</option>
      </select>
      <span class="bulk" role="group" aria-label="Selected guests">
        ${BULK.map(([label, fn]) => html`<button type="button" disabled=${!selected.size}
          onClick=${() => bulk(label, fn)}>${label} (${selected.size})</button>`)}
      </span>
      <a class="button" href=${pageHref('create')}>New guest</a>
    </div>
    ${results && html`<div class="results" role="status" aria-live="polite">
      <strong>${results.label}:</strong>
      <ul>${results.items.map((r) => html`<li class=${r.pending ? 'pending' : r.ok ? 'ok' : 'failed'}
        data-guest=${r.name} data-conn=${r.conn}>${r.label}: ${r.pending ? '…' : r.message}</li>`)}</ul>
      <button type="button" class="quiet" onClick=${() => setResults(null)}>Dismiss</button></div>`}
    ${guests === null ? html`<p class="loading">Loading guests…</p>` : html`
    <table class="list" aria-label="Guests">
      <thead><tr>
        <th><input type="checkbox" aria-label="Select all shown guests" checked=${allShown} onChange=${toggleAll} /></th>
        <th>Name</th>${many ? html`<th>Connection</th>` : null}<th>State</th><th>CPU</th><th>vCPUs</th><th>Memory (used of)</th><th>Autostart</th></tr></thead>
      <tbody>${shown.map((g) => html`<${GuestRow} key=${g.key} g=${g} many=${many} checked=${selected.has(g.key)} toggle=${toggle} u=${usage.get(g.key)} />`)}</tbody>
    </table>
    <p class="count">${shown.length} of ${guests.size} guests shown</p>`}
  </section>`;
}
