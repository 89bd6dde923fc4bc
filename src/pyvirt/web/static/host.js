// The host: what pyvirtd reports (node info, versions, capabilities) and the KVM verdict
// (pyvirtd offers domain type 'kvm' in its capabilities only when its probe found KVM usable)
// with the probe's reason (kvm_reason; a driver without a probe, e.g. test://, has none).
import { html, useEffect, useState } from '/vendor/htm/preact/standalone.module.js';
import { call, fmtBytes } from '/static/api.js';
import { ErrorBox } from '/static/ui.js';

export function Host() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    (async () => {
      try {
        const [node, version, hostname, capsXml, free, reason] = await Promise.all([
          call('GET', '/v1/host/nodeinfo'), call('GET', '/v1/host/version'), call('GET', '/v1/host/hostname'),
          call('GET', '/v1/host/capabilities'), call('GET', '/v1/host/freemem').catch(() => null),
          call('GET', '/v1/host/kvm').catch(() => null)]);
        const caps = new DOMParser().parseFromString(capsXml, 'application/xml');
        const text = (sel) => { const e = caps.querySelector(sel); return e ? e.textContent : ''; };
        const guests = [...caps.querySelectorAll('guest')].map((g) => ({
          arch: (g.querySelector('arch') || { getAttribute: () => '' }).getAttribute('name'),
          types: [...g.querySelectorAll('arch > domain')].map((d) => d.getAttribute('type')),
        }));
        const kvm = guests.some((g) => g.types.includes('kvm'));
        setData({ node, version, hostname, free, guests, kvm, reason, cpu: `${text('host > cpu > arch')} ${text('host > cpu > model')}` });
      } catch (e) { setError(e); }
    })();
  }, []);
  if (!data) return html`<section><h1>Host</h1><${ErrorBox} error=${error} /></section>`;
  const n = data.node;
  return html`<section aria-labelledby="host-h"><h1 id="host-h">Host ${data.hostname}</h1>
    <div class=${'card verdict ' + (data.kvm ? 'good' : 'warn')} id="kvm-verdict">
      <h2>KVM ${data.kvm ? 'usable' : 'not usable'}</h2>
      <p>${data.kvm ? 'Guests of type kvm run with hardware acceleration.'
        : "pyvirtd's probe found no working KVM here (no /dev/kvm, or one that does not run guests): guests run under TCG emulation, correctly but slower."}</p>
      ${data.reason && html`<p id="kvm-reason">The probe says: ${data.reason}</p>`}
    </div>
    <dl class="facts">
      <dt>CPU</dt><dd>${data.cpu} — ${n.cpus} CPUs (${n.sockets} sockets × ${n.cores} cores × ${n.threads} threads), ${n.mhz} MHz</dd>
      <dt>Memory</dt><dd>${fmtBytes(n.memory_kib * 1024)}${data.free !== null ? `, ${fmtBytes(data.free)} free` : ''}</dd>
      <dt>NUMA nodes</dt><dd>${n.nodes}</dd>
      <dt>Versions</dt><dd>${Object.entries(data.version).map(([k, v]) => `${k} ${v}`).join(', ')}</dd>
      <dt>Guest architectures</dt><dd>${data.guests.map((g) => html`<div>${g.arch}: ${g.types.join(', ')}</div>`)}</dd>
    </dl>
  </section>`;
}
