"""Virtual networks: the driver (bridges, dnsmasq, nftables) and the host-side helpers.

This package's own module is light on purpose: pyvirtd asks :func:`system_mode` before it loads
the network driver, so a session daemon never imports the driver and its XML model (~0.5 MiB).
"""

from __future__ import annotations

import os


def system_mode() -> bool:
    """Real networks need root (bridges, nftables); session daemons use user-mode networking."""
    return os.geteuid() == 0
