"""virt-clone's top-level flow: options -> Cloner -> disks -> print or duplicate."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from pyvirt.install.clone import CLONE, PRESERVE, SHARE, CloneError, Cloner
from pyvirt.install.guest import log

if TYPE_CHECKING:
    from lxml import etree


def _progress(name: str, done: int, total: int) -> None:
    """Copy progress on stderr (virt-clone's meter), silent under the test suite."""
    if os.environ.get("VIRTINST_TEST_SUITE") or not sys.stderr.isatty():
        return
    pct = 100 * done // total if total else 100
    sys.stderr.write(f"\rAllocating '{name}'  {pct:3d}% | {done // (1024 * 1024)} MiB")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _process_disks(o: argparse.Namespace, cloner: Cloner, checks: dict[str, bool]) -> None:
    newpaths = list(o.new_diskfile or [])
    for info in cloner.diskinfos:
        if info.target in (o.target or []):
            info.action = CLONE
        elif info.target in (o.skip_copy or []):
            info.action = SHARE
        elif not o.preserve and info.action == CLONE:
            info.action = PRESERVE
    for info in cloner.diskinfos:
        if info.action == SHARE:
            continue
        info.check_cloneable()
        newpath = newpaths.pop(0) if newpaths else None
        if info.path is None:
            # a drive without media still takes its --file from the list (virt-clone's
            # _process_disks) but keeps no source
            cloner.set_new_path(info, None)
            continue
        if newpath is None and not o.auto_clone:
            raise CloneError("Either --auto-clone or --file is required, use '--auto-clone "
                             "or --file' and try again.")
        if newpath is None:
            from pyvirt.install.clone import clone_path
            newpath = clone_path(cloner.src_name, cloner.name, info.path, cloner.path_exists)
        cloner.set_new_path(info, newpath)
        if info.action == CLONE and newpath and cloner.path_exists(newpath):
            if checks.get("path_exists", checks.get("all", True)):
                raise CloneError(f"This will overwrite the existing path '{newpath}' (Use "
                                 "--check path_exists=off or --check all=off to override)")
            log.warning("This will overwrite the existing path '%s'", newpath)
            cloner.overwrite = True
        if newpath:
            _check_in_use(cloner, info.disk, newpath, checks)


def _check_in_use(cloner: Cloner, disk: etree._Element, path: str, checks: dict[str, bool]) -> None:
    """cli.validate_disk's path_in_use check on the new disk (a preserved one too): every
    guest whose disk uses the path counts, the original included."""
    from pyvirt.install.opts.disk import _disk_users
    users = _disk_users(cloner.conn, None, os.path.abspath(path), disk.find("readonly") is not None,
                        disk.find("shareable") is not None)
    if not users:
        return
    msg = f"Disk {path} is already in use by other guests {users}."
    if not checks.get("path_in_use", checks.get("all", True)):
        log.warning("%s", msg)
        return
    raise CloneError(f"{msg} (Use --check path_in_use=off or --check all=off to override)")


def run(o: argparse.Namespace) -> int:
    from pyvirt.install.flow import _checks, _connect
    checks = _checks(o.check or [])
    ci = _connect(o.connect)
    if not o.original_guest and not o.original_xml:
        raise CloneError("An original machine name is required, use '--original "
                         "src_name' and try again.")
    src_xml = None
    if o.original_xml:
        with open(o.original_xml, encoding="utf-8") as fh:
            src_xml = fh.read(64 * 1024 * 1024)
    cloner = Cloner(ci, o.original_guest, src_xml)
    if o.new_name:
        cloner.set_name(o.new_name)
    elif not o.auto_clone:
        raise CloneError("A name is required for the new virtual machine, use '--name "
                         "NEW_VM_NAME' to specify one.")
    if o.new_uuid:
        cloner.set_uuid(o.new_uuid)
    cloner.check_mac = checks.get("mac_in_use", checks.get("all", True))
    if o.new_mac:
        cloner.set_macs(o.new_mac)
    cloner.reflink = o.reflink
    cloner.sparse = o.sparse
    cloner.replace = o.replace
    cloner.nvram_path = o.new_nvram
    # virt-clone asks for --auto-clone/--file up front, unless a disk's own refusal
    # (rbd, network) says more
    needs_path = any(i.action != SHARE and not i.cloneable_msg for i in cloner.diskinfos)
    if o.new_diskfile is None and not o.auto_clone and not o.xmlonly and \
            (needs_path or not cloner.diskinfos):
        raise CloneError("Either --auto-clone or --file is required, use '--auto-clone "
                             "or --file' and try again.")
    _process_disks(o, cloner, checks)
    cloner.prepare()
    if o.xmlonly:
        print(cloner.to_xml(), end="")
    if not o.xmlonly:
        cloner.start_duplicate(_progress)
    if not o.quiet:
        print("")
        print(f"Clone '{cloner.name}' created successfully.")
    log.debug("end clone")
    return 0
