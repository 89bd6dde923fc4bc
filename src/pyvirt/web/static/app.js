// The shell: navigation, hash routes (#/guests, #/guest/NAME, #/create, #/storage, #/networks,
// #/host) and the live event socket.
import { html, render, useEffect, useState } from '/vendor/htm/preact/standalone.module.js';
import { init, openEvents, csrf } from '/static/api.js';
import { GuestList } from '/static/guests.js';
import { GuestDetails } from '/static/guest.js';
import { CreateGuest } from '/static/create.js';
import { Storage } from '/static/storage.js';
import { Networks } from '/static/networks.js';
import { Host } from '/static/host.js';

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  return { page: parts[0] || 'guests', arg: parts.slice(1).map(decodeURIComponent).join('/') };
}

const NAV = [['guests', 'Guests'], ['create', 'Create guest'], ['storage', 'Storage'], ['networks', 'Networks'],
  ['host', 'Host']];

async function logout() {
  await fetch('/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf() } });
  location.href = '/login';
}

function App({ session }) {
  const [r, setR] = useState(route());
  useEffect(() => {
    const f = () => setR(route());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  let view;
  switch (r.page) {
    case 'guest': view = html`<${GuestDetails} key=${r.arg} name=${r.arg} />`; break;
    case 'create': view = html`<${CreateGuest} />`; break;
    case 'storage': view = html`<${Storage} />`; break;
    case 'networks': view = html`<${Networks} />`; break;
    case 'host': view = html`<${Host} />`; break;
    default: view = html`<${GuestList} />`;
  }
  const current = r.page === 'guest' ? 'guests' : r.page;
  return html`
    <header class="top">
      <a class="brand" href="#/guests">pyvirt</a>
      <nav aria-label="Main"><ul>
        ${NAV.map(([id, label]) => html`<li><a href=${'#/' + id}
          aria-current=${current === id ? 'page' : null}>${label}</a></li>`)}
      </ul></nav>
      <span class="uri" title="connection">${session.uri}</span>
      <button type="button" class="quiet" onClick=${logout}>Log out</button>
    </header>
    <main id="main">${view}</main>`;
}

(async () => {
  const session = await init();
  if (!session) return;
  openEvents();
  const root = document.getElementById('app');
  root.textContent = '';  // the static "Loading…" goes; Preact owns the element from here
  render(html`<${App} session=${session} />`, root);
})();
