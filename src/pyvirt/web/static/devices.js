// A guest's disks and network interfaces: attach an existing pool volume or a new one, detach a disk, eject or
// insert a CD-ROM's medium, add or remove a NIC, set a NIC's link up or down.  Device XML is built through the DOM (names
// and paths escaped by the serializer) and sent with attach_device / detach_device /
// update_device: live when the guest runs, to the definition when it is persistent.
import { html, useEffect, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows, q } from '/static/api.js';
import { Action, ErrorBox, Field } from '/static/ui.js';

const ser = (node) => new XMLSerializer().serializeToString(node);

function el(doc, tag, attrs, children = []) {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== '') e.setAttribute(k, v);
  for (const c of children) e.appendChild(c);
  return e;
}

function newDoc() { return document.implementation.createDocument(null, null, null); }

function freeTarget(used, prefix) {
  for (let i = 0; i < 26; i++) {
    const t = prefix + String.fromCharCode(97 + i);
    if (!used.includes(t)) return t;
  }
  throw new Error('no free disk name left');
}

// A NIC's link as a labelled switch: what `virsh domif-setlink` does (the interface element with
// <link state=…> sent through update_device: the running guest when it runs, else the
// definition) and `domif-getlink` reads (the state in the XML shown).  Its error shows beside it.
function LinkToggle({ node, mac, apply }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const link = node.querySelector('link');
  const up = ((link && link.getAttribute('state')) || 'up') === 'up';
  const id = 'link-' + mac;
  const toggle = async () => {
    setBusy(true); setError(null);
    try {
      const copy = node.cloneNode(true);
      let l = copy.querySelector('link');
      if (!l) { l = copy.ownerDocument.createElement('link'); copy.appendChild(l); }
      l.setAttribute('state', up ? 'down' : 'up');
      await apply(copy);
    } catch (e) { setError(e); } finally { setBusy(false); }
  };
  return html`<span class="action link-toggle">
    <input type="checkbox" role="switch" id=${id} checked=${up} disabled=${busy} aria-busy=${busy ? 'true' : 'false'}
      data-link=${up ? 'up' : 'down'} onChange=${toggle} />
    <label for=${id}>Link ${up ? 'up' : 'down'}<span class="sr-only"> (${mac})</span></label>
    <${ErrorBox} error=${error} /></span>`;
}

export function Devices({ name, info }) {
  const [xml, setXml] = useState(null);
  const [vols, setVols] = useState([]);
  const [nets, setNets] = useState([]);
  const [error, setError] = useState(null);
  const [pick, setPick] = useState('');
  const [iso, setIso] = useState({});
  const [nic, setNic] = useState('user');
  const [pools, setPools] = useState([]);
  const [fresh, setFresh] = useState({ pool: '', gib: 1, format: 'qcow2' });
  const on = info.id !== -1;
  const flags = { live: on, config: info.persistent };
  const path = `/v1/domains/${q(name)}`;
  const load = async () => {
    try {
      const text = await call('GET', `${path}/xml`, on ? {} : { inactive: true });
      setXml(new DOMParser().parseFromString(text, 'application/xml'));
      setError(null);
    } catch (e) { setError(e); }
  };
  useEffect(() => {
    load();
    (async () => {
      const all = [];
      const active = rows(await call('GET', '/v1/pools')).filter((x) => x.active);
      setPools(active.map((p) => p.name));
      setFresh((f) => (f.pool || !active.length ? f : { ...f, pool: active[0].name }));
      for (const p of active) {
        for (const v of rows(await call('GET', `/v1/pools/${q(p.name)}/volumes`))) all.push(v);
      }
      setVols(all);
      setNets(rows(await call('GET', '/v1/networks')));
    })().catch(() => {});
  }, [name, info.state]);
  if (!xml) return html`<${ErrorBox} error=${error} />`;

  const disks = [...xml.querySelectorAll('devices > disk')];
  const used = disks.map((d) => (d.querySelector('target') || { getAttribute: () => '' }).getAttribute('dev'));
  const ifaces = [...xml.querySelectorAll('devices > interface')];
  const isos = vols.filter((v) => /\.iso$/i.test(v.name) || v.format === 'iso');

  const attachVolume = async (vol) => {
    const d = newDoc();
    const disk = el(d, 'disk', { type: 'file', device: 'disk' }, [
      el(d, 'driver', { name: 'qemu', type: vol.format === 'qcow2' ? 'qcow2' : 'raw' }),
      el(d, 'source', { file: vol.path }), el(d, 'target', { dev: freeTarget(used, 'vd'), bus: 'virtio' })]);
    await call('POST', `${path}/devices/attach`, { xml: ser(disk), ...flags });
    await load();
  };
  const attach = async () => {
    const vol = vols.find((v) => v.path === pick);
    if (!vol) throw new Error('choose a volume');
    await attachVolume(vol);
    setPick('');
  };
  // a new volume in a pool (named after the guest and the disk it becomes), then attached; if the
  // attach fails the volume is deleted again, so nothing is left behind
  const addNew = async () => {
    if (!(fresh.gib > 0)) throw new Error('size: give the new disk a size in GiB');
    const target = freeTarget(used, 'vd');
    const vname = `${name}-${target}.${fresh.format}`;
    const vol = await call('POST', `/v1/pools/${q(fresh.pool)}/volumes`,
      { name: vname, capacity: Math.round(fresh.gib * 2 ** 30), format: fresh.format });
    try { await attachVolume({ ...vol, format: fresh.format }); } catch (e) {
      await call('DELETE', `/v1/pools/${q(fresh.pool)}/volumes/${q(vname)}`).catch(() => {});
      throw e;
    }
  };
  const detach = async (node) => { await call('POST', `${path}/devices/detach`, { xml: ser(node), ...flags }); await load(); };
  const media = async (node, file) => {
    const t = node.querySelector('target');
    const d = newDoc();
    const kids = [el(d, 'target', { dev: t.getAttribute('dev'), bus: t.getAttribute('bus') || '' })];
    if (file) kids.unshift(el(d, 'source', { file }));
    const disk = el(d, 'disk', { type: 'file', device: node.getAttribute('device') }, kids);
    await call('POST', `${path}/devices/update`, { xml: ser(disk), ...flags });
    await load();
  };
  const setLink = async (node) => {
    await call('POST', `${path}/devices/update`, { xml: ser(node), live: on, config: !on });
    await load();
  };
  const addNic = async () => {
    const d = newDoc();
    const kids = [el(d, 'model', { type: 'virtio' })];
    if (nic !== 'user') kids.unshift(el(d, 'source', { network: nic }));
    await call('POST', `${path}/devices/attach`, { xml: ser(el(d, 'interface', { type: nic === 'user' ? 'user' : 'network' }, kids)), ...flags });
    await load();
  };

  return html`<div class="devices">
    <${ErrorBox} error=${error} />
    <h2>Disks</h2>
    <table class="list" aria-label="Disks"><thead><tr><th>Target</th><th>Device</th><th>Source</th><th>Actions</th></tr></thead>
      <tbody>${disks.map((node) => {
        const t = node.querySelector('target'), s = node.querySelector('source');
        const dev = t ? t.getAttribute('dev') : '', src = s ? s.getAttribute('file') || s.getAttribute('dev') || '' : '';
        const removable = ['cdrom', 'floppy'].includes(node.getAttribute('device'));
        return html`<tr key=${dev} data-disk=${dev}><td>${dev}</td><td>${node.getAttribute('device')}</td><td>${src || html`<em>empty</em>`}</td>
          <td>${removable ? html`
            <${Action} label="Eject" disabled=${!src} run=${() => media(node, '')} />
            <label class="sr-only" for=${'iso-' + dev}>ISO for ${dev}</label>
            <select id=${'iso-' + dev} value=${iso[dev] || ''} onChange=${(e) => setIso({ ...iso, [dev]: e.target.value })}>
              <option value="">choose an ISO…</option>${isos.map((v) => html`<option value=${v.path}>${v.pool}/${v.name}</option>`)}</select>
            <${Action} label="Insert" disabled=${!iso[dev]} run=${() => media(node, iso[dev])} />`
            : html`<${Action} label="Detach" kind="danger" run=${() => detach(node)} />`}</td></tr>`;
      })}</tbody></table>
    <form class="inline" onSubmit=${(e) => e.preventDefault()}>
      <${Field} id="attach-vol" label="Attach an existing volume"><select id="attach-vol" value=${pick} onChange=${(e) => setPick(e.target.value)}>
        <option value="">choose a volume…</option>
        ${vols.filter((v) => !disks.some((n) => (n.querySelector('source') || { getAttribute: () => '' }).getAttribute('file') === v.path))
          .map((v) => html`<option value=${v.path}>${v.pool}/${v.name} (${v.format})</option>`)}</select></${Field}>
      <${Action} label="Attach disk" disabled=${!pick} run=${attach} />
    </form>
    <form class="inline" onSubmit=${(e) => e.preventDefault()} aria-label="New disk">
      <${Field} id="new-disk-pool" label="New disk in pool"><select id="new-disk-pool" value=${fresh.pool}
        onChange=${(e) => setFresh({ ...fresh, pool: e.target.value })}>${pools.map((p) => html`<option value=${p}>${p}</option>`)}</select></${Field}>
      <${Field} id="new-disk-size" label="Size (GiB)"><input id="new-disk-size" class="small" type="number" min="0.01" step="any"
        value=${fresh.gib} onInput=${(e) => setFresh({ ...fresh, gib: Number(e.target.value) })} /></${Field}>
      <${Field} id="new-disk-format" label="Format"><select id="new-disk-format" value=${fresh.format}
        onChange=${(e) => setFresh({ ...fresh, format: e.target.value })}><option value="qcow2">qcow2</option><option value="raw">raw</option></select></${Field}>
      <${Action} label="Add new disk" disabled=${!fresh.pool} run=${addNew} />
    </form>
    <h2>Network interfaces</h2>
    <table class="list" aria-label="Network interfaces"><thead><tr><th>Type</th><th>Source</th><th>MAC</th><th>Model</th><th>Link</th><th>Actions</th></tr></thead>
      <tbody>${ifaces.map((node) => {
        const mac = (node.querySelector('mac') || { getAttribute: () => '' }).getAttribute('address');
        const src = node.querySelector('source');
        return html`<tr key=${mac} data-mac=${mac}><td>${node.getAttribute('type')}</td>
          <td>${src ? src.getAttribute('network') || src.getAttribute('bridge') || '' : ''}</td><td>${mac}</td>
          <td>${(node.querySelector('model') || { getAttribute: () => '' }).getAttribute('type')}</td>
          <td><${LinkToggle} node=${node} mac=${mac} apply=${setLink} /></td>
          <td><${Action} label="Remove" kind="danger" run=${() => detach(node)} /></td></tr>`;
      })}</tbody></table>
    <form class="inline" onSubmit=${(e) => e.preventDefault()}>
      <${Field} id="nic-src" label="Add a network interface"><select id="nic-src" value=${nic} onChange=${(e) => setNic(e.target.value)}>
        <option value="user">user-mode</option>${nets.map((n) => html`<option value=${n.name}>network ${n.name}</option>`)}</select></${Field}>
      <${Action} label="Add interface" run=${addNic} />
    </form>
  </div>`;
}
