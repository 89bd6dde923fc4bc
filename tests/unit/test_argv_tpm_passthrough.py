"""A host TPM given to the guest (``<tpm><backend type='passthrough'>``): pyvirtd opens the
device and its sysfs cancel file and QEMU gets them as fd sets (libvirt 9.0's
qemuBuildTPMBackendStr and virTPMCreateCancelPath)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyvirt.daemon import hostdev_prep
from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.defaults import assign_start_defaults
from pyvirt.xml.errors import XMLError

XML = ("<domain type='qemu'><name>g</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm"
       "</type></os><devices><tpm model='{model}'><backend type='passthrough'>{dev}</backend></tpm></devices>"
       "</domain>")


def _dom(model: str = "tpm-crb", dev: str = "<device path='/dev/tpm0'/>"):
    dom = fill_defaults(parse_domain(XML.format(model=model, dev=dev)))
    assign_start_defaults(dom)
    return dom


def _opts(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name]


def test_fd_sets_for_device_and_cancel_file() -> None:
    argv = build_argv(_dom(), runtime=RuntimePaths(tpm_passthrough_fds={"tpm0": (40, 41)}))
    assert _opts(argv, "-add-fd") == ["set=0,fd=40,opaque=tpm0-tpm", "set=1,fd=41,opaque=tpm0-cancel"]
    assert _opts(argv, "-tpmdev") == ["passthrough,id=tpm-tpm0,path=/dev/fdset/0,cancel-path=/dev/fdset/1"]
    assert any('"driver":"tpm-crb"' in d for d in _opts(argv, "-device"))


def test_not_opened_is_refused() -> None:
    with pytest.raises(XMLError, match="host TPM was not opened"):
        build_argv(_dom(), runtime=RuntimePaths())


def test_daemon_opens_device_and_cancel_file(tmp_path: Path) -> None:
    device = tmp_path / "tpm7"
    device.write_bytes(b"")
    cancel = tmp_path / "sys" / "tpm" / "tpm7" / "device" / "cancel"
    cancel.parent.mkdir(parents=True)
    cancel.write_bytes(b"")
    assert hostdev_prep.tpm_cancel_path(str(device), tmp_path / "sys") == str(cancel)
    fds = hostdev_prep.open_tpm_passthrough(_dom(dev=f"<device path='{device}'/>"), tmp_path / "sys")
    try:
        assert list(fds) == ["tpm0"]
        assert os.path.samefile(f"/proc/self/fd/{fds['tpm0'][1]}", cancel)
    finally:
        for fd in fds["tpm0"]:
            os.close(fd)
    with pytest.raises(Exception, match="No usable sysfs TPM cancel file"):
        hostdev_prep.open_tpm_passthrough(_dom(dev="<device path='/dev/tpm9'/>"), tmp_path / "sys")
