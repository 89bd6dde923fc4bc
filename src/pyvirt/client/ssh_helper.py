"""pyvirt-ssh-helper: join stdin/stdout to this host's pyvirtd socket (libvirt's virt-ssh-helper).

A ``qemu+ssh://host/system`` client runs ``ssh host pyvirt-ssh-helper qemu:///system``; what it
writes to ssh reaches pyvirtd's unix socket here, what pyvirtd answers goes back.  For a session
URI the user's daemon is started when none answers, as a local client would start it.  The
socket's owner is checked (SO_PEERCRED) exactly as a local client checks it.

Bytes are relayed as they come, in both directions, until either side closes.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import sys

from pyvirt.api import PyvirtError

CHUNK = 65536


def relay(sock: socket.socket, rfd: int, wfd: int) -> None:
    """Copy rfd -> sock and sock -> wfd until either side ends.  The client closes its end only
    when it is done with the connection (it never half-closes), so the end of input ends the
    relay at once; waiting for pyvirtd to close a kept-alive connection would hold ssh open."""
    while True:
        ready, _, _ = select.select([sock, rfd], [], [])
        if rfd in ready:
            data = os.read(rfd, CHUNK)
            if not data:
                return
            sock.sendall(data)
        if sock in ready:
            data = sock.recv(CHUNK)
            if not data:
                return
            view = memoryview(data)
            while view:
                view = view[os.write(wfd, view):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pyvirt-ssh-helper",
                                     description="relay stdin/stdout to this host's pyvirtd (run by ssh)")
    parser.add_argument("--socket", default=None, help="pyvirtd's socket (default: the URI's)")
    parser.add_argument("uri", help="qemu:///system or qemu:///session")
    args = parser.parse_args(argv)
    if args.uri not in ("qemu:///system", "qemu:///session"):
        parser.error(f"unsupported URI {args.uri!r}: expected qemu:///system or qemu:///session")
    from pyvirt.client import wire
    from pyvirt.client.remote import RemoteConnection

    path = args.socket
    try:
        if path is None:  # a local client's rules: session daemons start on demand
            conn = RemoteConnection(args.uri)
            path = conn.sock_path
            conn.close()
        sock = wire.open_unix(path, 30.0)
    except (PyvirtError, OSError) as exc:
        print(f"pyvirt-ssh-helper: cannot reach pyvirtd for {args.uri}: {exc}", file=sys.stderr)
        return 1
    sock.settimeout(None)
    try:
        relay(sock, sys.stdin.fileno(), sys.stdout.fileno())
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
