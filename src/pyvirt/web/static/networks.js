// Virtual networks: list, start/stop, autostart, DHCP leases; kept current by network events.
import { html, useEffect, useMemo, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows, q, onEventOf, conn, latest, STALE } from '/static/api.js';
import { Action, ErrorBox, Field } from '/static/ui.js';

// A network's XML built through the DOM: NAT or isolated with an IPv4 subnet and DHCP, or a
// bridge to an existing host bridge (libvirt's <forward mode='bridge'>).
function networkXml(f) {
  const doc = document.implementation.createDocument(null, 'network', null);
  const root = doc.documentElement;
  const add = (parent, tag, attrs = {}, text) => {
    const e = doc.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  };
  add(root, 'name', {}, f.name.trim());
  if (f.mode === 'bridge') {
    add(root, 'forward', { mode: 'bridge' });
    add(root, 'bridge', { name: f.bridge.trim() });
  } else {
    if (f.mode === 'nat') add(root, 'forward', { mode: 'nat' });
    const m = /^(\d+)\.(\d+)\.(\d+)\.0\/24$/.exec(f.subnet.trim());
    if (!m) throw new Error('subnet: give a /24 such as 192.168.150.0/24');
    const base = `${m[1]}.${m[2]}.${m[3]}.`;
    const ip = add(root, 'ip', { address: base + '1', netmask: '255.255.255.0' });
    if (f.dhcp) add(add(ip, 'dhcp'), 'range', { start: base + '2', end: base + '254' });
  }
  return new XMLSerializer().serializeToString(doc);
}

function CreateNetwork({ onDone }) {
  const [f, setF] = useState({ name: '', mode: 'nat', subnet: '192.168.150.0/24', dhcp: true, bridge: 'br0', start: true });
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const create = async () => {
    const info = await call('POST', '/v1/networks', { xml: networkXml(f) });
    if (f.start) await call('POST', `/v1/networks/${q(info.name)}/start`, {});
    setF({ ...f, name: '' });
    await onDone();
  };
  return html`<form class="card" onSubmit=${(e) => e.preventDefault()} aria-labelledby="newnet-h">
    <h2 id="newnet-h">New network</h2>
    <${Field} id="net-name" label="Name"><input id="net-name" value=${f.name} onInput=${set('name')} /></${Field}>
    <${Field} id="net-mode" label="Kind"><select id="net-mode" value=${f.mode} onChange=${set('mode')}>
      <option value="nat">NAT (guests reach outside through the host)</option>
      <option value="isolated">isolated (guests and host only)</option>
      <option value="bridge">bridge to an existing host bridge</option></select></${Field}>
    ${f.mode === 'bridge'
      ? html`<${Field} id="net-bridge" label="Host bridge"><input id="net-bridge" value=${f.bridge} onInput=${set('bridge')} /></${Field}>`
      : html`<${Field} id="net-subnet" label="IPv4 subnet (/24)"><input id="net-subnet" value=${f.subnet} onInput=${set('subnet')} /></${Field}>
        <p><input type="checkbox" id="net-dhcp" checked=${f.dhcp} onChange=${set('dhcp')} /> <label for="net-dhcp">DHCP</label></p>`}
    <p><input type="checkbox" id="net-start" checked=${f.start} onChange=${set('start')} /> <label for="net-start">Start it now</label></p>
    <${Action} label="Create network" disabled=${!f.name.trim()} run=${create} />
  </form>`;
}

export function Networks() {
  const [nets, setNets] = useState(null);
  const [error, setError] = useState(null);
  const [leases, setLeases] = useState({});
  const fresh = useMemo(latest, []);
  const load = async () => {
    try { setNets(rows(await fresh(call('GET', '/v1/networks')))); setError(null); } catch (e) { if (e !== STALE) setError(e); }
  };
  useEffect(() => onEventOf(conn(), (ev) => { if (ev.event === 'subscribed' || ev.kind === 'Network') load(); }), []);
  const showLeases = async (n) => {
    try { setLeases({ ...leases, [n]: await call('GET', `/v1/networks/${q(n)}/leases`) }); } catch (e) { setLeases({ ...leases, [n]: e }); }
  };
  return html`<section aria-labelledby="net-h"><h1 id="net-h">Networks</h1>
    <${ErrorBox} error=${error} />
    <${CreateNetwork} onDone=${load} />
    ${nets && (nets.length ? html`<table class="list" aria-label="Networks"><thead><tr><th>Name</th><th>State</th><th>Bridge</th><th>Autostart</th><th>Actions</th></tr></thead>
      <tbody>${nets.map((n) => html`<tr key=${n.name} data-network=${n.name}><td>${n.name}</td>
        <td><span class=${'state ' + (n.active ? 's1' : 's5')}>${n.active ? 'active' : 'inactive'}</span></td>
        <td>${n.bridge || '—'}</td><td>${n.autostart ? 'yes' : 'no'}</td>
        <td><${Action} label="Start" disabled=${n.active} run=${() => call('POST', `/v1/networks/${q(n.name)}/start`, {})} />
          <${Action} label="Stop" disabled=${!n.active} run=${() => call('POST', `/v1/networks/${q(n.name)}/destroy`, {})} />
          <${Action} label=${n.autostart ? 'No autostart' : 'Autostart'} disabled=${!n.persistent}
            run=${async () => { await call('POST', `/v1/networks/${q(n.name)}/autostart`, { autostart: !n.autostart }); await load(); }} />
          <${Action} label="Delete" kind="danger" disabled=${n.active || !n.persistent}
            run=${async () => { await call('DELETE', `/v1/networks/${q(n.name)}`); await load(); }} />
          <${Action} label="DHCP leases" disabled=${!n.active} run=${() => showLeases(n.name)} />
          ${leases[n.name] && (leases[n.name] instanceof Error ? html`<${ErrorBox} error=${leases[n.name]} />`
            : html`<ul class="leases">${leases[n.name].length ? leases[n.name].map((l) => html`<li>${l.ipaddr || l.ip || ''} ${l.mac || ''} ${l.hostname || ''}</li>`) : html`<li>no leases</li>`}</ul>`)}
        </td></tr>`)}</tbody></table>` : html`<p>No networks.</p>`)}
  </section>`;
}
