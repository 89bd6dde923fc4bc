"""``pyvirt web`` / ``pyvirt-web``: the web UI's own process.

Listens on 127.0.0.1 unless told otherwise; any other address needs TLS (a self-signed
certificate is made on first start unless --tls-cert/--tls-key are given).  Prints the address
with a one-time login token, as Jupyter does; on qemu:///system, PAM logins (root and members of
--pam-group) work too when python-pam is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

DEFAULT_PORT = 8090


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(DEFAULT_PORT)
    if not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"--listen {text!r}: want HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pyvirt web", description="pyvirt's web UI (talks to pyvirtd).")
    p.add_argument("-c", "--connect", metavar="URI", action="append",
                   help="connection URI (default as pyvirt's); repeat it for one UI over several "
                        "(e.g. qemu:///system and qemu:///session), the first is the default")
    p.add_argument("--listen", type=parse_listen, default=("127.0.0.1", DEFAULT_PORT), metavar="HOST:PORT",
                   help=f"address to listen on (default 127.0.0.1:{DEFAULT_PORT}; port 0 picks one)")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate (with --tls-key)")
    p.add_argument("--tls-key", type=Path, help="PEM private key")
    p.add_argument("--tls", action="store_true", help="use TLS on loopback too")
    p.add_argument("--pam-group", default="libvirt",
                   help="on qemu:///system, members of this group may log in with PAM (default libvirt)")
    p.add_argument("--no-pam", action="store_true", help="token logins only")
    p.add_argument("--url-file", type=Path, help="also write the login URL to this file (0600)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


async def serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from pyvirt.client import connect, default_uri
    from pyvirt.paths import state_paths
    from pyvirt.web import tls
    from pyvirt.web.app import assets_installed, make_app
    from pyvirt.web.auth import Auth
    from pyvirt.web.backend import Backend
    from pyvirt.web.conns import Backends, connection_ids, is_system
    from pyvirt.web.guard import Guard

    uris = list(dict.fromkeys(args.connect or [default_uri()]))  # each once, in the order given
    uri = uris[0]
    host, port = args.listen
    loopback = tls.is_loopback(host)
    ssl_ctx = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            print("error: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        ssl_ctx = tls.context(args.tls_cert, args.tls_key)
    elif args.tls or not loopback:
        cert, key = tls.self_signed(state_paths(uri).config / "web", host)
        ssl_ctx = tls.context(cert, key)
    # PAM logins reach the system connections only (pyvirt.web.conns): no system URI, no PAM
    pam_group = None if args.no_pam or not any(is_system(u) for u in uris) else args.pam_group
    auth = Auth(pam_group=pam_group)
    backends = Backends([Backend(u, lambda u=u: connect(u), id=cid)  # type: ignore[misc]
                         for u, cid in zip(uris, connection_ids(uris), strict=True)])
    for backend in backends:
        await asyncio.to_thread(backend.check)  # a clear error now if a pyvirtd is not there
    runner: web.AppRunner | None = None
    try:
        site_port = port
        allowed = None
        if loopback:
            allowed = set()  # filled in once the port is known (port 0 picks one)
        guard = Guard(auth, allowed, tls=ssl_ctx is not None)
        runner = web.AppRunner(make_app(backends, auth, guard), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=ssl_ctx, reuse_address=True)
        await site.start()
        server = site._server
        if server is not None and server.sockets:  # type: ignore[union-attr]
            site_port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if allowed is not None:
            for name in ("127.0.0.1", "localhost", "[::1]", host if ":" not in host else f"[{host}]"):
                allowed.add(f"{name}:{site_port}")
        scheme = "https" if ssl_ctx else "http"
        shown = host if ":" not in host else f"[{host}]"
        url = f"{scheme}://{shown}:{site_port}/login?token={auth.token}"
        if args.url_file:
            from pyvirt.atomicio import write_atomic

            write_atomic(args.url_file, url + "\n", mode=0o600)
        print(f"pyvirt web for {', '.join(uris)} is at:\n    {url}", flush=True)
        if auth.pam_group:
            print(f"    (or log in with PAM as root or a member of group '{auth.pam_group}')", flush=True)
        if not assets_installed():
            print("    note: front-end packages missing; run `make web-assets` (npm ci)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="pyvirt-web: %(levelname)s %(message)s")
    from pyvirt.api import PyvirtError

    try:
        return asyncio.run(serve(args))
    except PyvirtError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
