"""Which QEMU binaries a system daemon may run: a definition's <emulator> is otherwise any path.

On qemu:///system the daemon runs as root, so an arbitrary <emulator> would be arbitrary code
run as root by anyone who may define a domain.  The allowed binaries are globs, one a line, in
CONFIG/emulators (default: the distribution's QEMU system emulators); a path is allowed when its
real path is the real path of a file those globs match (no symlink or ``..`` way around it).
A session daemon runs as its user, who may run any program anyway: no restriction there.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

DEFAULT_PATTERNS = ("/usr/bin/qemu-system-*", "/usr/libexec/qemu-kvm", "/usr/bin/qemu-kvm")


def patterns(config_dir: Path) -> list[str]:
    try:
        text = (config_dir / "emulators").read_text()
    except FileNotFoundError:
        return list(DEFAULT_PATTERNS)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def check_emulator(path: str | None, config_dir: Path) -> None:
    """Refuse, naming the list, an emulator that is not one of the configured QEMU binaries."""
    if not path:
        return
    allowed = patterns(config_dir)
    real = os.path.realpath(path)
    for pattern in allowed:
        if any(os.path.realpath(candidate) == real for candidate in glob.glob(pattern)):
            return
    raise PyvirtError(f"unsupported configuration: emulator '{path}' is not one of the QEMU binaries this "
                      f"daemon may run ({', '.join(allowed)}; see {config_dir / 'emulators'})",
                      ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
