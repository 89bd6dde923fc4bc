"""qemu-img for test fixtures that make encrypted images.

QEMU 7.2 sizes a LUKS key slot by timing PBKDF2 against the thread's CPU clock
(qcrypto_pbkdf2_count_iters); when that clock shows no progress it gives up with "Unable to get
accurate CPU usage", which a fast or busy host hits now and then.  That is the host's timer, not
the image asked for, so the fixture tries again; any other failure fails at once.
"""

from __future__ import annotations

import shutil
import subprocess

_TIMING = "Unable to get accurate CPU usage"


def qemu_img_create(*args: str, attempts: int = 5) -> None:
    """`qemu-img create ARGS`, retried only on the PBKDF2 timing failure above."""
    cmd = [shutil.which("qemu-img") or "qemu-img", "create", *args]
    for attempt in range(attempts):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode == 0:
            return
        if _TIMING not in done.stderr or attempt == attempts - 1:
            raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)
