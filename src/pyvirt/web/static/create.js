// Create a guest by import (an existing disk image, or a kernel + initrd): the server runs
// `pyvirt install` with these fields, the same engine as the command line.
import { html, useEffect, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, rows } from '/static/api.js';
import { ErrorBox, Field } from '/static/ui.js';

export function CreateGuest() {
  const [form, setForm] = useState({ name: '', memory: 512, vcpus: 1, osinfo: 'linux2022', source: 'disk',
    disk: '', kernel: '', initrd: '', cmdline: 'console=ttyS0', network: 'user', graphics: 'vnc' });
  const [osids, setOsids] = useState([]);
  const [nets, setNets] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [output, setOutput] = useState('');
  useEffect(() => {
    call('GET', '/osinfo').then(setOsids).catch(() => {});
    call('GET', '/v1/networks').then((t) => setNets(rows(t))).catch(() => {});
  }, []);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === 'number' ? Number(e.target.value) : e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null); setOutput('');
    const body = { name: form.name.trim(), memory: form.memory, vcpus: form.vcpus, osinfo: form.osinfo,
      network: form.network, graphics: form.graphics };
    if (form.source === 'disk') body.disk = form.disk.trim();
    else Object.assign(body, { kernel: form.kernel.trim(), initrd: form.initrd.trim(), cmdline: form.cmdline, disk: form.disk.trim() });
    for (const k of Object.keys(body)) if (body[k] === '') delete body[k];
    try {
      const r = await call('POST', '/create', body);
      setOutput(r.output);
      location.hash = '#/guest/' + encodeURIComponent(body.name);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<section aria-labelledby="create-h"><h1 id="create-h">Create a guest</h1>
    <form class="card create" onSubmit=${submit}>
      <${Field} id="c-name" label="Name"><input id="c-name" required value=${form.name} onInput=${set('name')} /></${Field}>
      <${Field} id="c-os" label="Operating system (osinfo short id)" hint="type to search osinfo-db">
        <input id="c-os" list="c-os-list" value=${form.osinfo} onInput=${set('osinfo')} />
        <datalist id="c-os-list">${osids.map((o) => html`<option value=${o} />`)}</datalist></${Field}>
      <${Field} id="c-mem" label="Memory (MiB)"><input id="c-mem" type="number" min="16" value=${form.memory} onInput=${set('memory')} /></${Field}>
      <${Field} id="c-cpu" label="vCPUs"><input id="c-cpu" type="number" min="1" value=${form.vcpus} onInput=${set('vcpus')} /></${Field}>
      <fieldset><legend>Boot from</legend>
        <label><input type="radio" name="source" value="disk" checked=${form.source === 'disk'} onChange=${set('source')} /> an existing disk image</label>
        <label><input type="radio" name="source" value="kernel" checked=${form.source === 'kernel'} onChange=${set('source')} /> a kernel and initrd</label>
      </fieldset>
      <${Field} id="c-disk" label=${form.source === 'disk' ? 'Disk image path' : 'Disk image path (optional)'}>
        <input id="c-disk" value=${form.disk} onInput=${set('disk')} required=${form.source === 'disk'} /></${Field}>
      ${form.source === 'kernel' && html`
        <${Field} id="c-kernel" label="Kernel path"><input id="c-kernel" required value=${form.kernel} onInput=${set('kernel')} /></${Field}>
        <${Field} id="c-initrd" label="Initrd path"><input id="c-initrd" value=${form.initrd} onInput=${set('initrd')} /></${Field}>
        <${Field} id="c-cmdline" label="Kernel command line"><input id="c-cmdline" value=${form.cmdline} onInput=${set('cmdline')} /></${Field}>`}
      <${Field} id="c-net" label="Network"><select id="c-net" value=${form.network} onChange=${set('network')}>
        <option value="user">user-mode (NAT inside QEMU)</option><option value="none">none</option>
        ${nets.map((n) => html`<option value=${n.name}>network ${n.name}</option>`)}</select></${Field}>
      <${Field} id="c-gfx" label="Display"><select id="c-gfx" value=${form.graphics} onChange=${set('graphics')}>
        <option value="vnc">VNC (graphical console)</option><option value="none">none (serial console only)</option></select></${Field}>
      <button type="submit" disabled=${busy}>${busy ? 'Creating…' : 'Create and start'}</button>
      ${busy && html`<p role="status" class="hint">pyvirt install is preparing disks and media and starting the guest…</p>`}
      <${ErrorBox} error=${error} />
      ${output && html`<pre class="output">${output}</pre>`}
    </form></section>`;
}
