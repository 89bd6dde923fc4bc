"""A NIC's ``<bandwidth>`` on its host tap, with tc, as libvirt 9.0's virNetDevBandwidthSet does it.

The guest's inbound traffic leaves the host through the tap (its egress): an HTB root qdisc with
one class at the average rate (ceil: peak, burst), SFQ under it and an fw filter into it.  The
guest's outbound traffic enters the host through the tap (its ingress): an ingress qdisc and a u32
filter that polices at the average rate and drops the excess.  Rates are KiB/s (tc's "kbps"),
bursts KiB ("kb").  Whatever was there is cleared first; a command that fails clears what the
sequence made and reports the command and tc's words as libvirt does ("Child process (tc …)
unexpected exit status N: …").
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

TC_TIMEOUT = 30.0


def tc_commands(dev: str, bandwidth: Any) -> list[list[str]]:
    """The tc command lines (without the tc binary) that set `bandwidth` on `dev`."""
    out: list[list[str]] = []
    rx = bandwidth.inbound if bandwidth is not None else None
    tx = bandwidth.outbound if bandwidth is not None else None
    if rx is not None and rx.average:
        klass = ["class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", f"{rx.average}kbps"]
        if rx.peak:
            klass += ["ceil", f"{rx.peak}kbps"]
        if rx.burst:
            klass += ["burst", f"{rx.burst}kb"]
        out += [["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "1"], klass,
                ["qdisc", "add", "dev", dev, "parent", "1:1", "handle", "2:", "sfq", "perturb", "10"],
                ["filter", "add", "dev", dev, "parent", "1:0", "protocol", "all", "handle", "1", "fw", "flowid", "1"]]
    if tx is not None and tx.average:
        out += [["qdisc", "add", "dev", dev, "ingress"],
                ["filter", "add", "dev", dev, "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
                 "police", "rate", f"{tx.average}kbps", "burst", f"{tx.burst or tx.average}kb", "mtu", "64kb",
                 "drop", "flowid", ":1"]]
    return out


def _tc() -> str:
    path = shutil.which("tc") or "/usr/sbin/tc"
    return path


def clear(dev: str) -> None:
    """virNetDevBandwidthClear: the root and ingress qdiscs go (their absence is no error)."""
    for where in ("root", "ingress"):
        subprocess.run([_tc(), "qdisc", "del", "dev", dev, where], capture_output=True, check=False,
                       timeout=TC_TIMEOUT, stdin=subprocess.DEVNULL)


def apply(dev: str, bandwidth: Any) -> None:
    """Set `bandwidth` on `dev` (None or empty: clear it)."""
    from pyvirt.network.hostnet import check_ifname

    check_ifname(dev, "interface")
    clear(dev)
    for args in tc_commands(dev, bandwidth):
        proc = subprocess.run([_tc(), *args], capture_output=True, text=True, check=False, timeout=TC_TIMEOUT,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            clear(dev)
            raise PyvirtError(f"internal error: Child process (tc {' '.join(args)}) unexpected exit status "
                              f"{proc.returncode}: {proc.stderr.strip()}", ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
