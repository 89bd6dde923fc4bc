"""Where the reference projects' cases are (../shared/conformance beside the checkout), and
how tests import the comparison tools shipped with them (never copies of them)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
# PYVIRT_CONFORMANCE points elsewhere when the checkout is not beside shared/ (a git worktree).
CONFORMANCE = Path(os.environ.get("PYVIRT_CONFORMANCE") or REPO.parent / "shared" / "conformance")
LIBVIRT = CONFORMANCE / "libvirt-9.0.0"
SCHEMAS = LIBVIRT / "schemas"
VIRT_MANAGER = CONFORMANCE / "virt-manager-4.1.0"


def load_tool(name: str) -> ModuleType:
    """Import `tools/NAME.py` from the conformance folder."""
    sys.path.insert(0, str(CONFORMANCE / "tools"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)
# libvirt-dbus's introspection files and what Cockpit Machines uses of them (shared/reference)
REFERENCE = Path(os.environ.get("PYVIRT_REFERENCE") or CONFORMANCE.parent / "reference")
