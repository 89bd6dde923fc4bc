"""virDomainOpenGraphicsFD for the QEMU driver: a display connection QEMU accepts as a client.

As libvirt's qemuDomainOpenGraphicsFD: a socket pair, one end passed to QEMU over the monitor
(SCM_RIGHTS + getfd) and added as a VNC or SPICE client (add_client, `skipauth` as asked); the
other end is this daemon's, relayed to the caller's stream (daemon/http_streams.py).
"""

from __future__ import annotations

import contextlib
import socket

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

FD_NAME = "graphicsfd"


class GraphicsFdMixin:
    """open_graphics (lookup, _running, _qmp, _pass_fd from QemuDriver)."""

    async def open_graphics(self, dom: str, idx: int = 0, skipauth: bool = False) -> socket.socket:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            run = self._running(rec)  # type: ignore[attr-defined]
            graphics = rec.live.devices.graphics
            if not 0 <= idx < len(graphics):
                raise PyvirtError(f"internal error: No graphics backend with index {idx}", ErrorCode.INTERNAL_ERROR,
                                  ErrorDomain.QEMU)
            kind = graphics[idx].type
            if kind not in ("vnc", "spice"):
                raise PyvirtError(f"argument unsupported: Can only open VNC or SPICE graphics backends, not {kind}",
                                  ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.QEMU)
            ours, qemu_end = socket.socketpair()
            try:
                await self._pass_fd(run, qemu_end.fileno(), FD_NAME)  # type: ignore[attr-defined]
                await self._qmp(run, "add_client", {"protocol": kind, "fdname": FD_NAME,  # type: ignore[attr-defined]
                                                    "skipauth": skipauth})
            except BaseException:
                ours.close()
                with contextlib.suppress(PyvirtError):  # a descriptor QEMU took but did not use
                    await self._qmp(run, "closefd", {"fdname": FD_NAME})  # type: ignore[attr-defined]
                raise
            finally:
                qemu_end.close()  # QEMU holds its own copy
            return ours
