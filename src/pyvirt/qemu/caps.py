"""What a QEMU binary can do, asked over QMP (never by parsing ``--help``), cached per binary.

libvirt keeps the same kind of cache (``/var/cache/libvirt/qemu/capabilities``): every
domain define, ``virsh capabilities`` and ``domcapabilities`` needs these facts, and
launching QEMU for each would cost ~0.1 s. The probe launches ``-machine none -S`` with a
monitor socket bound beforehand, asks everything in one session, and kills the process.
:func:`parse_replies` is pure, so the parsing is unit-tested without QEMU.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pyvirt.qemu import qmp
from pyvirt.qemu.capscache import default_cache_dir, read_json, write_json_atomic

DEFAULT_BINARY = "/usr/bin/qemu-system-x86_64"
CACHE_FORMAT = 1  # bump when EmulatorCaps changes shape

#: the QMP queries of one probe session, in order; parse_replies expects replies in this order
PROBE_COMMANDS: list[qmp.Command] = [
    ("query-version", None),
    ("query-machines", None),
    ("query-kvm", None),
    ("query-cpu-definitions", None),
    ("qom-list-types", {"implements": "device", "abstract": False}),
    ("qom-list-types", {"implements": "accel", "abstract": False}),
]


@dataclass(frozen=True)
class MachineType:
    name: str
    alias: str | None = None
    is_default: bool = False
    cpu_max: int = 1
    deprecated: bool = False


@dataclass(frozen=True)
class CpuModel:
    name: str
    unavailable_features: tuple[str, ...] = ()
    deprecated: bool = False

    @property
    def usable(self) -> bool:
        """Usable with the probed accelerator (TCG here): no feature missing."""
        return not self.unavailable_features


@dataclass(frozen=True)
class EmulatorCaps:
    binary: str
    version: tuple[int, int, int]
    version_string: str
    package: str
    machines: tuple[MachineType, ...]
    kvm_present: bool
    kvm_enabled: bool
    accelerators: tuple[str, ...]  # compiled-in accelerators: "tcg", "kvm", ...
    cpu_models: tuple[CpuModel, ...]
    device_types: tuple[str, ...]
    probe_s: float = 0.0
    cached: bool = field(default=False, compare=False)

    @property
    def default_machine(self) -> str | None:
        return next((m.name for m in self.machines if m.is_default), None)

    @property
    def tcg(self) -> bool:
        return "tcg" in self.accelerators

    def machine(self, name: str) -> MachineType | None:
        """Look a machine up by name or alias ('pc' finds 'pc-i440fx-7.2')."""
        return next((m for m in self.machines if name in (m.name, m.alias)), None)

    def canonical_machine(self, name: str) -> str:
        """The versioned name for an alias, as libvirt stores it in domain XML."""
        m = self.machine(name)
        return m.name if m else name

    def has_device(self, name: str) -> bool:
        return name in self.device_types

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("cached")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EmulatorCaps:
        return cls(
            binary=d["binary"],
            version=tuple(d["version"]),  # type: ignore[arg-type]
            version_string=d["version_string"],
            package=d["package"],
            machines=tuple(MachineType(**m) for m in d["machines"]),
            kvm_present=d["kvm_present"],
            kvm_enabled=d["kvm_enabled"],
            accelerators=tuple(d["accelerators"]),
            cpu_models=tuple(
                CpuModel(c["name"], tuple(c["unavailable_features"]), c["deprecated"])
                for c in d["cpu_models"]
            ),
            device_types=tuple(d["device_types"]),
            probe_s=d.get("probe_s", 0.0),
        )


def parse_replies(binary: str, replies: list[Any], probe_s: float = 0.0) -> EmulatorCaps:
    """Build EmulatorCaps from the replies to PROBE_COMMANDS (pure: no I/O)."""
    version, machines, kvm, cpus, devices, accels = replies
    v = version["qemu"]
    vtuple = (int(v["major"]), int(v["minor"]), int(v["micro"]))
    mtypes = tuple(
        sorted(
            (
                MachineType(
                    name=m["name"],
                    alias=m.get("alias"),
                    is_default=bool(m.get("is-default", False)),
                    cpu_max=int(m.get("cpu-max", 1)),
                    deprecated=bool(m.get("deprecated", False)),
                )
                for m in machines
            ),
            key=lambda m: m.name,
        )
    )
    models = tuple(
        sorted(
            (
                CpuModel(
                    c["name"], tuple(c.get("unavailable-features", ())), bool(c.get("deprecated", False))
                )
                for c in cpus
            ),
            key=lambda c: c.name,
        )
    )
    accel_names = tuple(
        sorted(t["name"].removesuffix("-accel") for t in accels if t["name"].endswith("-accel"))
    )
    return EmulatorCaps(
        binary=binary,
        version=vtuple,
        version_string="{}.{}.{}".format(*vtuple),
        package=str(version.get("package", "")).strip(),
        machines=mtypes,
        kvm_present=bool(kvm.get("present")),
        kvm_enabled=bool(kvm.get("enabled")),
        accelerators=accel_names,
        cpu_models=models,
        device_types=tuple(sorted(t["name"] for t in devices)),
        probe_s=probe_s,
    )


def probe_argv(binary: str, monitor_fd: int) -> list[str]:
    """The probe's QEMU command line: no machine, no devices, stopped, TCG, monitor on ``monitor_fd``."""
    return [
        binary, "-machine", "none", "-accel", "tcg", "-nodefaults", "-nographic", "-S",
        "-chardev", f"socket,id=mon,fd={monitor_fd},server=on,wait=off", "-mon", "chardev=mon,mode=control",
    ]  # fmt: skip


def run_probe_session(binary: str, commands: list[qmp.Command], timeout: float = 10.0,
                      machine: tuple[str, ...] = ("-machine", "none"), warnings: list[str] | None = None) -> list[Any]:
    """Launch ``binary`` as a probe (:func:`probe_argv`, ``machine`` replacing its ``-machine
    none``), run ``commands`` over QMP, kill it; QEMU's stderr is appended to `warnings`.

    Every probe of a binary (these capabilities, the CPU map of :mod:`pyvirt.qemu.cpuprobe`)
    goes through here.  Raises RuntimeError with QEMU's stderr on failure.
    """
    with tempfile.TemporaryDirectory(prefix="pyvirt-caps-") as tmp:
        sock_path = Path(tmp) / "qmp.sock"
        listener = qmp.listen_unix(sock_path)
        fd = listener.fileno()
        argv = probe_argv(binary, fd)
        at = argv.index("-machine")
        argv[at:at + 2] = machine
        # a file, not a pipe: warnings written before QMP answers must never block QEMU
        with open(Path(tmp) / "stderr", "w+b") as err:
            proc = subprocess.Popen(argv, pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err)
            listener.close()
            try:
                return qmp.run_commands(sock_path, commands, timeout)
            except Exception as exc:
                proc.kill()
                proc.wait()
                err.seek(0)
                raise RuntimeError(f"probing {binary} failed: {exc}; QEMU said: "
                                   f"{err.read()[-400:].decode(errors='replace')}") from exc
            finally:
                if proc.poll() is None:
                    proc.kill()  # nothing to lose in a stopped probe process; faster than quit
                proc.wait()
                if warnings is not None:
                    err.seek(0)
                    warnings.append(err.read(1 << 20).decode(errors="replace"))


def probe_uncached(binary: str = DEFAULT_BINARY, timeout: float = 10.0) -> EmulatorCaps:
    """Launch QEMU, ask PROBE_COMMANDS, kill it. Raises RuntimeError with QEMU's stderr on failure."""
    start = time.monotonic()
    replies = run_probe_session(binary, PROBE_COMMANDS, timeout)
    return parse_replies(binary, replies, time.monotonic() - start)


def cache_path(binary: str, cache_dir: Path | None = None) -> Path | None:
    """The cache file for this exact binary (path, mtime, size); None when the binary is missing."""
    try:
        st = os.stat(binary)
    except OSError:
        return None
    real = os.path.realpath(binary)
    name = f"{real.strip('/').replace('/', '_')}-{st.st_mtime_ns}-{st.st_size}.json"
    return (cache_dir or default_cache_dir()) / name


def probe_emulator(
    binary: str = DEFAULT_BINARY, cache_dir: Path | None = None, use_cache: bool = True
) -> EmulatorCaps:
    """EmulatorCaps for ``binary``, from the cache when the binary is unchanged, else probed and stored."""
    path = cache_path(binary, cache_dir)
    if path is None:
        raise FileNotFoundError(f"QEMU binary {binary} not found")
    if use_cache:
        data = read_json(path)
        if isinstance(data, dict) and data.get("format") == CACHE_FORMAT:
            try:
                caps = EmulatorCaps.from_dict(data["caps"])
            except (KeyError, TypeError, ValueError):
                caps = None
            if caps is not None and caps.binary == binary:
                return EmulatorCaps(**{**caps.__dict__, "cached": True})
    caps = probe_uncached(binary)
    if use_cache:
        write_json_atomic(path, {"format": CACHE_FORMAT, "caps": caps.to_dict()})
    return caps
