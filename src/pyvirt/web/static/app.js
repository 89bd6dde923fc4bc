// The shell: navigation, hash routes (#/guests for every connection's guests; #/c/ID/guest/NAME,
// #/c/ID/create, #/c/ID/storage, #/c/ID/networks, #/c/ID/host for one connection's; without
// c/ID: the first connection) and the live event socket.
import { html, render, useEffect, useState } from '/vendor/htm/preact/standalone.module.js';
import { init, openEvents, csrf, connections, setConn, pageHref } from '/static/api.js';
import { GuestList } from '/static/guests.js';
import { GuestDetails } from '/static/guest.js';
import { CreateGuest } from '/static/create.js';
import { Storage } from '/static/storage.js';
import { Networks } from '/static/networks.js';
import { Host } from '/static/host.js';

function route() {
  let parts = location.hash.replace(/^#\/?/, '').split('/');
  let conn = null;
  if (parts[0] === 'c' && parts.length > 2) { conn = decodeURIComponent(parts[1]); parts = parts.slice(2); }
  return { conn, page: parts[0] || 'guests', arg: parts.slice(1).map(decodeURIComponent).join('/') };
}

const NAV = [['guests', 'Guests'], ['create', 'Create guest'], ['storage', 'Storage'], ['networks', 'Networks'],
  ['host', 'Host']];

async function logout() {
  await fetch('/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf() } });
  location.href = '/login';
}

// With more than one connection: which one the pages other than the guest list are about
function ConnPicker({ conns, value, page, pick }) {
  if (conns.length < 2) return html`<span class=${conns.length && conns[0].label !== conns[0].uri ? 'uri' : 'uri mono'} title=${conns.length ? conns[0].uri : 'connection'}>${conns.length ? (conns[0].label || conns[0].uri) : ''}</span>`;
  const go = (e) => {
    const v = e.target.value;
    if (page === 'guests' || page === 'guest') { pick(v); location.hash = '#/guests'; } else location.hash = pageHref(page, undefined, v);
  };
  return html`<label class="uri" for="conn-pick">Connection <select id="conn-pick" value=${value} onChange=${go}>
    ${conns.map((c) => html`<option value=${c.id} title=${c.uri}>${c.label || c.uri}</option>`)}</select></label>`;
}

function App() {
  const conns = connections();
  const [r, setR] = useState(route());
  const [last, setLast] = useState(conns.length ? conns[0].id : null);
  useEffect(() => {
    const f = () => setR(route());
    addEventListener('hashchange', f);
    f();  // a hash change between the first render and this subscription would be missed otherwise
    return () => removeEventListener('hashchange', f);
  }, []);
  const known = r.conn !== null && conns.some((c) => c.id === r.conn);
  const id = known ? r.conn : last;
  useEffect(() => { if (known && r.conn !== last) setLast(r.conn); }, [r.conn]);
  setConn(id);  // before the view renders: its requests go to the connection its route names
  let view;
  if (r.conn !== null && !known) {
    view = html`<section><h1>No such connection</h1><p class="error" role="alert">This login has no connection
      "${r.conn}".</p><a href="#/guests">Back to guests</a></section>`;
  } else {
    switch (r.page) {
      case 'guest': view = html`<${GuestDetails} key=${id + '/' + r.arg} name=${r.arg} />`; break;
      case 'create': view = html`<${CreateGuest} key=${id} />`; break;
      case 'storage': view = html`<${Storage} key=${id} />`; break;
      case 'networks': view = html`<${Networks} key=${id} />`; break;
      case 'host': view = html`<${Host} key=${id} />`; break;
      default: view = html`<${GuestList} />`;
    }
  }
  const current = r.page === 'guest' ? 'guests' : r.page;
  return html`
    <header class="top">
      <a class="brand" href="#/guests">pyvirt</a>
      <nav aria-label="Main"><ul>
        ${NAV.map(([page, label]) => html`<li><a href=${page === 'guests' ? '#/guests' : pageHref(page, undefined, id)}
          aria-current=${current === page ? 'page' : null}>${label}</a></li>`)}
      </ul></nav>
      <${ConnPicker} conns=${conns} value=${id} page=${r.page} pick=${setLast} />
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
  render(html`<${App} />`, root);
})();
