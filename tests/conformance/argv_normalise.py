"""pyvirt's deliberate command-line differences from libvirt, taught to the comparison in ONE place.

``../shared/conformance/tools/argv_compare.py`` is shared and read-only; what pyvirt does
differently on purpose is normalised here, on both signatures, before they are compared.
Each rule names the difference and why it is not a different machine:

* File chardevs (``<serial type='file'>``, ``<log>``...): libvirt opens the file itself and
  passes the descriptor (``path=/dev/fdset/N`` plus ``-add-fd``), always with ``append=on``
  because it truncates beforehand when the XML does not ask for appending.  pyvirt lets QEMU
  open the path, passing ``append`` only as the XML says; QEMU then truncates or appends exactly
  as libvirt's pre-opened descriptor would.  Normalised: the path of a file chardev and its
  ``append`` flag (the guest-visible device and backend type stay compared).
* The PC speaker (``<sound model='pcspk'>``): libvirt 9.0 still writes ``-soundhw pcspk``,
  which QEMU 7.2 no longer accepts ("-soundhw: invalid option"); pyvirt connects the machine's
  built-in speaker to the audio backend with ``-machine pcspk-audiodev=`` (what libvirt 9.1+
  writes).  Normalised: the machine property is read as ``-soundhw pcspk``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def _file_chardev(entry: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
    d = dict(entry)
    if d.get("backend") != "file":
        return entry
    d.pop("append", None)
    d["path"] = "<opened by libvirt or QEMU>"
    return tuple(sorted(d.items()))


def normalise(sig: dict[str, Any]) -> dict[str, Any]:
    """A copy of an ``argv_compare.signature()`` with pyvirt's documented differences folded."""
    out = dict(sig)
    machine = sig.get("machine")
    if isinstance(machine, tuple) and any(k == "pcspk-audiodev" for k, _ in machine):
        out["machine"] = tuple((k, v) for k, v in machine if k != "pcspk-audiodev")
        out["other"] = Counter(sig.get("other", Counter()))
        out["other"][("-soundhw", "pcspk")] += 1
    chardevs = sig.get("chardevs")
    if isinstance(chardevs, Counter):
        out["chardevs"] = Counter({_file_chardev(k): 0 for k in chardevs})
        for k, n in chardevs.items():
            out["chardevs"][_file_chardev(k)] += n
    return out
