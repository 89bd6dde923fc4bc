// Create a guest: the server runs `pyvirt install` with these fields (the same engine as the
// command line): import an existing disk or a kernel + initrd, install from an ISO, a URL/tree or
// PXE onto a new disk, or boot a cloud image configured by cloud-init.
import { html, useEffect, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, callStream, rows, pageHref } from '/static/api.js';
import { ErrorBox, Field } from '/static/ui.js';

const SOURCES = [['disk', 'an existing disk image (import)'], ['kernel', 'a kernel and initrd'],
  ['iso', 'an installer ISO'], ['url', 'a network install tree (URL)'], ['pxe', 'the network (PXE)'],
  ['cloud', 'a cloud image, configured by cloud-init']];
const FIELDS_OF = { disk: ['disk'], kernel: ['kernel', 'initrd', 'cmdline', 'disk'], iso: ['iso', 'disk_size'],
  url: ['url', 'disk_size'], pxe: ['disk_size'], cloud: ['disk', 'ssh_key', 'root_password'] };

export function CreateGuest() {
  const [form, setForm] = useState({ name: '', memory: 512, vcpus: 1, osinfo: 'linux2022', source: 'disk',
    disk: '', kernel: '', initrd: '', cmdline: 'console=ttyS0', iso: '', url: '', disk_size: 10, ssh_key: '',
    root_password: false, network: 'user', graphics: 'vnc' });
  const [osids, setOsids] = useState([]);
  const [nets, setNets] = useState([]);
  const [isos, setIsos] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [progress, setProgress] = useState([]);
  useEffect(() => {
    call('GET', '/osinfo').then(setOsids).catch(() => {});
    call('GET', '/v1/networks').then((t) => setNets(rows(t))).catch(() => {});
    (async () => {
      const found = [];
      for (const p of rows(await call('GET', '/v1/pools')).filter((x) => x.active)) {
        for (const v of rows(await call('GET', `/v1/pools/${encodeURIComponent(p.name)}/volumes`))) found.push(v);
      }
      setIsos(found);
    })().catch(() => {});
  }, []);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'number' ? Number(e.target.value)
    : e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  // picking a known OS fills in osinfo-db's defaults (what pyvirt install would choose) and says
  // which firmware and TPM the engine will give it. The defaults are derived from the typed id and
  // the list of known ids together, so an id typed before the list arrives still gets them, and an
  // answer for an id the user has since typed past is dropped rather than shown.
  const [osDefaults, setOsDefaults] = useState(null);
  const [osTyped, setOsTyped] = useState(false);
  const pickOs = (e) => {
    const id = e.target.value;
    setOsTyped(true);
    setForm((f) => ({ ...f, osinfo: id }));
  };
  useEffect(() => {
    const id = form.osinfo.trim();
    if (!osTyped || !osids.includes(id)) { setOsDefaults(null); return undefined; }
    let current = true;
    call('GET', `/osinfo/${encodeURIComponent(id)}`).then((d) => {
      if (!current) return;
      setOsDefaults(d);
      setForm((f) => (f.osinfo.trim() !== id ? f : { ...f, memory: d.memory_mib || f.memory,
        vcpus: d.vcpus || f.vcpus, disk_size: d.disk_gib || f.disk_size }));
    }).catch(() => { if (current) setOsDefaults(null); });
    return () => { current = false; };
  }, [form.osinfo, osids, osTyped]);
  const has = (f) => FIELDS_OF[form.source].includes(f);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null); setDone(null); setProgress([]);
    const body = { name: form.name.trim(), memory: form.memory, vcpus: form.vcpus, osinfo: form.osinfo.trim(),
      source: form.source, network: form.network, graphics: form.graphics };
    for (const f of FIELDS_OF[form.source]) body[f] = typeof form[f] === 'string' ? form[f].trim() : form[f];
    for (const k of Object.keys(body)) if (body[k] === '' || body[k] === false) delete body[k];
    try {
      const r = await callStream('/create', body, (line) => setProgress((p) => [...p, line]));
      if (form.source === 'cloud') setDone({ name: body.name, output: r.output });  // it may hold a generated password
      else location.hash = pageHref('guest', body.name);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<section aria-labelledby="create-h"><h1 id="create-h">Create a guest</h1>
    <form class="card create" onSubmit=${submit}>
      <${Field} id="c-name" label="Name"><input id="c-name" required value=${form.name} onInput=${set('name')} /></${Field}>
      <${Field} id="c-os" label="Operating system (osinfo short id)" hint="type to search osinfo-db; it sets the defaults">
        <input id="c-os" list="c-os-list" value=${form.osinfo} onInput=${pickOs} aria-describedby="c-os-defaults" />
        <datalist id="c-os-list">${osids.map((o) => html`<option value=${o} />`)}</datalist>
        <small id="c-os-defaults" aria-live="polite">${osDefaults ? `${osDefaults.os}: ${osDefaults.memory_mib || '?'} MiB, `
          + `${osDefaults.vcpus || '?'} vCPUs, ${osDefaults.disk_gib || '?'} GiB for a new disk, `
          + (osDefaults.firmware === 'efi' ? 'UEFI firmware with an emulated TPM' : 'BIOS firmware') : ''}</small></${Field}>
      <${Field} id="c-mem" label="Memory (MiB)"><input id="c-mem" type="number" min="16" value=${form.memory} onInput=${set('memory')} /></${Field}>
      <${Field} id="c-cpu" label="vCPUs"><input id="c-cpu" type="number" min="1" value=${form.vcpus} onInput=${set('vcpus')} /></${Field}>
      <fieldset><legend>Boot from</legend>
        ${SOURCES.map(([id, label]) => html`<label><input type="radio" name="source" value=${id}
          checked=${form.source === id} onChange=${set('source')} /> ${label}</label>`)}
      </fieldset>
      ${has('iso') && html`<${Field} id="c-iso" label="ISO (path, or a volume below)">
        <input id="c-iso" list="c-iso-list" required value=${form.iso} onInput=${set('iso')} />
        <datalist id="c-iso-list">${isos.map((v) => html`<option value=${v.path}>${v.pool}/${v.name}</option>`)}</datalist></${Field}>`}
      ${has('url') && html`<${Field} id="c-url" label="Install tree URL"><input id="c-url" required value=${form.url} onInput=${set('url')} /></${Field}>`}
      ${has('kernel') && html`
        <${Field} id="c-kernel" label="Kernel path"><input id="c-kernel" required value=${form.kernel} onInput=${set('kernel')} /></${Field}>
        <${Field} id="c-initrd" label="Initrd path"><input id="c-initrd" value=${form.initrd} onInput=${set('initrd')} /></${Field}>
        <${Field} id="c-cmdline" label="Kernel command line"><input id="c-cmdline" value=${form.cmdline} onInput=${set('cmdline')} /></${Field}>`}
      ${has('disk') && html`<${Field} id="c-disk" label=${form.source === 'kernel' ? 'Disk image path (optional)' : 'Disk image path'}>
        <input id="c-disk" list="c-disk-list" value=${form.disk} onInput=${set('disk')} required=${form.source !== 'kernel'} />
        <datalist id="c-disk-list">${isos.map((v) => html`<option value=${v.path}>${v.pool}/${v.name}</option>`)}</datalist></${Field}>`}
      ${has('disk_size') && html`<${Field} id="c-size" label="New disk (GiB)"><input id="c-size" type="number" min="1" value=${form.disk_size} onInput=${set('disk_size')} /></${Field}>`}
      ${has('ssh_key') && html`
        <${Field} id="c-key" label="Root SSH public key"><input id="c-key" value=${form.ssh_key} onInput=${set('ssh_key')} placeholder="ssh-ed25519 AAAA… you@host" /></${Field}>
        <p><input type="checkbox" id="c-rootpw" checked=${form.root_password} onChange=${set('root_password')} />
          <label for="c-rootpw">Generate a root password (shown once, below)</label></p>`}
      <${Field} id="c-net" label="Network"><select id="c-net" value=${form.network} onChange=${set('network')}>
        <option value="user">user-mode (NAT inside QEMU)</option><option value="none">none</option>
        ${nets.map((n) => html`<option value=${n.name}>network ${n.name}</option>`)}</select></${Field}>
      <${Field} id="c-gfx" label="Display"><select id="c-gfx" value=${form.graphics} onChange=${set('graphics')}>
        <option value="vnc">VNC (graphical console)</option><option value="none">none (serial console only)</option></select></${Field}>
      <button type="submit" disabled=${busy}>${busy ? 'Creating…' : 'Create and start'}</button>
      ${busy && html`<p role="status" class="hint">pyvirt install is creating disks, preparing media and starting the guest…</p>`}
      ${(busy || error) && progress.length > 0 && html`<pre class="output" id="create-progress" aria-live="polite">${progress.join('\n')}</pre>`}
      <${ErrorBox} error=${error} />
      ${done && html`<div role="status"><p class="ok">Created ${done.name}.</p><pre class="output">${done.output}</pre>
        <a href=${pageHref('guest', done.name)}>Open ${done.name}</a></div>`}
    </form></section>`;
}
