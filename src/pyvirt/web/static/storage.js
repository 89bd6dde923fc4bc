// Storage pools and their volumes; upload a file into a new volume with a progress bar
// (the body streams to the web process, which sends it on sparse-aware, as vol-upload); create a
// directory pool and remove a pool (virsh pool-define + pool-build + pool-start, pool-destroy +
// pool-delete + pool-undefine: the same operations, one after the other).
import { html, useEffect, useMemo, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows, q, onEventOf, conn, apiPath, fmtBytes, csrf, latest, STALE } from '/static/api.js';
import { Action, ErrorBox, Field } from '/static/ui.js';

function put(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', url);
    x.setRequestHeader('X-CSRF-Token', csrf());
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    x.onload = () => {
      let data = {};
      try { data = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status >= 400 || data.error) reject(new Error((data.error && data.error.message) || `HTTP ${x.status}`));
      else resolve(data.result);
    };
    x.onerror = () => reject(new Error('upload failed (connection lost)'));
    x.send(file);
  });
}

function Upload({ pools, onDone }) {
  const [pool, setPool] = useState('');
  const [file, setFile] = useState(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState('');
  const target = pool || (pools[0] && pools[0].name) || '';
  const start = async () => {
    setError(null); setDone('');
    try {
      if (!file) throw new Error('choose a file first');
      const vol = name.trim() || file.name;
      await call('POST', `/v1/pools/${q(target)}/volumes`, { name: vol, capacity: Math.max(file.size, 1), format: 'raw' });
      setProgress(0);
      await put(apiPath(`/v1/pools/${q(target)}/volumes/${q(vol)}/data`), file, (a, b) => setProgress(Math.round(a * 100 / b)));
      setProgress(100); setDone(`Uploaded ${vol} (${fmtBytes(file.size)}).`);
      onDone();
    } catch (e) { setError(e); }
  };
  return html`<form class="card" onSubmit=${(e) => e.preventDefault()} aria-labelledby="upload-h">
    <h2 id="upload-h">Upload an ISO or disk image</h2>
    <${Field} id="up-pool" label="Pool"><select id="up-pool" value=${target} onChange=${(e) => setPool(e.target.value)}>
      ${pools.map((p) => html`<option value=${p.name}>${p.name}</option>`)}</select></${Field}>
    <${Field} id="up-file" label="File"><input id="up-file" type="file" onChange=${(e) => setFile(e.target.files[0] || null)} /></${Field}>
    <${Field} id="up-name" label="Volume name" hint="empty: the file's name"><input id="up-name" value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
    <button type="button" onClick=${start} disabled=${progress !== null && progress < 100 && !error}>Upload</button>
    ${progress !== null && html`<div class="progress"><label for="up-progress">Upload progress</label>
      <progress id="up-progress" max="100" value=${progress}>${progress}%</progress> <span id="up-percent">${progress}%</span></div>`}
    <${ErrorBox} error=${error} />
    ${done && html`<p class="ok" role="status">${done}</p>`}
  </form>`;
}

function NewVolume({ pools, onDone }) {
  const [f, setF] = useState({ pool: '', name: '', gib: 10, format: 'qcow2' });
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'number' ? Number(e.target.value) : e.target.value });
  const pool = f.pool || (pools[0] && pools[0].name) || '';
  const create = async () => {
    await call('POST', `/v1/pools/${q(pool)}/volumes`, { name: f.name.trim(), capacity: Math.round(f.gib * 2 ** 30), format: f.format });
    setF({ ...f, name: '' });
    await onDone();
  };
  return html`<form class="card inline" onSubmit=${(e) => e.preventDefault()} aria-label="New volume">
    <${Field} id="nv-pool" label="Pool"><select id="nv-pool" value=${pool} onChange=${set('pool')}>
      ${pools.map((p) => html`<option value=${p.name}>${p.name}</option>`)}</select></${Field}>
    <${Field} id="nv-name" label="New volume name"><input id="nv-name" value=${f.name} onInput=${set('name')} /></${Field}>
    <${Field} id="nv-size" label="Size (GiB)"><input id="nv-size" type="number" min="0.001" step="any" value=${f.gib} onInput=${set('gib')} /></${Field}>
    <${Field} id="nv-format" label="Format"><select id="nv-format" value=${f.format} onChange=${set('format')}>
      <option value="qcow2">qcow2</option><option value="raw">raw</option></select></${Field}>
    <${Action} label="Create volume" disabled=${!f.name.trim()} run=${create} />
  </form>`;
}

function Resize({ pool, vol, onDone }) {
  const [gib, setGib] = useState('');
  const id = `rs-${pool}-${vol.name}`;
  return html`<span class="resize"><label class="sr-only" for=${id}>New size of ${vol.name} (GiB)</label>
    <input id=${id} class="small" type="number" min="0.001" step="any" placeholder="GiB" value=${gib} onInput=${(e) => setGib(e.target.value)} />
    <${Action} label="Resize" disabled=${!gib} run=${async () => {
      await call('POST', `/v1/pools/${q(pool)}/volumes/${q(vol.name)}/resize`, { capacity: Math.round(Number(gib) * 2 ** 30) }); setGib(''); await onDone(); }} /></span>`;
}

// A new pool of a kind pyvirtd drives (dir, fs, netfs, logical): defined, started (built first
// where building only makes its target directory; a volume group only when asked, since that
// erases the devices), autostarted if asked.  A failure after the definition undefines it again,
// so a refused pool leaves nothing behind.  The XML is built through the DOM (never by gluing
// strings) and shown before it is sent.
const POOL_TYPES = [['dir', 'Directory (dir)'], ['fs', 'Block device with a file system (fs)'],
  ['netfs', 'NFS export (netfs)'], ['logical', 'LVM volume group (logical)']];

function poolXML(f) {
  const d = document.implementation.createDocument(null, null, null);
  const el = (parent, tag, attrs = {}, textContent) => {
    const e = d.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (textContent !== undefined) e.textContent = textContent;
    parent.appendChild(e);
    return e;
  };
  const pool = d.createElement('pool');
  pool.setAttribute('type', f.type);
  el(pool, 'name', {}, f.name.trim());
  if (f.type !== 'dir') {
    const src = el(pool, 'source');
    if (f.type === 'fs') el(src, 'device', { path: f.device.trim() });
    if (f.type === 'netfs') { el(src, 'host', { name: f.host.trim() }); el(src, 'dir', { path: f.export.trim() }); }
    if (f.type === 'logical') {
      for (const dev of f.pvs.split(',').map((x) => x.trim()).filter(Boolean)) el(src, 'device', { path: dev });
      el(src, 'name', {}, f.vg.trim() || f.name.trim());
    }
    el(src, 'format', { type: { fs: 'auto', netfs: 'nfs', logical: 'lvm2' }[f.type] });
  }
  if (f.type !== 'logical') el(el(pool, 'target'), 'path', {}, f.path.trim());
  return new XMLSerializer().serializeToString(pool);
}

function poolProblem(f) {
  const abs = (v, field) => (v.trim().startsWith('/') ? null : `${field}: an absolute path is needed`);
  if (f.type !== 'logical') { const p = abs(f.path, 'Target directory'); if (p) return p; }
  if (f.type === 'fs') return abs(f.device, 'Source device');
  if (f.type === 'netfs') return !f.host.trim() ? 'NFS server: a host name or address is needed' : abs(f.export, 'Export path');
  if (f.type === 'logical') {
    const bad = f.pvs.split(',').map((x) => x.trim()).filter(Boolean).find((x) => !x.startsWith('/'));
    if (bad) return `Physical volumes: '${bad}' is not an absolute path`;
    if (f.wipe && !f.pvs.trim()) return 'Physical volumes: name the devices to make the group on';
  }
  return null;
}

function NewPool({ onDone }) {
  const [f, setF] = useState({ name: '', type: 'dir', path: '', device: '', host: '', export: '', vg: '', pvs: '',
    wipe: false, autostart: true });
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const create = async () => {
    const name = f.name.trim();
    const problem = poolProblem(f);
    if (problem) throw new Error(problem);
    await call('POST', '/v1/pools', { xml: poolXML(f) });
    try {
      await call('POST', `/v1/pools/${q(name)}/start`, { build: f.type === 'logical' ? f.wipe : true });
      if (f.autostart) await call('POST', `/v1/pools/${q(name)}/autostart`, { autostart: true });
    } catch (e) {
      await call('POST', `/v1/pools/${q(name)}/destroy`, {}).catch(() => {});
      await call('DELETE', `/v1/pools/${q(name)}`).catch(() => {});
      throw e;
    }
    setF({ ...f, name: '', path: '', device: '', host: '', export: '', vg: '', pvs: '', wipe: false });
    await onDone();
  };
  const field = (id, label, key, placeholder) => html`<${Field} id=${id} label=${label}>
    <input id=${id} value=${f[key]} placeholder=${placeholder} onInput=${set(key)} /></${Field}>`;
  return html`<form class="card" onSubmit=${(e) => e.preventDefault()} aria-label="New pool">
    <div class="inline">
      ${field('np-name', 'New pool name', 'name', '')}
      <${Field} id="np-type" label="Type"><select id="np-type" value=${f.type} onChange=${set('type')}>
        ${POOL_TYPES.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></${Field}>
      ${f.type !== 'logical' ? field('np-path', 'Target directory', 'path', '/srv/pyvirt/pool1') : null}
      ${f.type === 'fs' ? field('np-device', 'Source device', 'device', '/dev/sdb1') : null}
      ${f.type === 'netfs' ? field('np-host', 'NFS server', 'host', 'nfs.example.org') : null}
      ${f.type === 'netfs' ? field('np-export', 'Export path', 'export', '/srv/images') : null}
      ${f.type === 'logical' ? field('np-vg', 'Volume group (empty: the pool name)', 'vg', '') : null}
      ${f.type === 'logical' ? field('np-pvs', 'Physical volumes (comma-separated)', 'pvs', '/dev/sdb,/dev/sdc') : null}
    </div>
    <div class="inline">
      ${f.type === 'logical' ? html`<div class="field"><label><input type="checkbox" id="np-wipe" checked=${f.wipe}
        onChange=${set('wipe')} /> Create the group on these devices (erases them)</label></div>` : null}
      <div class="field"><label><input type="checkbox" id="np-autostart" checked=${f.autostart} onChange=${set('autostart')} /> Start with pyvirtd</label></div>
      <${Action} label="Create pool" disabled=${!f.name.trim()} run=${create} />
    </div>
    <details><summary>Pool XML</summary><pre id="np-xml">${poolXML(f)}</pre></details>
  </form>`;
}

// Remove a pool: stop it, optionally delete its directory (pool-delete: only an empty one),
// then undefine it (a transient pool is gone once stopped).
function RemovePool({ pool, onDone }) {
  const [dir, setDir] = useState(false);
  const id = `rm-dir-${pool.name}`;
  const remove = async () => {
    const base = `/v1/pools/${q(pool.name)}`;
    if (pool.active) await call('POST', `${base}/destroy`, {});
    if (!pool.persistent) return onDone();
    if (dir) await call('POST', `${base}/delete`, {});
    await call('DELETE', base);
    await onDone();
  };
  return html`<span class="remove-pool">
    <input type="checkbox" id=${id} checked=${dir} onChange=${(e) => setDir(e.target.checked)} />
    <label for=${id}>and its directory<span class="sr-only"> (${pool.name})</span></label>
    <${Action} label="Remove pool" kind="danger" run=${remove} /></span>`;
}

export function Storage() {
  const [pools, setPools] = useState(null);
  const [vols, setVols] = useState({});
  const [error, setError] = useState(null);
  const fresh = useMemo(latest, []);
  const load = async () => {
    try {
      // pools and their volumes as one reply, so an older reload never lands over a newer one
      const [ps, out] = await fresh((async () => {
        const list = rows(await call('GET', '/v1/pools'));
        const volumes = {};
        for (const p of list.filter((x) => x.active)) {
          try { volumes[p.name] = rows(await call('GET', `/v1/pools/${q(p.name)}/volumes`)); } catch (e) { volumes[p.name] = e; }
        }
        return [list, volumes];
      })());
      setPools(ps); setVols(out); setError(null);
    } catch (e) { if (e !== STALE) setError(e); }
  };
  useEffect(() => onEventOf(conn(), (ev) => { if (ev.event === 'subscribed' || ev.kind === 'StoragePool') load(); }), []);
  if (!pools) return html`<section><h1>Storage</h1><${ErrorBox} error=${error} /><p class="loading">Loading…</p></section>`;
  return html`<section aria-labelledby="storage-h"><h1 id="storage-h">Storage</h1>
    <${ErrorBox} error=${error} />
    <${Upload} pools=${pools.filter((p) => p.active)} onDone=${load} />
    <${NewVolume} pools=${pools.filter((p) => p.active)} onDone=${load} />
    <${NewPool} onDone=${load} />
    ${pools.map((p) => html`<div class="card" key=${p.name} data-pool=${p.name}>
      <h2>${p.name} <span class=${'state ' + (p.active ? 's1' : 's5')}>${p.active ? 'active' : 'inactive'}</span></h2>
      <p>${p.type} at ${p.path} — ${fmtBytes(p.allocation)} used of ${fmtBytes(p.capacity)}, ${fmtBytes(p.available)} free</p>
      <div class="toolbar">
        <${Action} label="Start" disabled=${p.active} run=${async () => { await call('POST', `/v1/pools/${q(p.name)}/start`, {}); await load(); }} />
        <${Action} label="Stop" disabled=${!p.active} run=${async () => { await call('POST', `/v1/pools/${q(p.name)}/destroy`, {}); await load(); }} />
        <${Action} label="Refresh" disabled=${!p.active} run=${async () => { await call('POST', `/v1/pools/${q(p.name)}/refresh`, {}); await load(); }} />
        <${RemovePool} pool=${p} onDone=${load} />
      </div>
      ${vols[p.name] instanceof Error ? html`<${ErrorBox} error=${vols[p.name]} />` : vols[p.name] && html`
      <table class="list" aria-label=${'Volumes of ' + p.name}><thead><tr><th>Volume</th><th>Format</th><th>Capacity</th><th>Allocation</th><th>Actions</th></tr></thead>
        <tbody>${vols[p.name].map((v) => html`<tr key=${v.name} data-volume=${v.name}><td>${v.name}</td><td>${v.format}</td>
          <td>${fmtBytes(v.capacity)}</td><td>${fmtBytes(v.allocation)}</td>
          <td><a class="button" href=${apiPath(`/v1/pools/${q(p.name)}/volumes/${q(v.name)}/data`)} download=${v.name}>Download</a>
            <${Resize} pool=${p.name} vol=${v} onDone=${load} />
            <${Action} label="Delete" kind="danger" run=${async () => { await call('DELETE', `/v1/pools/${q(p.name)}/volumes/${q(v.name)}`); await load(); }} /></td></tr>`)}</tbody></table>`}
    </div>`)}
  </section>`;
}
