// One guest: overview (+ CPU graph), actions, serial console, VNC console, snapshots, XML, delete.
import { html, useEffect, useRef, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows, q, onEvent, STATES, fmtBytes, wsURL, xmlDoc } from '/static/api.js';
import { Action, ErrorBox, Field, loadAsset } from '/static/ui.js';

const TABS = [['overview', 'Overview'], ['console', 'Serial console'], ['graphics', 'Graphical console'],
  ['snapshots', 'Snapshots'], ['xml', 'XML'], ['delete', 'Delete']];

function parseXML(text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const os = doc.querySelector('os > type');
  const attr = (sel, a) => { const e = doc.querySelector(sel); return e ? e.getAttribute(a) || '' : ''; };
  return {
    machine: os ? os.getAttribute('machine') || '' : '',
    arch: os ? os.getAttribute('arch') || '' : '',
    firmware: attr('os', 'firmware') || (doc.querySelector('os > loader') ? 'custom loader' : 'BIOS'),
    boot: [...doc.querySelectorAll('os > boot')].map((b) => b.getAttribute('dev')).join(', ')
      || (doc.querySelector('os > kernel') ? 'direct kernel' : ''),
    disks: [...doc.querySelectorAll('devices > disk')].map((d) => {
      const t = d.querySelector('target'), src = d.querySelector('source');
      return { device: d.getAttribute('device') || 'disk', target: t ? t.getAttribute('dev') : '',
        source: src ? src.getAttribute('file') || src.getAttribute('dev') || '' : '' };
    }),
    nics: [...doc.querySelectorAll('devices > interface')].map((i) => {
      const mac = i.querySelector('mac');
      return { type: i.getAttribute('type'), mac: mac ? mac.getAttribute('address') : '' };
    }),
    graphics: [...doc.querySelectorAll('devices > graphics')].map((g) => g.getAttribute('type')),
  };
}

export function GuestDetails({ name }) {
  const [info, setInfo] = useState(null);
  const [error, setError] = useState(null);
  const [tab, setTab] = useState('overview');
  const path = `/v1/domains/${q(name)}`;

  useEffect(() => {
    const load = async () => {
      try { setInfo(await call('GET', `${path}/info`)); setError(null); } catch (e) { setError(e); }
    };
    return onEvent((ev) => {
      if ((ev.kind === 'Connect' && ev.event === 'subscribed') || (ev.kind === 'Domain' && ev.name === name)) load();
    });
  }, [name]);

  if (error && !info) return html`<section><h1>${name}</h1><${ErrorBox} error=${error} /><a href="#/guests">Back to guests</a></section>`;
  if (!info) return html`<p class="loading">Loading ${name}…</p>`;
  const on = info.id !== -1, st = info.state;
  const act = (verb) => () => call('POST', `${path}/${verb}`, {});
  return html`<section aria-labelledby="guest-h">
    <p><a href="#/guests">← Guests</a></p>
    <h1 id="guest-h">${name} <span class=${'state s' + st} id="guest-state" data-state=${st}>${STATES[st]}</span></h1>
    ${info.title ? html`<p class="title">${info.title}</p>` : null}
    <div class="toolbar" role="group" aria-label="Power">
      <${Action} label="Start" disabled=${on} run=${act('start')} />
      <${Action} label="Shut down" disabled=${st !== 1} run=${act('shutdown')} />
      <${Action} label="Reboot" disabled=${st !== 1} run=${act('reboot')} />
      <${Action} label="Pause" disabled=${st !== 1} run=${act('suspend')} />
      <${Action} label="Resume" disabled=${st !== 3} run=${act('resume')} />
      <${Action} label="Force off" kind="danger" disabled=${!on} run=${act('destroy')} />
    </div>
    <div role="tablist" aria-label="Guest views" class="tabs">
      ${TABS.map(([id, label]) => html`<button type="button" role="tab" id=${'tab-' + id}
        aria-selected=${tab === id ? 'true' : 'false'} aria-controls="tabpanel" onClick=${() => setTab(id)}>${label}</button>`)}
    </div>
    <div role="tabpanel" id="tabpanel" aria-labelledby=${'tab-' + tab} class="panel">
      ${tab === 'overview' && html`<${Overview} name=${name} info=${info} />`}
      ${tab === 'console' && html`<${SerialConsole} name=${name} running=${on} />`}
      ${tab === 'graphics' && html`<${VncConsole} name=${name} running=${on} />`}
      ${tab === 'snapshots' && html`<${Snapshots} name=${name} />`}
      ${tab === 'xml' && html`<${XmlEditor} name=${name} />`}
      ${tab === 'delete' && html`<${DeleteGuest} name=${name} info=${info} />`}
    </div>
  </section>`;
}

function Overview({ name, info }) {
  const [xml, setXml] = useState(null);
  useEffect(() => { call('GET', `/v1/domains/${q(name)}/xml`).then((t) => setXml(parseXML(t))).catch(() => {}); }, [name, info.state]);
  const autostart = () => call('POST', `/v1/domains/${q(name)}/autostart`, { autostart: !info.autostart });
  return html`<div class="overview">
    <dl class="facts">
      <dt>State</dt><dd>${STATES[info.state]}</dd>
      <dt>vCPUs</dt><dd>${info.vcpus}${info.max_vcpus !== info.vcpus ? ` of ${info.max_vcpus}` : ''}</dd>
      <dt>Memory</dt><dd>${fmtBytes(info.mem_kib * 1024)} of ${fmtBytes(info.max_mem_kib * 1024)}</dd>
      <dt>Persistent</dt><dd>${info.persistent ? 'yes' : 'no (transient)'}</dd>
      <dt>Autostart</dt><dd>${info.autostart ? 'yes' : 'no'} ${info.persistent && html`<${Action}
        label=${info.autostart ? 'Turn off' : 'Turn on'} run=${autostart} />`}</dd>
      ${xml && html`<dt>Machine</dt><dd>${xml.arch} ${xml.machine}</dd>
        <dt>Firmware</dt><dd>${xml.firmware}</dd><dt>Boot</dt><dd>${xml.boot}</dd>
        <dt>Disks</dt><dd>${xml.disks.length ? xml.disks.map((d) => html`<div>${d.target} (${d.device}) ${d.source}</div>`) : 'none'}</dd>
        <dt>Network interfaces</dt><dd>${xml.nics.length ? xml.nics.map((n) => html`<div>${n.type} ${n.mac}</div>`) : 'none'}</dd>
        <dt>Displays</dt><dd>${xml.graphics.join(', ') || 'none'}</dd>`}
      <dt>UUID</dt><dd>${info.uuid}</dd>
    </dl>
    ${info.id !== -1 && html`<${CpuGraph} name=${name} />`}
  </div>`;
}

// CPU use over the last minutes from domain_stats (a sampled figure: this is the one timer)
function CpuGraph({ name }) {
  const box = useRef(null);
  useEffect(() => {
    let plot = null, last = null, stopped = false;
    const xs = [], ys = [];
    const tick = async () => {
      try {
        const stats = await call('GET', '/v1/domain-stats', { doms: name, groups: 'cpu-total' });
        const s = stats[0] && stats[0].stats;
        const now = Date.now() / 1000;
        if (s && last) {
          xs.push(now); ys.push(Math.max(0, (s['cpu.time'] - last.cpu) / ((now - last.t) * 1e9) * 100));
          if (xs.length > 150) { xs.shift(); ys.shift(); }
          if (plot) plot.setData([xs, ys]);
        }
        if (s) last = { cpu: s['cpu.time'], t: now };
      } catch { /* the guest stopped: the graph keeps what it had */ }
      if (!stopped) setTimeout(tick, 2000);
    };
    Promise.all([import('/vendor/uplot/dist/uPlot.esm.js'), loadAsset('/vendor/uplot/dist/uPlot.min.css')]).then(([{ default: uPlot }]) => {
      if (stopped || !box.current) return;
      plot = new uPlot({ width: Math.min(640, box.current.clientWidth || 640), height: 180, title: 'CPU use (%)',
        scales: { y: { range: [0, 100] } }, series: [{}, { label: 'CPU %', stroke: '#2a6fdb', fill: 'rgba(42,111,219,0.1)' }] },
      [xs, ys], box.current);
      tick();
    });
    return () => { stopped = true; if (plot) plot.destroy(); };
  }, [name]);
  return html`<figure class="graph"><div ref=${box}></div><figcaption class="sr-only">CPU use of ${name}</figcaption></figure>`;
}

function SerialConsole({ name, running }) {
  const box = useRef(null);
  const [status, setStatus] = useState('connecting');
  useEffect(() => {
    if (!running) return undefined;
    let cleanup = null, gone = false;
    Promise.all([loadAsset('/vendor/xterm/lib/xterm.js'), loadAsset('/vendor/xterm/css/xterm.css')])
      .then(() => loadAsset('/vendor/xterm-fit/lib/addon-fit.js'))
      .then(() => { if (!gone) cleanup = openTerminal(); })
      .catch(() => setStatus('failed to load xterm.js'));
    return () => { gone = true; if (cleanup) cleanup(); };
  }, [name, running]);

  function openTerminal() {
    const term = new window.Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, rows: 24 });
    const fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    try { fit.fit(); } catch { /* hidden */ }
    const ws = new WebSocket(wsURL(`/api/v1/domains/${q(name)}/console`));
    ws.binaryType = 'arraybuffer';
    const enc = new TextEncoder();
    ws.onopen = () => { setStatus('connected'); term.focus(); };
    ws.onmessage = (m) => term.write(new Uint8Array(m.data));
    ws.onclose = () => setStatus('closed');
    const sub = term.onData((d) => { if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d)); });
    return () => { sub.dispose(); ws.close(); term.dispose(); };
  }
  if (!running) return html`<p>The guest is not running.</p>`;
  return html`<div><p class="hint">Console ${status}. Type into the terminal below.</p>
    <div class="terminal" ref=${box} id="serial-console" role="application" aria-label=${'Serial console of ' + name}></div></div>`;
}

function VncConsole({ name, running }) {
  const box = useRef(null);
  const rfb = useRef(null);
  const [status, setStatus] = useState('connecting');
  useEffect(() => {
    if (!running) return undefined;
    let closed = false;
    import('/vendor/novnc/core/rfb.js').then(({ default: RFB }) => {
      if (closed) return;
      const r = new RFB(box.current, wsURL(`/api/v1/domains/${q(name)}/vnc`), { wsProtocols: ['binary'] });
      r.scaleViewport = true;
      r.addEventListener('connect', () => setStatus('connected'));
      r.addEventListener('disconnect', (e) => setStatus(e.detail.clean ? 'closed' : 'failed (has the guest a VNC display?)'));
      rfb.current = r;
    });
    return () => { closed = true; if (rfb.current) rfb.current.disconnect(); };
  }, [name, running]);
  if (!running) return html`<p>The guest is not running.</p>`;
  return html`<div><p class="hint" role="status">VNC ${status}.</p>
    <div class="toolbar"><button type="button" onClick=${() => rfb.current && rfb.current.sendCtrlAltDel()}>Send Ctrl+Alt+Del</button></div>
    <div class="vnc" ref=${box} id="vnc-screen" aria-label=${'Graphical console of ' + name}></div></div>`;
}

function Snapshots({ name }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [snap, setSnap] = useState('');
  const path = `/v1/domains/${q(name)}/snapshots`;
  const load = async () => { try { setList(rows(await call('GET', path))); setError(null); } catch (e) { setError(e); } };
  useEffect(() => { load(); }, [name]);
  const create = async () => {
    await call('POST', path, { xml: xmlDoc('domainsnapshot', { name: snap.trim() }) });
    setSnap(''); await load();
  };
  return html`<div>
    <${ErrorBox} error=${error} />
    <form class="inline" onSubmit=${(e) => e.preventDefault()}>
      <${Field} id="snap-name" label="New snapshot name" hint="empty: a name from the time">
        <input id="snap-name" value=${snap} onInput=${(e) => setSnap(e.target.value)} /></${Field}>
      <${Action} label="Take snapshot" run=${create} />
    </form>
    ${list && (list.length ? html`<table class="list" aria-label="Snapshots"><thead><tr><th>Name</th><th>Parent</th><th>Taken</th><th>State</th><th>Actions</th></tr></thead>
      <tbody>${list.map((s) => html`<tr key=${s.name} data-snapshot=${s.name}>
        <td>${s.name}${s.current ? html` <span class="badge">current</span>` : null}</td><td>${s.parent || '—'}</td>
        <td>${new Date(s.creation_time * 1000).toLocaleString()}</td><td>${s.state}</td>
        <td><${Action} label="Revert" run=${async () => { await call('POST', `${path}/${q(s.name)}/revert`, {}); await load(); }} />
            <${Action} label="Delete" kind="danger" run=${async () => { await call('DELETE', `${path}/${q(s.name)}`); await load(); }} /></td>
      </tr>`)}</tbody></table>` : html`<p>No snapshots.</p>`)}
  </div>`;
}

function XmlEditor({ name }) {
  const [text, setText] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => { call('GET', `/v1/domains/${q(name)}/xml`, { inactive: true }).then(setText).catch(setError); }, [name]);
  const save = async () => {
    setError(null); setSaved(false);
    try { await call('POST', '/v1/domains', { xml: text }); setSaved(true); } catch (e) { setError(e); }
  };
  if (text === null) return html`<${ErrorBox} error=${error} />`;
  return html`<div class="xml">
    <label for="xml-text">Domain XML (the definition; changes apply at the next start)</label>
    <textarea id="xml-text" spellcheck="false" rows="24" value=${text} onInput=${(e) => { setText(e.target.value); setSaved(false); }}></textarea>
    <${ErrorBox} error=${error} />
    ${saved && html`<p class="ok" role="status">Saved.</p>`}
    <button type="button" onClick=${save}>Save XML</button>
  </div>`;
}

function DeleteGuest({ name, info }) {
  const [storage, setStorage] = useState(false);
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const run = async () => {
    setError(null);
    try {
      const doc = parseXML(await call('GET', `/v1/domains/${q(name)}/xml`, { inactive: true }));
      if (info.id !== -1) await call('POST', `/v1/domains/${q(name)}/destroy`, {});
      await call('DELETE', `/v1/domains/${q(name)}`, { nvram: true, managed_save: true, snapshots_metadata: true });
      const lines = [`Guest ${name} deleted.`];
      if (storage) {
        for (const d of doc.disks.filter((x) => x.device === 'disk' && x.source)) {
          try {
            const vol = await call('GET', '/v1/volumes', { path: d.source });
            await call('DELETE', `/v1/pools/${q(vol.pool)}/volumes/${q(vol.name)}`);
            lines.push(`Deleted volume ${vol.pool}/${vol.name}.`);
          } catch (e) { lines.push(`${d.source} kept: ${e.message}`); }
        }
      }
      setReport(lines);
    } catch (e) { setError(e); }
  };
  if (report) return html`<div role="status">${report.map((l) => html`<p>${l}</p>`)}<a href="#/guests">Back to guests</a></div>`;
  return html`<div>
    <p>Deleting removes the guest's definition${info.id !== -1 ? ' and stops it now' : ''}.</p>
    <p><input type="checkbox" id="del-storage" checked=${storage} onChange=${(e) => setStorage(e.target.checked)} />
      <label for="del-storage">Also delete its disks (volumes of storage pools)</label></p>
    <${ErrorBox} error=${error} />
    <button type="button" class="danger" onClick=${run}>Delete ${name}</button>
  </div>`;
}
