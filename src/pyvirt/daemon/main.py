"""pyvirtd: one asyncio daemon per connection URI, serving its HTTP API on a unix socket.

It takes an exclusive lock on its runtime dir (one daemon per URI), makes itself a child
subreaper, finds running guests again, and leaves every guest running when it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import logging
import os
import signal
import socket
import sys

from pyvirt.daemon.httpstack import import_server
from pyvirt.paths import StatePaths, state_paths

log = logging.getLogger("pyvirtd")


def _bind_socket(path: str, mode: int) -> socket.socket:
    """Bind with a tight umask so there is no instant where the socket is open to others."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, mode)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _take_lock(paths: StatePaths) -> int:
    """Lock the runtime dir for this daemon; never through a symlink (it would truncate its target)."""
    try:
        fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise SystemExit(f"pyvirtd: cannot open lock file {paths.lock}: {exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SystemExit(f"pyvirtd: another pyvirtd already serves {paths.uri} ({paths.runtime})") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


async def _start_storage(paths: StatePaths, driver: object) -> object:
    """The storage driver (asking the QEMU driver which running guest uses a path), autostart pools."""
    from pyvirt.storage import StorageDriver

    storage = StorageDriver(paths.config, paths.runtime, paths.images,
                            in_use=driver.domain_using_path, default_pool=True,  # type: ignore[attr-defined]
                            on_event=driver.events.threadsafe(asyncio.get_running_loop()))  # type: ignore[attr-defined]
    driver.volume_resolver = storage.resolve_disk_volume  # type: ignore[attr-defined]
    started = await asyncio.to_thread(storage.autostart_pools)
    if started:
        log.info("autostarted pools: %s", ", ".join(started))
    return storage


async def _start_networks(uri: str, paths: StatePaths, driver: object) -> object | None:
    """The network driver on qemu:///system (bridges need root): running networks found again,
    `default` defined on the first start, autostarted networks started.  Session daemons have
    none (their guests' `network` NICs use user-mode networking)."""
    from pyvirt.network import system_mode

    if not uri.endswith("/system") or not system_mode():
        return None
    from pyvirt.network.driver import NetworkDriver

    networks = NetworkDriver(paths.config / "network", paths.runtime / "network")
    networks.add_listener(driver.events.threadsafe(asyncio.get_running_loop()))  # type: ignore[attr-defined]
    await asyncio.to_thread(networks.load)
    if os.environ.get("PYVIRT_NETWORK_AUTOSTART", "1") == "0":
        # `make demo` on a host whose own network must stay untouched (a shared machine, a CI
        # sandbox): running networks are still found again, nothing new is created on the host
        log.info("PYVIRT_NETWORK_AUTOSTART=0: no default network, no network autostart")
    else:
        await asyncio.to_thread(networks.ensure_default)
        started = await asyncio.to_thread(networks.autostart_networks)
        if started:
            log.info("autostarted networks: %s", ", ".join(started))
    driver.networks = networks  # type: ignore[attr-defined]
    return networks


async def _start_secrets(paths: StatePaths, driver: object) -> object:
    """The secret driver (config/secrets, values 0600 in a 0700 directory): its values are what
    the QEMU driver hands to QEMU for the disks that reference them."""
    from pyvirt.secret.driver import SecretDriver

    secrets = SecretDriver(paths.config / "secrets",
                           on_event=driver.events.threadsafe(asyncio.get_running_loop()),  # type: ignore[attr-defined]
                           index_dir=paths.runtime)
    await asyncio.to_thread(secrets.load)
    driver.secrets = secrets  # type: ignore[attr-defined]
    return secrets


async def _start_nwfilters(uri: str, paths: StatePaths) -> object | None:
    """The network filter driver (config/nwfilter): as libvirt's, only a system daemon has one."""
    from pyvirt.network import system_mode

    if not uri.endswith("/system") or not system_mode():
        return None
    from pyvirt.nwfilter.driver import NWFilterDriver

    nwfilters = NWFilterDriver(paths.config / "nwfilter", paths.runtime / "nwfilter-binding")
    await asyncio.to_thread(nwfilters.load)
    return nwfilters


def _settings(paths: StatePaths, listen: bool) -> tuple[object | None, int]:
    """The TLS listener pyvirtd.conf asks for (None: none) and the client idle timeout; a bad
    configuration stops the daemon."""
    from pyvirt.daemon.config import ConfigError, load
    from pyvirt.daemon.tls_listener import settings

    try:
        config = load(paths.config)
        if config.client_idle_timeout < 1:
            raise ConfigError(f"{config.path}: client_idle_timeout must be at least 1 (seconds)")
        return settings(config, paths.config, listen), config.client_idle_timeout
    except ConfigError as exc:
        raise SystemExit(f"pyvirtd: {exc}") from None


#: the collector's thresholds while pyvirtd starts (see _settle_heap)
_STARTUP_GC_THRESHOLD = (50_000, 20, 20)


def _settle_heap() -> None:
    """End of start-up: everything loaded so far (modules, the routes, every domain's record) lives
    as long as the daemon.  Start-up runs with a high first collector threshold, since each
    collection there re-walks the thousands of objects each import and each stored definition adds
    (one full collection alone took 0.15 s on a busy host); here one collection clears what start-up
    left, and ``gc.freeze`` moves the survivors out of the collector's view, so the collections
    that serving triggers (default thresholds again) walk only what serving allocated.  A frozen
    object is still freed by reference counting; only one caught in a reference cycle after it is
    dropped (a start-up record undefined later) stays: bounded by the start-up heap, never growing."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_DEFAULT_GC_THRESHOLD)


_DEFAULT_GC_THRESHOLD = gc.get_threshold()


async def serve(uri: str, paths: StatePaths, ready_fd: int | None = None, listen: bool = False) -> None:
    import_server()
    from pyvirt.daemon.driver import QemuDriver
    from pyvirt.daemon.hostinfo import HostInfo
    from pyvirt.daemon.http_api import make_app, serve_unix
    from pyvirt.qemu.process import become_subreaper

    try:
        paths.ensure()
    except PermissionError as exc:
        raise SystemExit(f"pyvirtd: {exc}") from None
    tls, idle_timeout = _settings(paths, listen)  # before anything starts: a refused configuration changes nothing
    lock_fd = _take_lock(paths)
    become_subreaper()
    driver = QemuDriver(paths)
    storage = await _start_storage(paths, driver)  # pools first: autostarted guests may use their volumes
    networks = await _start_networks(uri, paths, driver)  # and networks: their NICs join the bridges
    secrets = await _start_secrets(paths, driver)  # and secrets: autostarted guests' disks may use them
    nwfilters = await _start_nwfilters(uri, paths)
    driver.nwfilters = nwfilters  # guests' <filterref>s become its bindings
    await driver.load()
    _settle_heap()
    host = HostInfo(uri, driver)
    sock = _bind_socket(str(paths.socket), 0o600)
    runner = await serve_unix(make_app(driver, host, storage, networks,
                                       tls.policy if tls is not None else None,  # type: ignore[attr-defined]
                                       secrets=secrets, nwfilters=nwfilters), sock,
                              idle_timeout=idle_timeout)
    log.info("pyvirtd serving %s on %s", uri, paths.socket)
    if tls is not None:
        from pyvirt.daemon.tls_listener import serve_tls

        try:
            await serve_tls(runner, tls)  # type: ignore[arg-type]
        except OSError as exc:
            await runner.cleanup()
            raise SystemExit(f"pyvirtd: cannot listen for TLS clients: {exc}") from None
    # the socket is served from here on; re-attaching to running guests (monitor I/O, each
    # bounded by deadlines) happens now, in parallel, and "ready" means every guest's state is known
    resuming = asyncio.create_task(driver.resume_guests(), name="resume-guests")

    def announce(_: object) -> None:
        if ready_fd is not None:
            with contextlib.suppress(OSError):
                os.write(ready_fd, b"ready\n")
                os.close(ready_fd)

    resuming.add_done_callback(announce)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("pyvirtd stopping; guests keep running")
        if not resuming.done():
            resuming.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await resuming
        await driver.close()  # ends event streams and consoles first, so the server can close at once
        await runner.cleanup()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(paths.socket)
        os.close(lock_fd)


def main(argv: list[str] | None = None) -> int:
    gc.set_threshold(*_STARTUP_GC_THRESHOLD)  # until _settle_heap, once start-up is done
    parser = argparse.ArgumentParser(prog="pyvirtd", description="pyvirt daemon")
    parser.add_argument("--uri", default=None, help="qemu:///system or qemu:///session (default by uid)")
    parser.add_argument("--state-root", default=None,
                        help="keep all state under this directory (tests, demos)")
    parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--listen", action="store_true",
                        help="listen for TLS clients (libvirtd's --listen; pyvirtd.conf's listen_tls = 1 does too)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--log-file", default=None)
    args = parser.parse_args(argv)
    uri = args.uri or ("qemu:///system" if os.geteuid() == 0 else "qemu:///session")
    if uri not in ("qemu:///system", "qemu:///session"):
        parser.error(f"unsupported URI {uri!r}: pyvirtd serves qemu:///system or qemu:///session")
    if uri == "qemu:///system" and os.geteuid() != 0 and not args.state_root:
        parser.error("qemu:///system needs root")
    if args.state_root:
        os.environ["PYVIRT_STATE_ROOT"] = args.state_root
    paths = state_paths(uri, args.state_root)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, filename=args.log_file,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(uri, paths, args.ready_fd, args.listen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
