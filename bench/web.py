"""The web UI's figures next to Cockpit Machines 288's, measured in the same run on this machine:
first page load (cold and warm cache), time until the guest list shows N defined guests, bytes
of JS/CSS shipped, event-to-screen latency of a state change, and the RSS of the web processes.
Debian's chromium through Playwright drives both.

    .venv/bin/python bench/web.py [--guests 1000] [--runs 5] [--cockpit-runs 1] [--cockpit-limit 300]

pyvirt: a private pyvirtd and `pyvirt web`.  Cockpit (tests/cockpit_stack.py: cockpit-ws +
cockpit-bridge as root, without systemd, on 127.0.0.1; `pyvirt-dbus --system` on a private
system bus as the org.libvirt service, since Cockpit speaks libvirt's D-Bus API): a second,
qemu:///system pyvirtd over its own state root with the same N guests, because Cockpit offers
root the system connection only.  Cockpit reads each VM with several D-Bus calls, so its list of
1000 may not finish: the wait is bounded (--cockpit-limit) and the rows shown by then reported.
Where Cockpit cannot run (not root, packages missing) the reason is printed instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PrivateDaemon, median, rss_kib, small_domain_xml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import cockpit_stack  # noqa: E402
from tests.daemon_harness import qemu_as_root  # noqa: E402

SYSTEM_URI = "qemu:///system"
CHROMIUM = "/usr/bin/chromium"
# as root (CI) chromium needs --no-sandbox; a container's small /dev/shm would crash its renderer
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
ASSET = re.compile(r"\.(js|css)(\?|$)")
PROBE = "bench-0000"  # the guest whose state changes; first in both lists (sorted by name)
# pyvirt: timestamps of domain events as the page's WebSocket receives them, and of the last
# change of a row's state in the DOM (a CDP init script, not the page's: Playwright's own
# polling would add its delay to the figure)
PYVIRT_JS = """(() => { const W = window.WebSocket; window.__events = [];
  window.WebSocket = class extends W { constructor(u, p) { super(u, p);
    this.addEventListener('message', (m) => { if (m.data.includes('"Domain"'))
      window.__events.push(performance.timeOrigin + performance.now()); }); } };
  window.__drawn = 0;
  new MutationObserver(() => { window.__drawn = performance.timeOrigin + performance.now(); })
    .observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] }); })();"""
PYVIRT_COUNT = "(n) => document.querySelectorAll('tr[data-guest]').length >= n"
# Cockpit: the first DOM change after which the probe's state cell (id vm-NAME-system-state)
# reads the wanted word; armed before each change
COCKPIT_JS = """(() => { window.__want = null; window.__drawn = 0;
  new MutationObserver(() => { if (!window.__want || window.__drawn) return;
    const el = document.getElementById(window.__wantId);
    if (el && el.textContent.includes(window.__want))
      window.__drawn = performance.timeOrigin + performance.now(); })
    .observe(document, { subtree: true, childList: true, characterData: true }); })();"""
COCKPIT_COUNT = "(n) => document.querySelectorAll('tbody tr').length >= n"
COCKPIT_STATE_ID = f"vm-{PROBE}-system-state"
LOAD_END = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"


class Figures(dict[str, float]):
    """One UI's medians by name (ms, KiB, MiB), printed side by side at the end."""


def track_assets(page: Any) -> dict[str, tuple[int, int]]:
    """url -> (bytes after decoding, bytes on the wire) of every JS/CSS the page fetches."""
    sizes: dict[str, tuple[int, int]] = {}

    def seen(r: Any) -> None:
        if r.ok and ASSET.search(r.url):
            with contextlib.suppress(Exception):  # a response gone with its page: not counted
                body = len(r.body())
                wire = r.request.sizes()["responseBodySize"]  # -1 where chromium does not say
                if wire < 0:
                    length = r.headers.get("content-length")
                    wire = int(length) if length and length.isdigit() else body
                sizes[r.url] = (body, wire)
    page.on("response", seen)
    return sizes


def shipped(figures: Figures, sizes: dict[str, tuple[int, int]]) -> str:
    """Record JS/CSS KiB (decoded and on the wire) and say them in words."""
    out = []
    for ext in ("js", "css"):
        mine = [v for u, v in sizes.items() if re.search(rf"\.{ext}(\?|$)", u)]
        figures[f"{ext}_kib"] = sum(d for d, _ in mine) / 1024
        figures[f"{ext}_wire_kib"] = sum(w for _, w in mine) / 1024
        out.append(f"{ext.upper()} {figures[f'{ext}_kib']:.1f} KiB in {len(mine)} files "
                   f"({figures[f'{ext}_wire_kib']:.1f} KiB on the wire)")
    return "; ".join(out)


def event_latency(page: Any, conn: Any, runs: int, arm: Callable[[int], None], shown: Callable[[int], None]) -> list[float]:
    """ms from the API call that pauses/resumes PROBE until the page shows its new state."""
    lat = []
    for i in range(runs * 2):
        target = 1 if i % 2 == 0 else 3  # running, paused
        arm(target)
        t_call = time.time() * 1000
        (conn.resume if target == 1 else conn.suspend)(PROBE)
        shown(target)
        lat.append(page.evaluate("() => window.__drawn") - t_call)
    return lat


def start_web(daemon: PrivateDaemon) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYVIRT_STATE_ROOT=str(daemon.root))
    proc = subprocess.Popen([sys.executable, "-m", "pyvirt.web.main", "-c", daemon.uri, "--listen", "127.0.0.1:0",
                             "--config", os.devnull],  # an empty config: the machine's own web.toml is not read
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    text = proc.stdout.readline() + proc.stdout.readline()
    found = re.search(r"(http://\S+/login\?token=\S+)", text)
    if not found:
        raise RuntimeError(f"pyvirt web did not start: {text}")
    return proc, found.group(1)


def define(daemon: PrivateDaemon, guests: int) -> Any:
    conn = daemon.connect()
    for i in range(guests):
        conn.define_xml(small_domain_xml(f"bench-{i:04d}"))
    return conn


def pyvirt_figures(browser: Any, folder: Path, guests: int, runs: int) -> Figures:
    fig = Figures()
    daemon = PrivateDaemon(folder / "d")
    daemon.start()
    web = None
    try:
        t0 = time.monotonic()
        conn = define(daemon, guests)
        print(f"defined {guests} guests in {time.monotonic() - t0:.1f} s")
        web, url = start_web(daemon)
        cold, warm, listed, sizes = [], [], [], {}
        for _ in range(runs):
            ctx = browser.new_context()  # empty cache: a cold load
            page = ctx.new_page()
            sizes = track_assets(page)
            page.goto(url, wait_until="load")
            page.wait_for_function(PYVIRT_COUNT, arg=guests, timeout=120_000)
            cold.append(page.evaluate(LOAD_END))
            listed.append(page.evaluate("() => performance.now()"))
            page.reload(wait_until="load")  # same context: the browser's cache is warm
            warm.append(page.evaluate(LOAD_END))
            ctx.close()
        fig["cold"], fig["warm"], fig["listed"] = median(cold), median(warm), median(listed)
        print(f"pyvirt web  page load cold {fig['cold']:.0f} ms, warm {fig['warm']:.0f} ms; "
              f"list shows {guests} guests after {fig['listed']:.0f} ms")
        print(f"pyvirt web  shipped: {shipped(fig, sizes)}")

        ctx = browser.new_context()
        page = ctx.new_page()
        page.add_init_script(PYVIRT_JS)
        page.goto(url)
        page.wait_for_function(PYVIRT_COUNT, arg=guests, timeout=120_000)
        conn.start(PROBE, paused=True)  # no kernel, no disk: QEMU runs SeaBIOS; enough for states
        page.wait_for_selector(f'tr[data-guest="{PROBE}"] .state[data-state="3"]')
        lat = event_latency(page, conn, runs, lambda _t: None,
                            lambda t: page.wait_for_selector(f'tr[data-guest="{PROBE}"] .state[data-state="{t}"]'))
        fig["event"] = median(lat)
        conn.destroy(PROBE)
        ctx.close()
        fig["rss"] = rss_kib(web.pid) / 1024
        print(f"pyvirt web  state change to screen {fig['event']:.1f} ms; RSS {fig['rss']:.1f} MiB "
              f"(pyvirtd {daemon.rss_kib() / 1024:.1f} MiB)")
        conn.close()
    finally:
        if web is not None:
            web.terminate()
            web.wait(10)
        daemon.stop()
    return fig


def cockpit_figures(browser: Any, folder: Path, guests: int, runs: int, limit_s: float) -> Figures:
    """The same figures for Cockpit Machines over a system pyvirtd with the same guests."""
    fig = Figures()
    system = PrivateDaemon(folder / "d", SYSTEM_URI)
    qemu_as_root(system.root / "config")  # its state lives under /tmp's 0700 folder: QEMU as root
    system.start(env={"PYVIRT_NETWORK_AUTOSTART": "0"})  # leave the host's networks alone
    stack = cockpit_stack.CockpitStack(folder / "cockpit", system.root)
    try:
        conn = define(system, guests)
        stack.start()
        cold, warm, listed, partial, rss, sizes = [], [], [], [], [], {}
        for _ in range(runs):
            stack.restart_ws()  # cockpit-ws --local-session serves one browser session per start
            ctx = browser.new_context()
            page = ctx.new_page()
            sizes = track_assets(page)
            page.goto(stack.url, wait_until="load")
            try:
                page.wait_for_function(COCKPIT_COUNT, arg=guests, timeout=limit_s * 1000)
                listed.append(page.evaluate("() => performance.now()"))
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError: say how far it got
                partial.append(page.evaluate("() => document.querySelectorAll('tbody tr').length"))
            cold.append(page.evaluate(LOAD_END))
            pids = {pid: Path(f"/proc/{pid}/comm").read_text().strip() for pid in stack.session_pids()}
            rss.append(sum(rss_kib(p) for p, comm in pids.items() if comm in ("cockpit-ws", "cockpit-bridge")))
            page.close()
            stack.restart_ws()  # a new session, the same browser context: its cache is warm
            page = ctx.new_page()
            page.goto(stack.url, wait_until="load")
            warm.append(page.evaluate(LOAD_END))
            ctx.close()
        fig["cold"], fig["warm"] = median(cold), median(warm)
        print(f"Cockpit     page load cold {fig['cold']:.0f} ms, warm {fig['warm']:.0f} ms")
        if listed:
            fig["listed"] = median(listed)
            print(f"Cockpit     list shows {guests} guests after {fig['listed']:.0f} ms")
        if partial:
            fig["partial"] = max(partial)
            print(f"Cockpit     list after {limit_s:.0f} s: {max(partial)} of {guests} guests shown "
                  f"({len(partial)} of {runs} runs did not finish)")
        print(f"Cockpit     shipped: {shipped(fig, sizes)}")

        stack.restart_ws()
        ctx = browser.new_context()
        page = ctx.new_page()
        page.add_init_script(COCKPIT_JS)
        page.goto(stack.url)
        page.locator(f"#{COCKPIT_STATE_ID}").wait_for(timeout=limit_s * 1000)
        conn.start(PROBE, paused=True)
        page.locator(f"#{COCKPIT_STATE_ID}", has_text="Paused").wait_for(timeout=60_000)
        words = {1: "Running", 3: "Paused"}

        def arm(target: int) -> None:
            page.evaluate("([id, want]) => { window.__wantId = id; window.__want = want; window.__drawn = 0; }",
                          [COCKPIT_STATE_ID, words[target]])

        still = page.evaluate("() => document.querySelectorAll('tbody tr').length")
        lat = event_latency(page, conn, runs, arm, lambda _t: page.wait_for_function("() => window.__drawn > 0",
                                                                                     timeout=60_000))
        fig["event"] = median(lat)
        conn.destroy(PROBE)
        ctx.close()
        fig["rss"] = median(rss) / 1024
        fig["service_rss"] = rss_kib(stack.procs["service"].pid) / 1024
        print(f"Cockpit     state change to screen {fig['event']:.1f} ms"
              f"{f' (while its list was still loading: {still} of {guests} rows)' if still < guests else ''}; "
              f"RSS cockpit-ws + cockpit-bridge {fig['rss']:.1f} MiB (+ pyvirt-dbus {fig['service_rss']:.1f} MiB)")
        conn.close()
    finally:
        stack.stop()
        system.stop()
    return fig


ROWS = [("cold", "page load, cold cache (ms)"), ("warm", "page load, warm cache (ms)"),
        ("listed", "list shows the guests (ms)"), ("js_kib", "JS shipped (KiB)"),
        ("js_wire_kib", "JS on the wire (KiB)"), ("css_kib", "CSS shipped (KiB)"),
        ("event", "state change to screen (ms)"), ("rss", "web processes' RSS (MiB)")]


def table(mine: Figures, theirs: Figures, guests: int) -> None:
    print(f"\n{guests} defined guests, medians     pyvirt web      Cockpit   Cockpit/pyvirt")
    for key, name in ROWS:
        a, b = mine.get(key), theirs.get(key)
        if key == "listed" and b is None and "partial" in theirs:
            print(f"{name:30s} {a:11.1f}   not finished: {theirs['partial']:.0f} of {guests} rows shown")
            continue
        ratio = f"{b / a:9.1f}x" if a and b else "        -"
        print(f"{name:30s} {a if a is not None else float('nan'):11.1f} "
              f"{b if b is not None else float('nan'):12.1f} {ratio}")
    if "service_rss" in theirs:
        print(f"(Cockpit also needs pyvirt-dbus as org.libvirt: {theirs['service_rss']:.1f} MiB; "
              "`pyvirt web` speaks to pyvirtd directly)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guests", type=int, default=1000, help="defined guests in the list (default 1000)")
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (median printed)")
    ap.add_argument("--cockpit-runs", type=int, help="runs for Cockpit (default --runs)")
    ap.add_argument("--cockpit-limit", type=float, default=300,
                    help="seconds to wait for Cockpit's list (default 300; rows shown by then reported)")
    ap.add_argument("--no-cockpit", action="store_true", help="pyvirt's figures only")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    no_cockpit = ["--no-cockpit"] if args.no_cockpit else cockpit_stack.missing()
    with tempfile.TemporaryDirectory(prefix="pvb-web-", dir="/tmp") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            mine = pyvirt_figures(browser, Path(tmp) / "pyvirt", args.guests, args.runs)
            if no_cockpit:
                print(f"Cockpit Machines: not measured ({', '.join(no_cockpit)})")
                return 0
            theirs = cockpit_figures(browser, Path(tmp) / "cockpit", args.guests, args.cockpit_runs or args.runs,
                                     args.cockpit_limit)
            table(mine, theirs, args.guests)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
