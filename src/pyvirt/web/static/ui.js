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

// Assets a view needs only when it opens (xterm.js is ~280 KiB): a same-origin <script> or
// stylesheet added once, as the CSP allows ('self'); the list page ships without them.
const loaded = new Map();
export function loadAsset(url) {
  if (!loaded.has(url)) {
    loaded.set(url, new Promise((resolve, reject) => {
      const css = url.endsWith('.css');
      const el = document.createElement(css ? 'link' : 'script');
      if (css) { el.rel = 'stylesheet'; el.href = url; } else { el.src = url; }
      el.onload = resolve;
      el.onerror = () => reject(new Error(`cannot load ${url}`));
      document.head.appendChild(el);
    }));
  }
  return loaded.get(url);
}
