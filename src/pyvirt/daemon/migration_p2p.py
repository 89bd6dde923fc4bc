"""Peer-to-peer migration (``virsh migrate --p2p``, virDomainMigrateToURI3): the source pyvirtd
itself opens the destination URI with pyvirt's own client (any transport: unix socket, ssh, TLS)
and runs libvirt's protocol (pyvirt.client.migrate) against it; the client that asked only waits
for the answer and may watch or abort the job meanwhile, as with virsh.

The protocol is blocking code written on the Connection interface, so it runs in a worker thread:
the destination is the remote client, the source is this driver seen through :class:`_Here`,
which hands each call back to the event loop.  This is the one place the daemon uses the client
package, as libvirtd uses its own remote driver for the same job.

``--tunnelled`` carries QEMU's migration stream inside the daemons' connection instead of a port
the destination opens: each QEMU gets one end of a socket pair (``getfd``, ``migrate fd:`` and
``migrate-incoming fd:``), the destination daemon serves its other end as the ``migrate_tunnel``
stream, and this daemon relays its own QEMU's end into that stream (:class:`pyvirt.client.relay.SocketRelay`), so the
stream travels over whatever transport the destination URI names (ssh, TLS, a unix socket).
"""

from __future__ import annotations

import asyncio
from typing import Any

from pyvirt.api import PyvirtError
from pyvirt.client.relay import SocketRelay
from pyvirt.daemon.migration import TUNNEL_FD
from pyvirt.ownthread import own_thread


class _Here:
    """This driver as a synchronous Connection for the protocol's worker thread: every call runs
    on the daemon's event loop (where the driver's state lives) and the thread waits for it."""

    def __init__(self, driver: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._driver, self._loop = driver, loop

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._driver, name)

        async def on_loop(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return await result if asyncio.iscoroutine(result) else result

        return lambda *args, **kwargs: asyncio.run_coroutine_threadsafe(on_loop(*args, **kwargs), self._loop).result()


class MigrationPeerMixin:
    """virDomainMigrateToURI3 with VIR_MIGRATE_PEER2PEER for :class:`pyvirt.daemon.driver.QemuDriver`."""

    async def migrate_to_uri(self, dom: str, desturi: str, live: bool = False, offline: bool = False,
                             persistent: bool = False, undefine_source: bool = False,
                             copy_storage: str | None = None, auto_converge: bool = False, postcopy: bool = False,
                             tls: bool = False, tls_destination: str | None = None, xml: str | None = None,
                             listen_address: str | None = None, uri: str | None = None,
                             disks_uri: str | None = None, bandwidth: int = 0, tunnelled: bool = False) -> None:
        from pyvirt.client.migrate import MigrateOptions

        opts = MigrateOptions(live=live, offline=offline, persistent=persistent, undefine_source=undefine_source,
                              copy_storage=copy_storage, auto_converge=auto_converge, postcopy=postcopy, tls=tls,
                              tls_destination=tls_destination, xml=xml, listen_address=listen_address, uri=uri,
                              disks_uri=disks_uri, bandwidth=bandwidth, tunnelled=tunnelled)
        opts.check()
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        try:
            # as long as the migration: a thread of its own (pyvirt.ownthread), and the driver calls
            # it makes back on the loop never wait for a worker of the shared executor it holds
            await own_thread(f"migrate-{rec.name}", self._peer_to_peer, asyncio.get_running_loop(), rec.name,
                             desturi, opts)
        finally:
            self._tunnels().discard(rec.uuid)  # type: ignore[attr-defined]

    def _peer_to_peer(self, loop: asyncio.AbstractEventLoop, name: str, desturi: str, opts: Any) -> None:
        """The worker thread: open the destination, run the protocol, close it."""
        from pyvirt.client import connect
        from pyvirt.client.migrate import dest_host, migrate

        try:
            dest = connect(desturi)
        except PyvirtError as exc:
            raise PyvirtError(f"operation failed: cannot connect to the destination {desturi}: {exc.message}",
                              exc.code, exc.domain) from None
        tunnels: list[SocketRelay] = []

        def open_tunnel(target: Any) -> str:
            tunnel = SocketRelay(dest.migrate_tunnel(target.name), "tunnel")
            tunnels.append(tunnel)
            asyncio.run_coroutine_threadsafe(self._give_tunnel(name, tunnel.peer.fileno()), loop).result()
            tunnel.start()
            return f"fd:{TUNNEL_FD}"

        try:
            migrate(_Here(self, loop), dest, name, opts, dest_host=dest_host(dest),  # type: ignore[arg-type]
                    tunnel=open_tunnel)
        finally:
            for tunnel in tunnels:
                tunnel.close()
            dest.close()

    async def _give_tunnel(self, name: str, fd: int) -> None:
        """The source QEMU gets its end of the tunnel's socket pair; perform may then use it."""
        rec = self.lookup(name)  # type: ignore[attr-defined]
        await self._pass_fd(self._running(rec), fd, TUNNEL_FD)  # type: ignore[attr-defined]
        self._tunnels().add(rec.uuid)  # type: ignore[attr-defined]
