// The guest list: loaded once the event socket is subscribed, then kept current by events
// (one info request for the guest an event names; no polling), search, state filter, bulk actions.
import { Component, html, useCallback, useEffect, useMemo, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows, q, onEvent, STATES, fmtBytes, latest, STALE } from '/static/api.js';
import { ErrorBox } from '/static/ui.js';

const FILTERS = { all: () => true, running: (g) => g.state === 1, paused: (g) => g.state === 3,
  off: (g) => g.state === 5 || g.id === -1 };

const BULK = [
  ['Start', (n) => call('POST', `/v1/domains/${q(n)}/start`, {})],
  ['Shut down', (n) => call('POST', `/v1/domains/${q(n)}/shutdown`, {})],
  ['Force off', (n) => call('POST', `/v1/domains/${q(n)}/destroy`, {})],
];

// One row; re-rendered only when its guest's record or its checkbox changed, so an event for
// one guest of 1000 redraws one row, not the table.
class GuestRow extends Component {
  shouldComponentUpdate(next) { return next.g !== this.props.g || next.checked !== this.props.checked; }

  render({ g, checked, toggle }) {
    return html`<tr data-guest=${g.name}>
      <td><input type="checkbox" aria-label=${'Select ' + g.name} checked=${checked} onChange=${() => toggle(g.name)} /></td>
      <td><a href=${'#/guest/' + encodeURIComponent(g.name)}>${g.name}</a>
        ${g.title ? html`<div class="title">${g.title}</div>` : null}</td>
      <td><span class=${'state s' + g.state} data-state=${g.state}>${STATES[g.state] || g.state}</span></td>
      <td>${g.vcpus}</td><td>${fmtBytes(g.max_mem_kib * 1024)}</td><td>${g.autostart ? 'yes' : 'no'}</td>
    </tr>`;
  }
}

export function GuestList() {
  const [guests, setGuests] = useState(null);
  const [error, setError] = useState(null);
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState('all');
  const [selected, setSelected] = useState(new Set());
  const [results, setResults] = useState(null);

  useEffect(() => {
    const fresh = latest();  // one tracker for the whole list, one per guest for its refreshes
    const load = async () => {
      try {
        const list = rows(await fresh(call('GET', '/v1/domains'), '\0all'));
        setGuests(new Map(list.map((g) => [g.name, g])));
        setError(null);
      } catch (e) { if (e !== STALE) setError(e); }
    };
    const refresh = async (name) => {
      try {
        const info = await fresh(call('GET', `/v1/domains/${q(name)}/info`), name);
        setGuests((m) => new Map(m || []).set(name, info));
      } catch (e) {
        if (e.status === 404) setGuests((m) => { const n = new Map(m || []); n.delete(name); return n; });
      }
    };
    return onEvent((ev) => {
      if (ev.kind === 'Connect' && ev.event === 'subscribed') load();
      else if (ev.kind === 'Domain') {
        if (ev.event === 1) setGuests((m) => { const n = new Map(m || []); n.delete(ev.name); return n; });
        else refresh(ev.name);
      }
    });
  }, []);

  const shown = useMemo(() => {
    if (!guests) return [];
    const s = search.trim().toLowerCase();
    return [...guests.values()]
      .filter(FILTERS[filter])
      .filter((g) => !s || g.name.toLowerCase().includes(s) || (g.title || '').toLowerCase().includes(s))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [guests, search, filter]);

  const toggle = useCallback((name) => setSelected((s) => { const n = new Set(s); n.has(name) ? n.delete(name) : n.add(name); return n; }), []);
  const allShown = shown.length > 0 && shown.every((g) => selected.has(g.name));
  const toggleAll = () => setSelected(allShown ? new Set() : new Set(shown.map((g) => g.name)));

  const bulk = async (label, fn) => {
    const names = shown.map((g) => g.name).filter((n) => selected.has(n));
    setResults({ label, items: names.map((n) => ({ name: n, pending: true })) });
    const settled = await Promise.allSettled(names.map((n) => fn(n)));
    setResults({ label, items: names.map((n, i) => ({ name: n, ok: settled[i].status === 'fulfilled',
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
      <a class="button" href="#/create">New guest</a>
    </div>
    ${results && html`<div class="results" role="status" aria-live="polite">
      <strong>${results.label}:</strong>
      <ul>${results.items.map((r) => html`<li class=${r.pending ? 'pending' : r.ok ? 'ok' : 'failed'}
        data-guest=${r.name}>${r.name}: ${r.pending ? '…' : r.message}</li>`)}</ul>
      <button type="button" class="quiet" onClick=${() => setResults(null)}>Dismiss</button></div>`}
    ${guests === null ? html`<p class="loading">Loading guests…</p>` : html`
    <table class="list" aria-label="Guests">
      <thead><tr>
        <th><input type="checkbox" aria-label="Select all shown guests" checked=${allShown} onChange=${toggleAll} /></th>
        <th>Name</th><th>State</th><th>vCPUs</th><th>Memory</th><th>Autostart</th></tr></thead>
      <tbody>${shown.map((g) => html`<${GuestRow} key=${g.name} g=${g} checked=${selected.has(g.name)} toggle=${toggle} />`)}</tbody>
    </table>
    <p class="count">${shown.length} of ${guests.size} guests shown</p>`}
  </section>`;
}
