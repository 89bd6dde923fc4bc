"""Virtual network figures: net-start / net-destroy of a NAT network with DHCP, and the time from
a guest's start to its DHCP lease, against a private pyvirtd (qemu:///system) that runs in a
network namespace of its own (nothing touches the host's networking).

libvirt's net-start / net-destroy are measured in the same run, interleaved round by round with
pyvirt's so machine load hits both alike: a private system libvirtd (libvirt-daemon 9.0, a
test-only oracle) runs in a network namespace of its own and a private mount namespace whose
libvirt directories are tmpfs, so the host's libvirt state, bridges and firewall stay untouched.
Both figures are API calls as a client sees them: pyvirt's RemoteConnection call, and the time
``virsh -t`` prints for the same call against libvirtd.

Usage: python bench/network.py [--runs N] [--guest-runs N]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import median, ms, terminate  # noqa: E402
from tests.daemon_harness import DaemonHarness  # noqa: E402
from tests.netns import NetNS, available, netns  # noqa: E402

NET = ("<network><name>bench</name><bridge name='benchbr0'/><forward mode='nat'/>"
       "<ip address='10.66.0.1' prefix='24'><dhcp><range start='10.66.0.2' end='10.66.0.200'/></dhcp></ip>"
       "</network>")
# Every directory a system libvirtd writes (and /etc/libvirt/qemu, so no host domain or network
# definition is seen, let alone autostarted) becomes an empty tmpfs in its own mount namespace.
_PRIVATE_DIRS = ("/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt", "/etc/libvirt/qemu")
_LIBVIRTD_SCRIPT = (
    "set -e; mount --make-rprivate /; "
    + "".join(f"mkdir -p {d}; mount -t tmpfs none {d}; " for d in _PRIVATE_DIRS)
    + "mkdir -p /etc/libvirt/qemu/networks; exec libvirtd")


class SystemLibvirtd:
    """A root (qemu:///system) libvirtd confined to *ns* and to a private mount namespace.

    bench/_rom.SessionLibvirtd cannot serve here: a session libvirtd has no bridges or
    firewall to set up, which is exactly what net-start costs. virsh reaches this daemon by
    entering its namespaces (its socket lives on its private /run/libvirt).
    """

    def __init__(self, ns: NetNS) -> None:
        self.ns = ns
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        for tool in ("libvirtd", "virsh", "nsenter", "unshare"):
            if shutil.which(tool) is None:
                return f"{tool} not found (libvirt-daemon / libvirt-clients are test-only oracles)"
        if not Path("/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_network.so").exists():
            return "libvirt's network driver is not installed (libvirt-daemon-driver-network)"
        return None

    def start(self, log: Path, timeout: float = 60.0) -> None:
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(self.ns.cmd("unshare", "-m", "bash", "-c", _LIBVIRTD_SCRIPT),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + timeout
        while self.virsh("uri", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"private libvirtd did not start; see {log}")
            time.sleep(0.2)

    def virsh(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.proc is not None
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "-n", "virsh", "-q", "-t", "-c",
                               "qemu:///system", *args], capture_output=True, text=True, check=check, timeout=120)

    def timed(self, command: str) -> list[float]:
        """ms of each call in *command* (virsh's own ``-t`` figure, the API call only)."""
        return [float(t) for t in re.findall(r"\(Time: ([0-9.]+) ms\)", self.virsh(command).stdout)]

    def stop(self) -> None:
        terminate(self.proc)  # libvirtd itself (bash execs it); dnsmasq goes with the namespace
        self.proc = None


def pyvirt_round(conn) -> tuple[float, float]:  # noqa: ANN001 - a RemoteConnection
    """ms of one net-start and one net-destroy of the bench network."""
    t = time.perf_counter()
    conn.start_network("bench")
    start = time.perf_counter() - t
    t = time.perf_counter()
    conn.destroy_network("bench")
    return ms(start), ms(time.perf_counter() - t)


def libvirt_round(lv: SystemLibvirtd) -> tuple[float, float]:
    times = lv.timed("net-start bench; net-destroy bench")
    if len(times) != 2:
        raise RuntimeError(f"virsh printed {len(times)} timings, expected 2")
    return times[0], times[1]


def interleaved(conn, lv: SystemLibvirtd | None, runs: int) -> dict[str, list[float]]:  # noqa: ANN001
    """Rounds of start+destroy on both, alternating which goes first; one warm-up round each
    (libvirtd's first net-start loads its firewall helpers) is not counted."""
    out: dict[str, list[float]] = {"py_start": [], "py_stop": [], "lv_start": [], "lv_stop": []}
    for i in range(runs + 1):
        sides = [("py", lambda: pyvirt_round(conn))]
        if lv is not None:
            sides.append(("lv", lambda: libvirt_round(lv)))
        for side, run in (sides if i % 2 else sides[::-1]):
            start, stop = run()
            if i:
                out[f"{side}_start"].append(start)
                out[f"{side}_stop"].append(stop)
    return out


def row(label: str, values: list[float]) -> str:
    return f"{label:<22} {median(values):8.1f} {min(values):8.1f} {max(values):8.1f}"


def print_figures(fig: dict[str, list[float]], runs: int, lv_note: str | None) -> None:
    print(f"network start/stop (NAT + DHCP, {runs} interleaved rounds, ms):")
    print(f"{'':<22} {'median':>8} {'min':>8} {'max':>8}")
    for op in ("start", "stop"):
        verb = "net-start" if op == "start" else "net-destroy"
        print(row(f"pyvirt  {verb}", fig[f"py_{op}"]))
        if fig[f"lv_{op}"]:
            print(row(f"libvirt {verb}", fig[f"lv_{op}"]))
            ratios = [p / q for p, q in zip(fig[f"py_{op}"], fig[f"lv_{op}"], strict=True)]
            print(f"{'  ratio pyvirt/libvirt':<22} {median(ratios):8.2f} {min(ratios):8.2f} {max(ratios):8.2f}"
                  "   (per round, paired)")
    if lv_note:
        print(f"  libvirt not measured: {lv_note}")


def lease_times(conn, runs: int) -> list[float]:  # noqa: ANN001
    """Seconds from start() to the guest's lease in net-dhcp-leases (the default network)."""
    from pyvirt.testguest import find_test_guest

    guest = find_test_guest()
    out = []
    for i in range(runs):
        mac = f"52:54:00:be:00:{i:02x}"
        xml = guest.domain_xml(f"leaseguest{i}").replace(
            "<interface type='user'><model type='virtio'/></interface>",
            f"<interface type='network'><source network='default'/><mac address='{mac}'/>"
            "<model type='virtio'/></interface>")
        conn.define_xml(xml)
        t = time.perf_counter()
        conn.start(f"leaseguest{i}")
        while not conn.network_dhcp_leases("default", mac):
            if time.perf_counter() - t > 180:
                raise TimeoutError("no DHCP lease within 180 s")
            time.sleep(0.05)
        out.append(time.perf_counter() - t)
        conn.destroy(f"leaseguest{i}")
        conn.undefine(f"leaseguest{i}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--guest-runs", type=int, default=3)
    args = parser.parse_args()
    why = available()
    if why is not None:
        print(f"network bench skipped: {why}")
        return 0
    lv_note = SystemLibvirtd.available()
    with tempfile.TemporaryDirectory() as tmp, netns() as ns, netns() as lv_ns:
        daemon = DaemonHarness(Path(tmp), uri="qemu:///system", wrap=("ip", "netns", "exec", ns.name))
        daemon.start()
        lv = None if lv_note else SystemLibvirtd(lv_ns)
        try:
            if lv is not None:
                lv.start(Path(tmp) / "libvirtd.log")
                xml = Path(tmp) / "lvbench.xml"
                xml.write_text(NET.replace("benchbr0", "lvbr0"))
                lv.virsh("net-define", str(xml))
            conn = daemon.connect()
            conn.define_network(NET)
            fig = interleaved(conn, lv, args.runs)
            conn.undefine_network("bench")
            leases = lease_times(conn, args.guest_runs) if args.guest_runs else []
        finally:
            if lv is not None:
                lv.stop()
            daemon.stop()
            daemon.kill_all_guests()
    print_figures(fig, args.runs, lv_note)
    if leases:
        print(f"guest start -> DHCP lease (TCG boot, median of {len(leases)}): {median(leases):.2f} s "
              f"(runs: {', '.join(f'{x:.2f}' for x in leases)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
