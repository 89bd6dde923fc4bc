// Small shared pieces: Preact + htm (the standalone build: no bundler, no eval, CSP-clean).
import { html, useState } from '/vendor/htm/preact/standalone.module.js';

export { html };

// An error where it happened, with libvirt's message (text only: never markup)
export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${String(error.message || error)}</p>`;
}

// A button that runs an async action, shows that it runs, and reports its error next to it
export function Action({ label, run, disabled, kind, title }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const click = async () => {
    setBusy(true); setError(null);
    try { await run(); } catch (e) { setError(e); } finally { setBusy(false); }
  };
  return html`<span class="action">
    <button type="button" class=${kind || ''} disabled=${disabled || busy} title=${title || label}
      onClick=${click} aria-busy=${busy ? 'true' : 'false'}>${busy ? label + '…' : label}</button>
    <${ErrorBox} error=${error} /></span>`;
}

export function Field({ id, label, children, hint }) {
  return html`<div class="field"><label for=${id}>${label}</label>${children}
    ${hint ? html`<small>${hint}</small>` : null}</div>`;
}
