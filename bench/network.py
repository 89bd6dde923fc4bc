"""Virtual network figures: net-start / net-destroy of a NAT network with DHCP, and the time from
a guest's start to its DHCP lease, against a private pyvirtd (qemu:///system) that runs in a
network namespace of its own (nothing touches the host's networking).

libvirt's figures for the same operations are printed next to pyvirt's where libvirtd can run
here (libvirt-daemon-system installed as a test-only oracle: it needs its libvirt-qemu and
libvirt-dnsmasq users); libvirtd then runs in a private mount + network namespace too, with its
state on tmpfs, so the host's libvirt state and networking stay untouched.

Usage: python bench/network.py [--runs N] [--guest-runs N]
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import median, ms  # noqa: E402
from tests.daemon_harness import DaemonHarness  # noqa: E402
from tests.netns import available, netns  # noqa: E402

NET = ("<network><name>bench</name><bridge name='benchbr0'/><forward mode='nat'/>"
       "<ip address='10.66.0.1' prefix='24'><dhcp><range start='10.66.0.2' end='10.66.0.200'/></dhcp></ip>"
       "</network>")
LIBVIRT_SCRIPT = r"""
set -e
mount --make-rprivate /
for d in /var/log/libvirt /run/libvirt /etc/libvirt/qemu/networks /var/lib/libvirt/network /var/lib/libvirt/dnsmasq; do
  mkdir -p $d; mount -t tmpfs none $d
done
ip link set lo up
virtlogd -d -p /run/libvirt/virtlogd.pid
libvirtd -d -p /run/libvirt/libvirtd.pid
for i in $(seq 50); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.1; done
echo "$NETXML" > /run/libvirt/bench.xml
virsh -q -c qemu:///system net-define /run/libvirt/bench.xml >/dev/null
CMDS=""
for i in $(seq $RUNS); do CMDS="$CMDS net-start bench; net-destroy bench;"; done
virsh -t -c qemu:///system "$CMDS"
kill $(cat /run/libvirt/libvirtd.pid) $(cat /run/libvirt/virtlogd.pid)
"""


def libvirt_figures(runs: int) -> tuple[float, float] | str:
    """(net-start ms, net-destroy ms) medians from virsh -t, or why there are none."""
    for user in ("libvirt-qemu", "libvirt-dnsmasq"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"not measured: user {user} missing (install libvirt-daemon-system as a test-only oracle)"
    env = {**os.environ, "NETXML": NET.replace("benchbr0", "lvbr0"), "RUNS": str(runs)}
    proc = subprocess.run(["unshare", "-m", "-n", "bash", "-c", LIBVIRT_SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    times = [float(t) for t in re.findall(r"\(Time: ([0-9.]+) ms\)", proc.stdout)]
    if proc.returncode != 0 or len(times) < 2 * runs:
        return f"not measured: libvirtd failed ({(proc.stderr or proc.stdout).strip()[-200:]})"
    return median(times[0::2]), median(times[1::2])


def pyvirt_figures(conn, runs: int) -> tuple[float, float]:  # noqa: ANN001 - a RemoteConnection
    conn.define_network(NET)
    starts, stops = [], []
    for _ in range(runs):
        t = time.perf_counter()
        conn.start_network("bench")
        starts.append(time.perf_counter() - t)
        t = time.perf_counter()
        conn.destroy_network("bench")
        stops.append(time.perf_counter() - t)
    conn.undefine_network("bench")
    return ms(median(starts)), ms(median(stops))


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
    with tempfile.TemporaryDirectory() as tmp, netns() as ns:
        daemon = DaemonHarness(Path(tmp), uri="qemu:///system", wrap=("ip", "netns", "exec", ns.name))
        daemon.start()
        try:
            conn = daemon.connect()
            start, stop = pyvirt_figures(conn, args.runs)
            leases = lease_times(conn, args.guest_runs) if args.guest_runs else []
        finally:
            daemon.stop()
            daemon.kill_all_guests()
    lv = libvirt_figures(args.runs)
    print(f"network start/stop (NAT + DHCP, median of {args.runs}, ms):")
    print(f"  pyvirt   net-start {start:8.1f}   net-destroy {stop:8.1f}")
    if isinstance(lv, str):
        print(f"  libvirt  {lv}")
    else:
        print(f"  libvirt  net-start {lv[0]:8.1f}   net-destroy {lv[1]:8.1f}   "
              f"(ratio pyvirt/libvirt {start / lv[0]:.2f} / {stop / lv[1]:.2f})")
    if leases:
        print(f"guest start -> DHCP lease (TCG boot, median of {len(leases)}): {median(leases):.2f} s "
              f"(runs: {', '.join(f'{x:.2f}' for x in leases)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
