// One guest: overview (+ CPU graph), actions, serial console, VNC console, snapshots, XML, delete.
import { html, useEffect, useMemo, useRef, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, callStream, rows, q, onEventOf, conn, connections, connURI, connLabel, STATES, fmtBytes, wsURL, apiPath, pageHref, xmlDoc, latest, STALE } from '/static/api.js';
import { Action, ErrorBox, Field, loadAsset } from '/static/ui.js';
import { Devices } from '/static/devices.js';

const TABS = [['overview', 'Overview'], ['devices', 'Disks & NICs'], ['console', 'Serial console'], ['graphics', 'Graphical console'],
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

  const fresh = useMemo(latest, []);
  const load = async () => {
    try { setInfo(await fresh(call('GET', `${path}/info`), name)); setError(null); } catch (e) { if (e !== STALE) setError(e); }
  };
  useEffect(() => {
    return onEventOf(conn(), (ev) => {
      if ((ev.kind === 'Connect' && ev.event === 'subscribed') || (ev.kind === 'Domain' && ev.name === name)) load();
    });
  }, [name]);

  if (error && !info) return html`<section><h1>${name}</h1><${ErrorBox} error=${error} /><a href="#/guests">Back to guests</a></section>`;
  if (!info) return html`<p class="loading">Loading ${name}…</p>`;
  const on = info.id !== -1, st = info.state;
  const act = (verb) => () => call('POST', `${path}/${verb}`, {});
  // WAI-ARIA tabs: one Tab stop (the selected tab); arrows, Home and End move between tabs
  const tabKey = (e) => {
    const i = TABS.findIndex(([id]) => id === tab);
    const n = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
    if (n === undefined) return;
    e.preventDefault();
    const next = TABS[(n + TABS.length) % TABS.length][0];
    setTab(next);
    document.getElementById('tab-' + next).focus();
  };
  return html`<section aria-labelledby="guest-h">
    <p><a href="#/guests">← Guests</a></p>
    <h1 id="guest-h">${name} <span class=${'state s' + st} id="guest-state" data-state=${st}>${STATES[st]}</span></h1>
    ${connections().length > 1 ? html`<p class="on-conn" id="guest-conn" title=${connURI(conn())}>on ${connLabel(conn())}</p>` : null}
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
        aria-selected=${tab === id ? 'true' : 'false'} tabindex=${tab === id ? 0 : -1} aria-controls="tabpanel"
        onClick=${() => setTab(id)} onKeyDown=${tabKey}>${label}</button>`)}
    </div>
    <div role="tabpanel" id="tabpanel" aria-labelledby=${'tab-' + tab} class="panel">
      ${tab === 'overview' && html`<${Overview} name=${name} info=${info} reload=${load} />`}
      ${tab === 'devices' && html`<${Devices} name=${name} info=${info} />`}
      ${tab === 'console' && html`<${SerialConsole} name=${name} running=${on} />`}
      ${tab === 'graphics' && html`<${VncConsole} name=${name} running=${on} />`}
      ${tab === 'snapshots' && html`<${Snapshots} name=${name} />`}
      ${tab === 'xml' && html`<${XmlEditor} name=${name} />`}
      ${tab === 'delete' && html`<${DeleteGuest} name=${name} info=${info} />`}
    </div>
  </section>`;
}

function Overview({ name, info, reload }) {
  const [xml, setXml] = useState(null);
  useEffect(() => { call('GET', `/v1/domains/${q(name)}/xml`).then((t) => setXml(parseXML(t))).catch(() => {}); }, [name, info]);
  const autostart = async () => { await call('POST', `/v1/domains/${q(name)}/autostart`, { autostart: !info.autostart }); await reload(); };
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
    <${EditSizing} key=${info.max_vcpus + ':' + info.max_mem_kib} name=${name} info=${info} reload=${reload} />
    <${EditBoot} name=${name} info=${info} reload=${reload} />
    ${info.persistent && html`<${RenameClone} name=${name} info=${info} />`}
    ${info.id !== -1 && html`<${UsageGraphs} name=${name} />`}
  </div>`;
}

// Usage over the last five minutes: CPU % (domain_stats cpu.time), memory (the QEMU process's
// RSS, memory_stats), disk throughput (block_stats of each disk, read + written) and network
// throughput (interface_stats of each NIC domain_stats names, received and sent: NICs with a host
// device only, as `virsh domifstat`; QEMU's user-mode network keeps no counters).  Sampled
// figures: this is the UI's one timer, running only while the overview is shown.
// y from 0 (a flat 7 KiB/s is not a cliff between 6.93 and 6.95)
const FROM_ZERO = { range: (u, min, max) => [0, Math.max(max * 1.15, 1)] };
const SERIES = [
  ['cpu', 'CPU use (%)', [['CPU %', '#2a6fdb']], { range: [0, 100] }],
  ['mem', 'Memory (MiB, QEMU RSS)', [['MiB', '#1e7b34']], FROM_ZERO],
  ['disk', 'Disk I/O (KiB/s, read + written)', [['KiB/s', '#9a5b00']], FROM_ZERO],
  ['net', 'Network (KiB/s, received / sent)', [['rx KiB/s', '#7a3db8'], ['tx KiB/s', '#c0392b']], FROM_ZERO],
];
// x: the five minutes up to the newest sample (uPlot would stretch a first lone sample over years)
// (no sample yet: the five minutes up to now, not 1970)
const WINDOW = { time: true, range: (u, min, max) => {
  const end = Number.isFinite(max) ? max : Date.now() / 1000;
  return [end - 300, end + 6];
} };

const sum = (list, key) => list.reduce((n, s) => n + (s ? s[key] : 0), 0);

// the newest sample of a graph in words, under it (screen readers get the figures, not a canvas)
function nowText(lines, values) {
  if (!values) return 'waiting for the first samples…';
  return 'now: ' + lines.map(([label], i) => `${values[i].toFixed(1)} ${label}`).join(', ');
}

function UsageGraphs({ name }) {
  const boxes = { cpu: useRef(null), mem: useRef(null), disk: useRef(null), net: useRef(null) };
  const [now, setNow] = useState({});
  useEffect(() => {
    let stopped = false, last = null;
    const plots = {}, xs = [], ys = { cpu: [[]], mem: [[]], disk: [[]], net: [[], []] };
    const uncounted = new Set();  // NICs without counters (user-mode): asked once, not every tick
    const path = `/v1/domains/${q(name)}`;
    const names = (st, kind) => {
      const out = [];
      for (let i = 0; i < (st[`${kind}.count`] || 0); i++) if (st[`${kind}.${i}.name`]) out.push(st[`${kind}.${i}.name`]);
      return out;
    };
    const rate = (now, before, dt) => Math.max(0, (now - before) / dt / 1024);
    const tick = async () => {
      try {
        const [stats, mem] = await Promise.all([
          call('GET', '/v1/domain-stats', { doms: name, groups: 'cpu-total,block,interface' }),
          call('GET', `${path}/memstats`).catch(() => ({}))]);
        const st = (stats[0] && stats[0].stats) || {};
        const [io, nics] = await Promise.all([
          Promise.all(names(st, 'block').map((d) => call('GET', `${path}/blockstats`, { disk: d }).catch(() => null))),
          Promise.all(names(st, 'net').filter((d) => !uncounted.has(d)).map((d) => call('GET', `${path}/ifstats`, { device: d })
            .catch((e) => { if (e.code === 84) uncounted.add(d); return null; })))]);
        const bytes = sum(io, 'rd_bytes') + sum(io, 'wr_bytes'), rx = sum(nics, 'rx_bytes'), tx = sum(nics, 'tx_bytes');
        const now = Date.now() / 1000;
        if (last && st['cpu.time'] !== undefined) {
          const dt = now - last.t;
          xs.push(now);
          ys.cpu[0].push(Math.max(0, (st['cpu.time'] - last.cpu) / (dt * 1e9) * 100));
          ys.mem[0].push((mem.rss || 0) / 1024);
          ys.disk[0].push(rate(bytes, last.bytes, dt));
          ys.net[0].push(rate(rx, last.rx, dt));
          ys.net[1].push(rate(tx, last.tx, dt));
          if (xs.length > 150) { xs.shift(); for (const k in ys) for (const y of ys[k]) y.shift(); }
          for (const k in plots) plots[k].setData([xs, ...ys[k]]);
          setNow(Object.fromEntries(Object.entries(ys).map(([k, y]) => [k, y.map((v) => v[v.length - 1])])));
        }
        if (st['cpu.time'] !== undefined) last = { cpu: st['cpu.time'], bytes, rx, tx, t: now };
      } catch { /* the guest stopped: the graphs keep what they had */ }
      if (!stopped) setTimeout(tick, 2000);
    };
    Promise.all([import('/vendor/uplot/dist/uPlot.esm.js'), loadAsset('/vendor/uplot/dist/uPlot.min.css')]).then(([{ default: uPlot }]) => {
      if (stopped) return;
      for (const [key, title, lines, scale] of SERIES) {
        const box = boxes[key].current;
        if (!box) continue;
        plots[key] = new uPlot({ width: 360, height: 170, title, scales: { x: WINDOW, y: scale },
          series: [{}, ...lines.map(([label, color]) => ({ label, stroke: color, fill: color + '1a' }))] }, [xs, ...ys[key]], box);
      }
      tick();
    });
    return () => { stopped = true; for (const k in plots) plots[k].destroy(); };
  }, [name]);
  return html`<div class="graphs">${SERIES.map(([key, title, lines]) => html`<figure class="graph" data-graph=${key}>
    <div ref=${boxes[key]}></div><figcaption><span class="sr-only">${title} of ${name}, </span>
    <span class="now" aria-live="off">${nowText(lines, now[key])}</span></figcaption></figure>`)}</div>`;
}

// Rename (virDomainRename) and clone (pyvirt clone --auto-clone): both want the guest shut off
function RenameClone({ name, info }) {
  const [newName, setNewName] = useState('');
  const [cloneName, setCloneName] = useState(`${name}-clone`);
  const off = info.id === -1;
  const rename = async () => {
    await call('POST', `/v1/domains/${q(name)}/rename`, { new_name: newName.trim() });
    location.hash = pageHref('guest', newName.trim());
  };
  const clone = async () => {
    await callStream('/clone', { original: name, name: cloneName.trim() }, () => {});
    location.hash = pageHref('guest', cloneName.trim());
  };
  return html`<div class="card inline-cards">
    <form class="inline" onSubmit=${(e) => e.preventDefault()} aria-label="Rename">
      <${Field} id="rename" label="New name"><input id="rename" value=${newName} onInput=${(e) => setNewName(e.target.value)} /></${Field}>
      <${Action} label="Rename" disabled=${!off || !newName.trim()} title=${off ? 'Rename' : 'shut the guest off first'} run=${rename} />
    </form>
    <form class="inline" onSubmit=${(e) => e.preventDefault()} aria-label="Clone">
      <${Field} id="clone-name" label="Clone's name"><input id="clone-name" value=${cloneName} onInput=${(e) => setCloneName(e.target.value)} /></${Field}>
      <${Action} label="Clone" disabled=${!off || !cloneName.trim()} title=${off ? 'Clone with copies of its disks' : 'shut the guest off first'} run=${clone} />
    </form>
  </div>`;
}

// What can change in the definition: vCPUs and memory (next start), as setvcpus/setmem --config
function EditSizing({ name, info, reload }) {
  const [vcpus, setVcpus] = useState(info.max_vcpus);
  const [mib, setMib] = useState(Math.round(info.max_mem_kib / 1024));
  const path = `/v1/domains/${q(name)}`;
  const save = async () => {
    const kib = mib * 1024;
    if (kib !== info.max_mem_kib) {
      if (kib > info.max_mem_kib) await call('POST', `${path}/setmem`, { kib, config: true, maximum: true });
      await call('POST', `${path}/setmem`, { kib, config: true });
      if (kib < info.max_mem_kib) await call('POST', `${path}/setmem`, { kib, config: true, maximum: true });
    }
    if (vcpus !== info.max_vcpus) {
      if (vcpus > info.max_vcpus) await call('POST', `${path}/setvcpus`, { count: vcpus, config: true, maximum: true });
      await call('POST', `${path}/setvcpus`, { count: vcpus, config: true });
      if (vcpus < info.max_vcpus) await call('POST', `${path}/setvcpus`, { count: vcpus, config: true, maximum: true });
    }
    await reload();
  };
  return html`<form class="inline card" onSubmit=${(e) => e.preventDefault()} aria-label="Sizing">
    <${Field} id="edit-vcpus" label="vCPUs (next start)"><input id="edit-vcpus" type="number" min="1" value=${vcpus}
      onInput=${(e) => setVcpus(Number(e.target.value))} /></${Field}>
    <${Field} id="edit-mem" label="Memory MiB (next start)"><input id="edit-mem" type="number" min="16" value=${mib}
      onInput=${(e) => setMib(Number(e.target.value))} /></${Field}>
    <${Action} label="Save sizing" disabled=${!info.persistent} run=${save} />
  </form>`;
}

// Boot order for the next start: libvirt's <os><boot dev=…/> list, edited in the persistent
// definition (what `virsh edit` would change).  Left alone where it cannot apply: direct kernel
// boot, and per-device <boot order=…> (libvirt refuses both kinds together).
const BOOT_DEVS = [['hd', 'Hard disk'], ['cdrom', 'CD-ROM'], ['network', 'Network (PXE)'], ['fd', 'Floppy']];

function EditBoot({ name, info, reload }) {
  const [order, setOrder] = useState(null);  // ['hd', 'cdrom', …] or a string saying why not
  const path = `/v1/domains/${q(name)}`;
  useEffect(() => {
    call('GET', `${path}/xml`, { inactive: true }).then((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      if (doc.querySelector('os > kernel')) setOrder('direct kernel boot (kernel and initrd given)');
      else if (doc.querySelector('devices boot[order]')) setOrder('set per device (<boot order=…> in the devices)');
      else setOrder([...doc.querySelectorAll('os > boot')].map((b) => b.getAttribute('dev')));
    }).catch(() => setOrder(null));
  }, [name, info.persistent]);
  if (!info.persistent || order === null) return null;
  if (typeof order === 'string') return html`<p class="card">Boot order: ${order}</p>`;
  const move = (i, d) => { const n = [...order]; [n[i], n[i + d]] = [n[i + d], n[i]]; setOrder(n); };
  const toggle = (dev) => setOrder(order.includes(dev) ? order.filter((x) => x !== dev) : [...order, dev]);
  const shown = [...order, ...BOOT_DEVS.map(([d]) => d).filter((d) => !order.includes(d))];
  const save = async () => {
    const doc = new DOMParser().parseFromString(await call('GET', `${path}/xml`, { inactive: true }), 'application/xml');
    const os = doc.querySelector('os');
    for (const b of os.querySelectorAll(':scope > boot')) b.remove();
    const after = [...os.children].filter((e) => ['type', 'loader', 'nvram'].includes(e.tagName)).pop();
    let at = after ? after.nextSibling : os.firstChild;
    for (const dev of order) {
      const el = doc.createElement('boot');
      el.setAttribute('dev', dev);
      os.insertBefore(el, at);
      at = el.nextSibling;
    }
    await call('POST', '/v1/domains', { xml: new XMLSerializer().serializeToString(doc) });
    await reload();
  };
  const label = (dev) => (BOOT_DEVS.find(([d]) => d === dev) || [dev, dev])[1];
  return html`<form class="card" onSubmit=${(e) => e.preventDefault()} aria-labelledby="boot-h">
    <h2 id="boot-h">Boot order (next start; the running guest keeps its own)</h2>
    <ol class="boot-order">${shown.map((dev) => {
      const i = order.indexOf(dev);
      return html`<li data-boot=${dev}><input type="checkbox" id=${'boot-' + dev} checked=${i >= 0} onChange=${() => toggle(dev)} />
        <label for=${'boot-' + dev}>${label(dev)}</label>
        <button type="button" class="quiet" aria-label=${'Move ' + label(dev) + ' up'} disabled=${i <= 0} onClick=${() => move(i, -1)}>↑</button>
        <button type="button" class="quiet" aria-label=${'Move ' + label(dev) + ' down'} disabled=${i < 0 || i >= order.length - 1}
          onClick=${() => move(i, 1)}>↓</button></li>`;
    })}</ol>
    <${Action} label="Save boot order" run=${save} />
  </form>`;
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
    const ws = new WebSocket(wsURL(apiPath(`/v1/domains/${q(name)}/console`)));
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

// Key combinations a browser would keep for itself, sent with virDomainSendKey (Linux keycodes)
const KEYS = { 'Ctrl+Alt+Del': [29, 56, 111], 'Ctrl+Alt+Backspace': [29, 56, 14], 'Ctrl+Alt+F1': [29, 56, 59],
  'Ctrl+Alt+F2': [29, 56, 60], 'Ctrl+Alt+F7': [29, 56, 65], 'Alt+Tab': [56, 15], 'Alt+F4': [56, 62], 'PrintScreen': [99] };

function VncConsole({ name, running }) {
  const box = useRef(null);
  const [combo, setCombo] = useState('Ctrl+Alt+Del');
  const sendKeys = () => call('POST', `/v1/domains/${q(name)}/sendkey`, { codeset: 'linux', holdtime: 100, keycodes: KEYS[combo] });
  const rfb = useRef(null);
  const [status, setStatus] = useState('connecting');
  useEffect(() => {
    if (!running) return undefined;
    let closed = false;
    import('/vendor/novnc/core/rfb.js').then(({ default: RFB }) => {
      if (closed) return;
      const r = new RFB(box.current, wsURL(apiPath(`/v1/domains/${q(name)}/vnc`)), { wsProtocols: ['binary'] });
      r.scaleViewport = true;
      r.addEventListener('connect', () => setStatus('connected'));
      r.addEventListener('disconnect', (e) => setStatus(e.detail.clean ? 'closed' : 'failed (has the guest a VNC display?)'));
      rfb.current = r;
    });
    return () => { closed = true; if (rfb.current) rfb.current.disconnect(); };
  }, [name, running]);
  if (!running) return html`<p>The guest is not running.</p>`;
  return html`<div><p class="hint" role="status">VNC ${status}.</p>
    <div class="toolbar">
      <label for="send-keys" class="sr-only">Keys to send</label>
      <select id="send-keys" value=${combo} onChange=${(e) => setCombo(e.target.value)}>
        ${Object.keys(KEYS).map((k) => html`<option value=${k}>${k}</option>`)}</select>
      <${Action} label="Send keys" run=${sendKeys} /></div>
    <div class="vnc" ref=${box} id="vnc-screen" role="application" aria-roledescription="remote screen" aria-label=${'Graphical console of ' + name}></div></div>`;
}

// Snapshots in tree order (each one after its parent, by creation time) with their depth
function treeOrder(list) {
  const kids = new Map();
  for (const s of list) kids.set(s.parent || '', [...(kids.get(s.parent || '') || []), s]);
  const out = [];
  const walk = (parent, depth) => {
    for (const s of (kids.get(parent) || []).sort((a, b) => a.creation_time - b.creation_time)) {
      out.push([s, depth]);
      walk(s.name, depth + 1);
    }
  };
  walk('', 0);
  const seen = new Set(out.map(([s]) => s.name));
  for (const s of list) if (!seen.has(s.name)) out.push([s, 0]);  // a parent not listed
  return out;
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
      <tbody>${treeOrder(list).map(([s, depth]) => html`<tr key=${s.name} data-snapshot=${s.name}>
        <td><span class="tree" style=${{ paddingLeft: `${depth * 1.4}rem` }}>${depth ? '└ ' : ''}${s.name}</span>${s.current ? html` <span class="badge">current</span>` : null}</td><td>${s.parent || '—'}</td>
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
