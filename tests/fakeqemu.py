#!/usr/bin/env python3
"""A fake qemu-system binary speaking QMP, that misbehaves on request (issue 10's campaign).

pyvirtd runs it through a domain's ``<emulator>``: it reads the monitor fd and the pidfile from
the command line pyvirt built, writes the pidfile, and answers QMP on the inherited listening
socket.  What it does wrong is chosen with ``FAKEQEMU_MODE`` in a wrapper script a test writes
(``make_emulator``), a comma-separated list of:

  exit-early        print an error and exit 1 before accepting the monitor
  hang:CMD          never answer CMD (``hang:greeting`` never sends the greeting)
  flood             after capabilities, send events as fast as the socket takes them
  huge-reply:CMD    answer CMD with one line larger than any sane read limit (32 MiB)
  lie:CMD           answer CMD with a reply of the wrong shape
  exit-on:CMD       exit 1 when CMD arrives, without answering
  error-on:CMD      answer CMD with a QMP error (GenericError), as QEMU refuses a command
  unplug-delay:SEC  answer device_del at once but emit DEVICE_DELETED only SEC seconds later (a
                    guest slow to release the device), or at SIGUSR1 if that comes first (a test
                    says when); without it, DEVICE_DELETED follows device_del's answer at once
  migrate-hold      a migration stays 'active' (query-migrate) until migrate_cancel; without
                    it, migrate and migrate-incoming complete at once
  log-argv          write its command line to $FAKEQEMU_LOG, and every QMP command it receives,
                    one JSON line each, to $FAKEQEMU_LOG.qmp (to check what QEMU was given)

SIGUSR2 is the guest powering itself off: as QEMU under ``-no-shutdown``, the fake stays, its
status ``shutdown``, and a monitor client connected then gets SHUTDOWN (guest-shutdown).

Everything else behaves like a quiet QEMU: ``-S`` starts in prelaunch, ``cont``/``stop`` switch
state, ``system_powerdown`` emits SHUTDOWN (guest) and waits for ``quit``, SIGTERM exits.
Standard library only; no pyvirt import, so it is exactly as foreign as a real QEMU.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time


def _arg_after(argv: list[str], flag: str) -> str | None:
    for i, arg in enumerate(argv[:-1]):
        if arg == flag:
            return argv[i + 1]
    return None


def _args_after(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == flag]


def _device_id(spec: str) -> str | None:
    """The id of a -device argument (JSON or key=value)."""
    if spec.startswith("{"):
        return json.loads(spec).get("id")
    return next((part[3:] for part in spec.split(",") if part.startswith("id=")), None)


def _monitor_fd(argv: list[str]) -> int:
    for i, arg in enumerate(argv[:-1]):
        if arg == "-chardev" and "id=charmonitor" in argv[i + 1]:
            for part in argv[i + 1].split(","):
                if part.startswith("fd="):
                    return int(part[3:])
    raise SystemExit("fakeqemu: no monitor fd on the command line")


def make_emulator(directory: str | os.PathLike[str], mode: str = "", name: str = "fake-qemu") -> str:
    """Write an executable wrapper that runs this fake with `mode`; returns its path for <emulator>."""
    path = os.path.join(os.fspath(directory), name)
    log = os.path.join(os.fspath(directory), name + ".argv")
    with open(path, "w") as handle:
        handle.write(f"#!/bin/sh\nFAKEQEMU_MODE='{mode}' FAKEQEMU_LOG='{log}' "
                     f"exec {sys.executable} {os.path.abspath(__file__)} \"$@\"\n")
    os.chmod(path, 0o755)
    return path


class Fake:
    def __init__(self, argv: list[str], modes: list[str]) -> None:
        self.argv = argv
        self.modes = modes
        self.running = "-S" not in argv
        self.off = False  # the guest powered off (SIGUSR2): status 'shutdown' until system_reset
        self.conn: socket.socket | None = None
        self.pending_event: tuple[str, dict[str, object]] | None = None
        self.send_lock = threading.Lock()
        self.held: dict[str, threading.Timer] = {}  # devices whose DEVICE_DELETED is yet to come
        self.devices = set(filter(None, map(_device_id, _args_after(argv, "-device"))))  # qom-list's
        signal.signal(signal.SIGUSR1, self.release_all)
        signal.signal(signal.SIGUSR2, self.power_off)
        log = os.environ.get("FAKEQEMU_LOG")
        self.qmp_log = open(log + ".qmp", "a") if log and "log-argv" in modes else None  # noqa: SIM115

    def has(self, mode: str) -> bool:
        return mode in self.modes

    def send(self, obj: object) -> None:
        assert self.conn is not None
        with self.send_lock:
            self.conn.sendall(json.dumps(obj).encode() + b"\r\n")

    def event(self, name: str, data: dict[str, object] | None = None) -> None:
        now = time.time()
        self.send({"event": name, "data": data or {},
                   "timestamp": {"seconds": int(now), "microseconds": int(now % 1 * 1e6)}})

    def reply(self, cmd: str, args: dict[str, object]) -> object:
        if cmd == "query-status":
            status = "shutdown" if self.off else "running" if self.running else "prelaunch"
            return {"status": status, "running": self.running, "singlestep": False}
        if cmd == "cont":
            self.running = not self.off
        elif cmd == "system_reset":
            self.off = False
        elif cmd == "stop":
            self.running = False
        elif cmd == "query-chardev":
            return []
        elif cmd == "system_powerdown":
            self.pending_event = ("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})
        elif cmd == "device_del":
            self.unplug(str(args.get("id", "")))
        elif cmd == "device_add" and args.get("id"):
            self.devices.add(str(args["id"]))
        elif cmd == "qom-list" and args.get("path") == "/machine/peripheral":
            return [{"name": dev, "type": "child<device>"} for dev in sorted(self.devices)]
        elif cmd in ("migrate", "migrate-incoming"):  # the state moves at once: completed
            self.migration = "active" if self.has("migrate-hold") else "completed"
        elif cmd == "migrate_cancel" and getattr(self, "migration", None) == "active":
            self.migration = "cancelled"
        elif cmd == "query-migrate":
            return {"status": self.migration} if getattr(self, "migration", None) else {}
        elif cmd == "query-version":
            return {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": "fake"}
        return {}

    def unplug(self, dev: str) -> None:
        """The guest lets `dev` go: DEVICE_DELETED right after the reply, or `unplug-delay` later."""
        delay = next((float(m.split(":", 1)[1]) for m in self.modes if m.startswith("unplug-delay:")), None)
        data: dict[str, object] = {"device": dev, "path": f"/machine/peripheral/{dev}"}
        if delay is None:
            self.devices.discard(dev)
            self.pending_event = ("DEVICE_DELETED", data)
        else:
            timer = threading.Timer(delay, self.released, (dev,))
            timer.daemon = True
            self.held[dev] = timer
            timer.start()

    def release(self, dev: str) -> bool:
        """The guest let a held device go (once: the timer and SIGUSR1 may both come); then
        DEVICE_DELETED unless the caller sends it."""
        timer = self.held.pop(dev, None)
        if timer is None:
            return False
        timer.cancel()
        self.devices.discard(dev)  # gone from QEMU even if no monitor client hears of it
        return True

    def released(self, dev: str) -> None:
        if self.release(dev):
            self.deleted([dev])

    def deleted(self, devs: list[str]) -> None:
        with contextlib.suppress(OSError, AssertionError):  # the monitor client may be gone by then
            for dev in devs:
                self.event("DEVICE_DELETED", {"device": dev, "path": f"/machine/peripheral/{dev}"})

    def release_all(self, *_: object) -> None:
        """SIGUSR1: every held device goes now, before the next command is read (the signal
        handler runs in the main thread); the events go from a thread of their own, as the main
        thread may hold the send lock."""
        devs = [dev for dev in list(self.held) if self.release(dev)]
        threading.Thread(target=self.deleted, args=(devs,), daemon=True).start()

    def power_off(self, *_: object) -> None:
        """SIGUSR2: the guest powers off; QEMU (-no-shutdown) stays, stopped, status 'shutdown'."""
        self.running, self.off = False, True

        def tell() -> None:
            with contextlib.suppress(OSError, AssertionError):  # no monitor client may be there
                self.event("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})

        threading.Thread(target=tell, daemon=True).start()

    def serve(self) -> None:
        fd = _monitor_fd(self.argv)
        listener = socket.socket(fileno=fd)
        while True:  # as QEMU: a monitor client may go (a daemon restart) and another come
            self.conn, _ = listener.accept()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.session()
            self.conn.close()

    def session(self) -> None:
        assert self.conn is not None
        if self.has("hang:greeting"):
            time.sleep(3600)
        self.send({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ""},
                           "capabilities": []}})
        decoder = json.JSONDecoder()
        buf = ""
        while True:
            data = self.conn.recv(65536)
            if not data:
                return
            buf += data.decode()
            while True:  # QMP is a stream of JSON values, newlines optional
                buf = buf.lstrip()
                try:
                    msg, end = decoder.raw_decode(buf)
                except ValueError:
                    break
                buf = buf[end:]
                self.command(msg)

    def command(self, msg: dict[str, object]) -> None:
        cmd = str(msg.get("execute"))
        reply_id = msg.get("id")
        if self.qmp_log is not None:
            self.qmp_log.write(json.dumps(msg) + "\n")
            self.qmp_log.flush()
        if self.has(f"exit-on:{cmd}"):
            os._exit(1)
        if self.has(f"hang:{cmd}"):
            return
        if cmd == "quit":
            self.send({"return": {}, "id": reply_id})
            self.event("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
            os._exit(0)
        if self.has(f"huge-reply:{cmd}"):
            assert self.conn is not None
            chunk = b"x" * (1 << 20)
            with self.send_lock:
                self.conn.sendall(b'{"return": "')
                for _ in range(32):
                    self.conn.sendall(chunk)
                self.conn.sendall(b'"}\r\n')
            return
        if self.has(f"error-on:{cmd}"):
            self.send({"error": {"class": "GenericError", "desc": f"fake refusal of {cmd}"}, "id": reply_id})
            return
        if cmd == "device_add" and (msg.get("arguments") or {}).get("id") in self.devices:  # type: ignore[union-attr]
            self.send({"error": {"class": "GenericError", "desc": f"Duplicate device ID "  # QEMU's words
                                 f"'{msg['arguments']['id']}'"}, "id": reply_id})  # type: ignore[index]
            return
        if self.has(f"lie:{cmd}"):
            self.send({"return": ["not", "what", "was", "asked"], "id": reply_id})
            return
        self.pending_event = None
        self.send({"return": self.reply(cmd, dict(msg.get("arguments") or {})), "id": reply_id})
        if self.pending_event is not None:
            self.event(*self.pending_event)
        if cmd == "qmp_capabilities" and self.has("flood"):
            threading.Thread(target=self.flood, daemon=True).start()

    def flood(self) -> None:
        """Events as fast as the socket takes them, still answering commands: a berserk guest."""
        with contextlib.suppress(OSError):
            while True:
                self.event("RTC_CHANGE", {"offset": 1, "qom-path": "/machine/unattached/device[0]"})


def main(argv: list[str]) -> int:
    modes = [m for m in os.environ.get("FAKEQEMU_MODE", "").split(",") if m]
    if "log-argv" in modes and os.environ.get("FAKEQEMU_LOG"):
        with open(os.environ["FAKEQEMU_LOG"], "w") as handle:
            json.dump(argv, handle)
    if "exit-early" in modes:
        print("fakeqemu: exiting early as asked", file=sys.stderr)
        return 1
    pidfile = _arg_after(argv, "-pidfile")
    if pidfile:
        with open(pidfile, "w") as handle:
            handle.write(f"{os.getpid()}\n")
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        Fake(argv, modes).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
