// Virtual networks: list, start/stop, autostart, DHCP leases; kept current by network events.
import { html, useEffect, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows, q, onEvent } from '/static/api.js';
import { Action, ErrorBox } from '/static/ui.js';

export function Networks() {
  const [nets, setNets] = useState(null);
  const [error, setError] = useState(null);
  const [leases, setLeases] = useState({});
  const load = async () => { try { setNets(rows(await call('GET', '/v1/networks'))); setError(null); } catch (e) { setError(e); } };
  useEffect(() => onEvent((ev) => { if (ev.event === 'subscribed' || ev.kind === 'Network') load(); }), []);
  const showLeases = async (n) => {
    try { setLeases({ ...leases, [n]: await call('GET', `/v1/networks/${q(n)}/leases`) }); } catch (e) { setLeases({ ...leases, [n]: e }); }
  };
  return html`<section aria-labelledby="net-h"><h1 id="net-h">Networks</h1>
    <${ErrorBox} error=${error} />
    ${nets && (nets.length ? html`<table class="list" aria-label="Networks"><thead><tr><th>Name</th><th>State</th><th>Bridge</th><th>Autostart</th><th>Actions</th></tr></thead>
      <tbody>${nets.map((n) => html`<tr key=${n.name} data-network=${n.name}><td>${n.name}</td>
        <td><span class=${'state ' + (n.active ? 's1' : 's5')}>${n.active ? 'active' : 'inactive'}</span></td>
        <td>${n.bridge || '—'}</td><td>${n.autostart ? 'yes' : 'no'}</td>
        <td><${Action} label="Start" disabled=${n.active} run=${() => call('POST', `/v1/networks/${q(n.name)}/start`, {})} />
          <${Action} label="Stop" disabled=${!n.active} run=${() => call('POST', `/v1/networks/${q(n.name)}/destroy`, {})} />
          <${Action} label=${n.autostart ? 'No autostart' : 'Autostart'} disabled=${!n.persistent}
            run=${async () => { await call('POST', `/v1/networks/${q(n.name)}/autostart`, { autostart: !n.autostart }); await load(); }} />
          <${Action} label="DHCP leases" disabled=${!n.active} run=${() => showLeases(n.name)} />
          ${leases[n.name] && (leases[n.name] instanceof Error ? html`<${ErrorBox} error=${leases[n.name]} />`
            : html`<ul class="leases">${leases[n.name].length ? leases[n.name].map((l) => html`<li>${l.ipaddr || l.ip || ''} ${l.mac || ''} ${l.hostname || ''}</li>`) : html`<li>no leases</li>`}</ul>`)}
        </td></tr>`)}</tbody></table>` : html`<p>No networks.</p>`)}
  </section>`;
}
