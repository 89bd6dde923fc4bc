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
from dataclasses import dataclass
from pathlib import Path

from pyvirt.web.config import DEFAULT_PORT, ConfigError, WebConfig


def parse_listen(text: str) -> tuple[str, int]:
    from pyvirt.web.config import parse_listen as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--listen {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pyvirt web", description="pyvirt's web UI (talks to pyvirtd).",
        epilog="Settings come from --config FILE (default: web.toml in pyvirt's config folder, "
               "/etc/pyvirt for root, ~/.config/pyvirt otherwise; docs/WEB.md); flags override it.")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="TOML config file: connections with labels, listen address, TLS, PAM, token file")
    p.add_argument("-c", "--connect", metavar="URI", action="append",
                   help="connection URI (default as pyvirt's); repeat it for one UI over several "
                        "(e.g. qemu:///system and qemu:///session), the first is the default; "
                        "replaces the config file's connections")
    p.add_argument("--listen", type=parse_listen, metavar="HOST:PORT",
                   help=f"address to listen on (default 127.0.0.1:{DEFAULT_PORT}; port 0 picks one)")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate (with --tls-key)")
    p.add_argument("--tls-key", type=Path, help="PEM private key")
    p.add_argument("--tls", action=argparse.BooleanOptionalAction, help="use TLS on loopback too")
    p.add_argument("--pam-group",
                   help="on qemu:///system, members of this group may log in with PAM (default libvirt)")
    p.add_argument("--pam", action=argparse.BooleanOptionalAction,
                   help="PAM logins on system connections (default on; --no-pam: token logins only)")
    p.add_argument("--token-file", type=Path, metavar="FILE",
                   help="keep the login token in FILE (0600; made on first start) so it survives restarts")
    p.add_argument("--url-file", type=Path, help="also write the login URL to this file (0600)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


@dataclass
class Settings:
    """What the process runs with: flags over the config file over the built-in defaults."""

    connections: list[tuple[str, str]]  # (uri, label)
    listen: tuple[str, int]
    tls: bool
    tls_cert: Path | None
    tls_key: Path | None
    pam: bool
    pam_group: str
    token_file: Path | None
    url_file: Path | None


def settings(args: argparse.Namespace, conf: WebConfig, default_uri: str) -> Settings:
    labels = {c.uri: c.label for c in conf.connections}
    uris = list(dict.fromkeys(args.connect or [c.uri for c in conf.connections] or [default_uri]))
    cert, key = (args.tls_cert, args.tls_key) if args.tls_cert or args.tls_key else (conf.tls_cert, conf.tls_key)

    def pick(flag: object, value: object, default: object) -> object:
        return flag if flag is not None else value if value is not None else default

    return Settings(
        connections=[(u, labels.get(u, "")) for u in uris],  # each once, in the order given
        listen=pick(args.listen, conf.listen, ("127.0.0.1", DEFAULT_PORT)),  # type: ignore[arg-type]
        tls=pick(args.tls, conf.tls, False),  # type: ignore[arg-type]
        tls_cert=cert, tls_key=key,
        pam=pick(args.pam, conf.pam, True),  # type: ignore[arg-type]
        pam_group=pick(args.pam_group, conf.pam_group, "libvirt"),  # type: ignore[arg-type]
        token_file=pick(args.token_file, conf.token_file, None),  # type: ignore[arg-type]
        url_file=pick(args.url_file, conf.url_file, None),  # type: ignore[arg-type]
    )


def read_config(args: argparse.Namespace) -> WebConfig:
    from pyvirt.web import config

    if args.config is not None:
        return config.load(args.config, required=True)
    return config.load(config.default_path(), required=False)


async def serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from pyvirt.client import connect, default_uri
    from pyvirt.paths import state_paths
    from pyvirt.web import tls
    from pyvirt.web.app import assets_installed, make_app
    from pyvirt.web.auth import Auth
    from pyvirt.web.backend import Backend
    from pyvirt.web.config import read_or_make_token
    from pyvirt.web.conns import Backends, connection_ids, is_system
    from pyvirt.web.guard import Guard


    opts = settings(args, read_config(args), default_uri())
    uris = [u for u, _ in opts.connections]
    uri = uris[0]
    host, port = opts.listen
    loopback = tls.is_loopback(host)
    ssl_ctx = None
    if opts.tls_cert or opts.tls_key:
        if not (opts.tls_cert and opts.tls_key):
            print("error: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        ssl_ctx = tls.context(opts.tls_cert, opts.tls_key)
    elif opts.tls or not loopback:
        cert, key = tls.self_signed(state_paths(uri).config / "web", host)
        ssl_ctx = tls.context(cert, key)
    # PAM logins reach the system connections only (pyvirt.web.conns): no system URI, no PAM
    pam_group = None if not opts.pam or not any(is_system(u) for u in uris) else opts.pam_group
    token = read_or_make_token(opts.token_file) if opts.token_file else None
    auth = Auth(token=token, pam_group=pam_group)
    backends = Backends([Backend(u, lambda u=u: connect(u), id=cid, label=label)  # type: ignore[misc]
                         for (u, label), cid in zip(opts.connections, connection_ids(uris), strict=True)])
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
        if opts.url_file:
            from pyvirt.atomicio import write_atomic

            write_atomic(opts.url_file, url + "\n", mode=0o600)
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
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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
