"""The web UI's figures: first page load (cold and warm cache), time until the guest list shows
N defined guests, bytes of JS/CSS shipped, event-to-screen latency of a state change, and the
web process's RSS.  A private pyvirtd, `pyvirt web`, and Debian's chromium through Playwright.

    .venv/bin/python bench/web.py [--guests 1000] [--runs 5]

Cockpit Machines 288, the yardstick the issue names, is measured in the same run over the same
pyvirtd (tests/cockpit_stack.py: cockpit-ws + cockpit-bridge as root, pyvirt-dbus on a private
system bus): time until its VM list shows the N guests, and the RSS of cockpit-ws + cockpit-bridge
(+ pyvirt-dbus, which Cockpit needs and `pyvirt web` does not) next to `pyvirt web`'s.  Where
Cockpit cannot run (not root, packages missing) the reason is printed instead of figures.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PrivateDaemon, median, small_domain_xml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import cockpit_stack  # noqa: E402

SYSTEM_URI = "qemu:///system"
LIST_LIMIT_S = 300  # Cockpit reads each VM with several D-Bus calls: a bound, reported if reached

CHROMIUM = "/usr/bin/chromium"
# as root (CI) chromium needs --no-sandbox; a container's small /dev/shm would crash its renderer
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
# timestamps of domain events as the page's WebSocket receives them, and of the last change of a
# row's state in the DOM (a CDP init script, not the page's: Playwright's own polling would add
# its own delay to the figure)
ARRIVAL_JS = """(() => { const W = window.WebSocket; window.__events = [];
  window.WebSocket = class extends W { constructor(u, p) { super(u, p);
    this.addEventListener('message', (m) => { if (m.data.includes('"Domain"'))
      window.__events.push(performance.timeOrigin + performance.now()); }); } };
  window.__drawn = 0;
  new MutationObserver(() => { window.__drawn = performance.timeOrigin + performance.now(); })
    .observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] }); })();"""
COUNT_JS = "(n) => document.querySelectorAll('tr[data-guest]').length >= n"


def start_web(daemon: PrivateDaemon) -> tuple[subprocess.Popen[str], str]:
    import os

    env = dict(os.environ, PYVIRT_STATE_ROOT=str(daemon.root))
    proc = subprocess.Popen([sys.executable, "-m", "pyvirt.web.main", "-c", daemon.uri, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    text = proc.stdout.readline() + proc.stdout.readline()
    found = re.search(r"(http://\S+/login\?token=\S+)", text)
    if not found:
        raise RuntimeError(f"pyvirt web did not start: {text}")
    return proc, found.group(1)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cockpit_figures(browser: object, folder: Path, guests: int, runs: int, web_rss: int) -> None:
    """Cockpit Machines: page load, time until its list shows `guests` rows (from navigation
    start, as the figure above), and its processes' RSS.  Cockpit offers root the system
    connection only, and `pyvirt web` logs in with a token on the session one: a second pyvirtd
    (qemu:///system over its own state root) gets the same guests."""
    system = PrivateDaemon(folder / "d", SYSTEM_URI)
    system.start(env={"PYVIRT_NETWORK_AUTOSTART": "0"})  # leave the host's networks alone
    stack = cockpit_stack.CockpitStack(folder / "cockpit", system.root)
    try:
        conn = system.connect()
        for i in range(guests):
            conn.define_xml(small_domain_xml(f"bench-{i:04d}"))
        conn.close()
        stack.start()
        loads, listed, partial = [], [], []
        for _ in range(runs):
            stack.restart_ws()  # cockpit-ws --local-session serves one browser session per start
            ctx = browser.new_context()  # type: ignore[attr-defined]
            page = ctx.new_page()
            page.goto(stack.url, wait_until="load")
            try:
                page.wait_for_function("(n) => document.querySelectorAll('tbody tr').length >= n", arg=guests,
                                       timeout=LIST_LIMIT_S * 1000)
                listed.append(page.evaluate("() => performance.now()"))
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError: say how far it got
                partial.append(page.evaluate("() => document.querySelectorAll('tbody tr').length"))
            # the machines page is an iframe-less package page: its own navigation entry
            loads.append(page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd"))
            names = {pid: Path(f"/proc/{pid}/comm").read_text().strip() for pid in stack.session_pids()}
            cockpit_rss = sum(rss_kib(pid) for pid, comm in names.items() if comm in ("cockpit-ws", "cockpit-bridge"))
            ctx.close()
        service_rss = rss_kib(stack.procs["service"].pid)
        print(f"Cockpit Machines page load:         {median(loads):7.0f} ms  (cold cache, to 'load')")
        if listed:
            print(f"Cockpit list shows {guests} guests:    {median(listed):7.0f} ms  (from navigation start)")
        if partial:
            print(f"Cockpit list after {LIST_LIMIT_S} s:          {max(partial)} of {guests} guests shown "
                  f"({len(partial)} of {runs} runs did not finish)")
        print(f"cockpit-ws + cockpit-bridge RSS:    {cockpit_rss / 1024:7.1f} MiB  (+ pyvirt-dbus "
              f"{service_rss / 1024:.1f} MiB) vs pyvirt web {web_rss / 1024:.1f} MiB")
    finally:
        stack.stop()
        system.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guests", type=int, default=1000, help="defined guests in the list (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (median printed)")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    no_cockpit = cockpit_stack.missing()
    with tempfile.TemporaryDirectory(prefix="pvb-web-", dir="/tmp") as tmp:
        daemon = PrivateDaemon(Path(tmp) / "d")
        daemon.start()
        web = None
        try:
            conn = daemon.connect()
            t0 = time.monotonic()
            for i in range(args.guests):
                conn.define_xml(small_domain_xml(f"bench-{i:04d}"))
            print(f"defined {args.guests} guests in {time.monotonic() - t0:.1f} s")
            web, url = start_web(daemon)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                cold, warm, listed, shipped = [], [], [], {}
                for _ in range(args.runs):
                    ctx = browser.new_context()  # empty cache: a cold load
                    page = ctx.new_page()
                    sizes: dict[str, int] = {}
                    page.on("response", lambda r, s=sizes: s.__setitem__(r.url, len(r.body()))
                            if r.ok and re.search(r"\.(js|css)$", r.url) else None)
                    page.goto(url, wait_until="load")
                    page.wait_for_function(COUNT_JS, arg=args.guests, timeout=120_000)
                    cold.append(page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd"))
                    listed.append(page.evaluate("() => performance.now()"))
                    shipped = sizes
                    page.reload(wait_until="load")  # same context: the browser's cache is warm
                    warm.append(page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd"))
                    ctx.close()
                js = sum(n for u, n in shipped.items() if u.endswith(".js"))
                css = sum(n for u, n in shipped.items() if u.endswith(".css"))
                print(f"first page load, cold cache:        {median(cold):7.0f} ms  (HTML + JS + CSS, to 'load')")
                print(f"first page load, warm cache:        {median(warm):7.0f} ms")
                print(f"list shows {args.guests} guests:          {median(listed):7.0f} ms  (from navigation start)")
                print(f"JS shipped:  {js / 1024:7.1f} KiB in {sum(u.endswith('.js') for u in shipped)} files; "
                      f"CSS: {css / 1024:.1f} KiB in {sum(u.endswith('.css') for u in shipped)} files "
                      "(uncompressed; the console/VNC/chart modules load only on their tabs)")

                # events to screen: a guest paused/resumed through the API, the row's state seen
                ctx = browser.new_context()
                page = ctx.new_page()
                page.add_init_script(ARRIVAL_JS)
                page.goto(url)
                page.wait_for_function(COUNT_JS, arg=args.guests, timeout=120_000)
                name = "bench-0000"
                conn.start(name, paused=True)  # no kernel, no disk: QEMU runs SeaBIOS; enough for states
                page.wait_for_selector(f'tr[data-guest="{name}"] .state[data-state="3"]')
                lat, api, arrive = [], [], []
                for i in range(args.runs * 2):
                    target = 1 if i % 2 == 0 else 3
                    t_call = time.time() * 1000
                    (conn.resume if target == 1 else conn.suspend)(name)
                    api.append(time.time() * 1000 - t_call)
                    page.wait_for_selector(f'tr[data-guest="{name}"] .state[data-state="{target}"]')
                    lat.append(page.evaluate("() => window.__drawn") - t_call)
                    got = page.evaluate("() => window.__events.slice(-1)[0]")
                    arrive.append(got - t_call)
                print(f"state change to screen:             {median(lat):7.1f} ms  (DOM updated; event reaches the page after "
                      f"{median(arrive):.1f} ms; the API call alone takes {median(api):.1f} ms)")
                conn.destroy(name)
                print(f"web process RSS:                    {rss_kib(web.pid) / 1024:7.1f} MiB  "
                      f"(after listing {args.guests} guests; pyvirtd: {daemon.rss_kib() / 1024:.1f} MiB)")
                web_rss = rss_kib(web.pid)
                if no_cockpit:
                    print(f"Cockpit Machines: cannot run here ({', '.join(no_cockpit)}): no yardstick figures")
                else:
                    cockpit_figures(browser, Path(tmp) / "cockpit", args.guests, args.runs, web_rss)
                browser.close()
        finally:
            if web is not None:
                web.terminate()
                web.wait(10)
            daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
