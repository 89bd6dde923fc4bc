"""`make demo`: start pyvirtd (if none answers) and boot the demo guest through it.

The guest is the test guest (Debian's cloud kernel + a busybox initramfs) so the demo needs no
download and boots under TCG in a few seconds.  Everything goes through the same client the
CLI uses, so afterwards `pyvirt list`, `pyvirt console demo`, `pyvirt destroy demo` just work.
"""

from __future__ import annotations

import argparse
import os
import sys

from pyvirt.api import DomainState, PyvirtError
from pyvirt.client import default_uri
from pyvirt.client.expect import wait_for_output
from pyvirt.client.remote import RemoteConnection
from pyvirt.testguest import READY_MARKER, TestGuestMissing, find_test_guest
from pyvirt.web import launch as web_launch

DEMO_NAME = "demo"


def demo_xml(name: str, uri: str) -> str:
    guest = find_test_guest()
    if uri.rstrip("/").endswith("/system") and os.geteuid() == 0:
        # system guests run as pyvirt-qemu, who cannot read the build cache under /root
        from pyvirt.install.media import scratchdir

        guest = guest.copied_to(scratchdir(uri))
    return guest.domain_xml(name, title="pyvirt demo guest (busybox, serial console)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyvirt.demo", description=__doc__)
    parser.add_argument("--uri", default=None)
    parser.add_argument("--stop", action="store_true", help="destroy and undefine the demo guest")
    args = parser.parse_args(argv)
    uri = args.uri or default_uri()
    try:
        conn = RemoteConnection(uri, autostart=True)
        if args.stop:
            names = {i.name: i for i in conn.list_domains()}
            if DEMO_NAME in names and names[DEMO_NAME].active:
                conn.destroy(DEMO_NAME)
            if DEMO_NAME in names:
                conn.undefine(DEMO_NAME)
            print(f"demo guest '{DEMO_NAME}' removed (pyvirtd keeps running: {conn.sock_path})")
            if web_launch.stop(uri):
                print("web UI stopped")
            return 0
        names = {i.name: i for i in conn.list_domains()}
        if DEMO_NAME not in names:
            conn.define_xml(demo_xml(DEMO_NAME, uri))
            print(f"Domain '{DEMO_NAME}' defined")
        state = conn.get_info(DEMO_NAME).state
        started = state not in (DomainState.RUNNING, DomainState.PAUSED)
        if state == DomainState.PAUSED:
            conn.resume(DEMO_NAME)
            print(f"Domain '{DEMO_NAME}' resumed")
        elif started:
            conn.start(DEMO_NAME)
            print(f"Domain '{DEMO_NAME}' started")
        else:
            print(f"Domain '{DEMO_NAME}' is already running")
        # a guest that was already up printed its marker long ago: only a fresh boot is awaited
        seconds = wait_for_output(conn, DEMO_NAME, READY_MARKER, 90) if started else 0.0
    except TestGuestMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (PyvirtError, TimeoutError, EOFError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    info = conn.get_info(DEMO_NAME)
    booted = f" (console marker after {seconds:.1f}s)" if seconds else ""
    print(f"\nThe demo guest is up{booted}: id {info.id}, pyvirtd at {conn.sock_path}")
    print("Try (from the project directory):")
    print("  .venv/bin/pyvirt list --all")
    print(f"  .venv/bin/pyvirt dominfo {DEMO_NAME}")
    print(f"  .venv/bin/pyvirt console {DEMO_NAME}      # Ctrl+] to leave")
    print(f"  .venv/bin/pyvirt shutdown {DEMO_NAME}     # ACPI power button")
    print("  make demo-stop                        # remove the demo guest, stop the web UI")
    try:
        url = web_launch.start(uri)
    except (OSError, RuntimeError) as exc:
        print(f"\nThe web UI did not start: {exc}", file=sys.stderr)
        return 1
    print("\nWeb UI (pyvirt web), open this address in a browser on this machine; the token in it logs you in:")
    print(f"  {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
