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

// A directory pool: defined, built (its directory made), started, autostarted if asked.  A
// failure after the definition undefines it again, so a refused pool leaves nothing behind.
function NewPool({ onDone }) {
  const [f, setF] = useState({ name: '', path: '', autostart: true });
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const create = async () => {
    const name = f.name.trim(), dir = f.path.trim();
    if (!dir.startsWith('/')) throw new Error('Target directory: an absolute path is needed');
    const d = document.implementation.createDocument(null, null, null);
    const pool = d.createElement('pool');
    pool.setAttribute('type', 'dir');
    const n = d.createElement('name'); n.textContent = name; pool.appendChild(n);
    const t = d.createElement('target'), p = d.createElement('path');
    p.textContent = dir; t.appendChild(p); pool.appendChild(t);
    await call('POST', '/v1/pools', { xml: new XMLSerializer().serializeToString(pool) });
    try {
      await call('POST', `/v1/pools/${q(name)}/start`, { build: true });
      if (f.autostart) await call('POST', `/v1/pools/${q(name)}/autostart`, { autostart: true });
    } catch (e) {
      await call('POST', `/v1/pools/${q(name)}/destroy`, {}).catch(() => {});
      await call('DELETE', `/v1/pools/${q(name)}`).catch(() => {});
      throw e;
    }
    setF({ ...f, name: '', path: '' });
    await onDone();
  };
  return html`<form class="card inline" onSubmit=${(e) => e.preventDefault()} aria-label="New directory pool">
    <${Field} id="np-name" label="New pool name"><input id="np-name" value=${f.name} onInput=${set('name')} /></${Field}>
    <${Field} id="np-path" label="Target directory"><input id="np-path" value=${f.path} placeholder="/srv/pyvirt/pool1" onInput=${set('path')} /></${Field}>
    <div class="field"><label><input type="checkbox" id="np-autostart" checked=${f.autostart} onChange=${set('autostart')} /> Start with pyvirtd</label></div>
    <${Action} label="Create pool" disabled=${!f.name.trim() || !f.path.trim()} run=${create} />
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
