"""``python -m pyvirt.qemu.kvmprobe``: print whether KVM is usable here, and how long it took to know.

Exit status 0 when usable, 1 when not, so scripts (and device-machine checks) can branch on it.
"""

from __future__ import annotations

import argparse
import sys

from pyvirt.qemu.kvmprobe import DEFAULT_BINARY, kvm_usable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyvirt.qemu.kvmprobe", description=__doc__)
    parser.add_argument("--dev", default="/dev/kvm")
    parser.add_argument("--binary", default=DEFAULT_BINARY)
    parser.add_argument("--no-cache", action="store_true", help="probe even if a verdict is cached")
    args = parser.parse_args(argv)
    v = kvm_usable(args.dev, args.binary, use_cache=not args.no_cache)
    print(f"kvm: {'usable' if v.usable else 'unusable'}: {v.reason}")
    print(f"stage: {v.stage or '-'}  elapsed: {v.elapsed_s:.3f} s{'  (cached)' if v.cached else ''}")
    return 0 if v.usable else 1


if __name__ == "__main__":
    sys.exit(main())
