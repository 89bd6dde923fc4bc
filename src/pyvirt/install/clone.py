"""virt-clone's job: a new domain from an existing one, with its own name, UUID, MACs,
NVRAM and disk copies.

Mirrors virtinst's Cloner (4.1): every disk is cloned (copied to a new path), shared
(left as is: empty, read-only or shareable disks, or --skip-copy) or preserved
(--preserve-data: the new path must already hold the data).  Managed disks are copied
through the storage API (Connection.clone_volume); unmanaged local files are copied
sparsely here.  The new domain is defined before storage is copied and undefined again
if a copy fails, as virt-clone does.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from pyvirt import ids
from pyvirt.install.guest import ConnInfo, log
from pyvirt.install.xmltree import set_text
from pyvirt.xml.safe import safe_parse

if TYPE_CHECKING:
    from pyvirt.api import PoolInfo, VolInfo

CLONE, SHARE, PRESERVE = "clone", "share", "preserve"
RBD_ISSUE = " https://github.com/virt-manager/virt-manager/issues/177"


class CloneError(Exception):
    """A virt-clone refusal (printed as 'ERROR    msg', exit 1)."""


def _source_path(disk: etree._Element) -> str | None:
    src = disk.find("source")
    if src is None:
        return None
    return src.get("file") or src.get("dev") or src.get("dir") or src.get("volume")


def generate_name(base: str, taken: Callable[[str], bool], *, sep: str = "-",
                  suffix: str = "", start: int = 1, force_num: bool = False) -> str:
    """virtinst's generatename: BASE[SUFFIX] if free (unless force_num), else
    BASE<sep>N[SUFFIX] for the first free N from `start`."""
    if not force_num and not taken(base + suffix):
        return base + suffix
    for i in range(start, start + 100000):
        cand = f"{base}{sep}{i}{suffix}"
        if not taken(cand):
            return cand
    raise CloneError(f"Failed to generate a name from '{base}'")


def clone_name(base: str, taken: Callable[[str], bool]) -> str:
    """foo -> foo-clone; foo-clone -> foo-clone1; foo-clone3 -> foo-clone4."""
    m = re.search(r"-clone[1-9]*$", base)
    start, force = 1, False
    if m:
        force = True
        num = re.search(r"[1-9]+$", m.group())
        if num:
            start = int(num.group()) + 1
        base = base[:m.start()]
    return generate_name(base + "-clone", taken, sep="", start=start, force_num=force)


def clone_path(origname: str, newname: str, origpath: str | None,
               exists: Callable[[str], bool]) -> str | None:
    """/a/foo.img -> /a/foo-clone.img; a file named after the guest takes the new name."""
    if origpath is None:
        return None
    path, suffix = origpath, ""
    if "." in origpath and len(origpath.rsplit(".", 1)[1]) <= 7:
        path, suffix = origpath.rsplit(".", 1)
        suffix = "." + suffix
    dirname, basename = os.path.dirname(path), os.path.basename(path)
    clonebase = newname if origname and basename == origname else basename + "-clone"
    return generate_name(os.path.join(dirname, clonebase), exists, suffix=suffix)


@dataclass
class DiskInfo:
    """One source disk and what becomes of it."""

    disk: etree._Element
    action: str = CLONE
    cloneable_msg: str | None = None
    new_path: str | None = None
    new_type: str | None = None
    volume: VolInfo | None = None      # the source's pool volume, if managed
    new_pool: PoolInfo | None = None    # pool the copy goes into (managed copy)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str | None:
        return _source_path(self.disk)

    @property
    def target(self) -> str | None:
        t = self.disk.find("target")
        return None if t is None else t.get("dev")

    def check_cloneable(self) -> None:
        """A disk to be copied whose storage cannot be (missing, rbd, network) is refused."""
        if self.action == CLONE and self.cloneable_msg:
            raise CloneError("Could not determine original disk information: "
                             + self.cloneable_msg)

    def share_msg(self) -> str | None:
        if self.path is None and self.disk.get("type") != "network":
            return "No storage to clone."
        if self.disk.find("readonly") is not None:
            return "Read Only"
        if self.disk.find("shareable") is not None:
            return "Marked as shareable"
        return None


class Cloner:
    """The source domain, the clone's XML being built, and the disks to copy."""

    def __init__(self, ci: ConnInfo, src_name: str | None, src_xml: str | None) -> None:
        self.ci = ci
        self.conn = ci.conn
        if not src_xml:
            try:
                info = self.conn.lookup_domain(src_name or "")
            except Exception:
                raise CloneError(f"Domain '{src_name}' was not found.") from None
            if info.active:
                raise CloneError("Domain to clone must be shutoff.")
            src_xml = self.conn.get_xml(info.name, inactive=True, security_info=True)
        log.debug("Original XML:\n%s", src_xml)
        self.src = safe_parse(src_xml.encode())
        self.new = copy.deepcopy(self.src)
        self.sparse = True
        self.reflink = False
        self.replace = False
        self.overwrite = False  # --check path_exists=off: copies may replace existing files
        self.nvram_path: str | None = None
        self.check_mac = True
        self._init_new()
        self.diskinfos = [self._diskinfo(d) for d in self.src.findall("devices/disk")]

    # -- set up
    def _init_new(self) -> None:
        self.new.attrib.pop("id", None)
        set_text(self.new, "title", None)
        self.set_uuid(ids.new_uuid())
        for gfx in self.new.findall("devices/graphics"):
            port = gfx.get("port")
            if port and port != "-1":
                log.warning("Setting the graphics device port to autoport, in order to avoid "
                            "conflicting.")
                gfx.set("port", "-1")
                # virtinst's port setter recomputes autoport: unset for VNC (old libvirt
                # back compat), yes for SPICE only when both ports are automatic
                if gfx.get("type") == "spice" and gfx.get("tlsPort") == "-1":
                    gfx.set("autoport", "yes")
                else:
                    gfx.attrib.pop("autoport", None)
        for nic in self.new.findall("devices/interface"):
            tgt = nic.find("target")
            if tgt is not None:
                nic.remove(tgt)
            mac = nic.find("mac")
            if mac is None:
                mac = etree.SubElement(nic, "mac")
            mac.set("address", ids.new_mac())
        for ch in self.new.findall("devices/channel"):
            src, tgt = ch.find("source"), ch.find("target")
            if (ch.get("type") == "unix" and src is not None and tgt is not None
                    and tgt.get("name") and src.get("path") and tgt.get("name") in src.get("path")):
                del src.attrib["path"]
        self.set_name(clone_name(self.src_name, self._domain_exists))

    def _domain_exists(self, name: str) -> bool:
        try:
            self.conn.lookup_domain(name)
            return True
        except Exception:
            return False

    @property
    def src_name(self) -> str:
        return self.src.findtext("name") or ""

    @property
    def name(self) -> str:
        return self.new.findtext("name") or ""

    def set_name(self, name: str) -> None:
        set_text(self.new, "name", name)

    def set_uuid(self, uuid: str) -> None:
        set_text(self.new, "uuid", uuid)
        from pyvirt.install import modelopt
        from pyvirt.xml.domain import Sysinfo
        for el in self.new.findall("sysinfo"):
            if el.find("system/entry[@name='uuid']") is None:
                continue
            si = modelopt.read(el, Sysinfo)
            for entry in si.system.entries if si.system else ():
                if entry.name == "uuid":
                    entry.value = uuid
            modelopt.write(el, si)

    def set_macs(self, macs: list[str]) -> None:
        for mac in macs:
            if mac.upper() != "RANDOM" and self.check_mac:
                self._check_mac_free(mac)
        nics = self.new.findall("devices/interface")
        for nic, mac in zip(nics, macs, strict=False):
            if mac.upper() != "RANDOM":
                nic.find("mac").set("address", mac)

    def _check_mac_free(self, mac: str) -> None:
        for info in self.conn.list_domain_names():
            try:
                xml = safe_parse(self.conn.get_xml(info.name))
            except Exception:
                continue
            for m in xml.findall("devices/interface/mac"):
                if (m.get("address") or "").lower() == mac.lower():
                    raise CloneError(f"The MAC address '{mac}' is in use by another virtual "
                                     "machine. (Use --check mac_in_use=off or --check all=off "
                                     "to override)")

    # -- storage facts
    def _volume_for(self, path: str | None) -> VolInfo | None:
        if not path:
            return None
        try:
            return self.conn.lookup_volume_by_path(path)
        except Exception:
            return None

    def path_exists(self, path: str) -> bool:
        """virtinst's path_definitely_exists: a pool volume, or (local connections) a file."""
        if self._volume_for(path) is not None:
            return True
        return not self.ci.is_remote() and os.path.exists(path)

    def _diskinfo(self, disk: etree._Element) -> DiskInfo:
        info = DiskInfo(copy.deepcopy(disk))
        path = info.path
        info.volume = self._volume_for(path)
        if disk.get("type") == "network":
            proto = disk.find("source").get("protocol") if disk.find("source") is not None else None
            info.cloneable_msg = ("Cloning rbd volumes is not yet supported." + RBD_ISSUE
                                  if proto == "rbd" else
                                  f"Disk network type '{proto}' is not cloneable.")
        elif path and not self.path_exists(path):
            info.cloneable_msg = f"Disk path '{path}' does not exist."
        if info.share_msg():
            info.action = SHARE
        return info

    def set_new_path(self, info: DiskInfo, path: str | None) -> None:
        """Check `path` as a destination for `info` and remember it (virtinst's
        _build_clone_disk): an existing volume is refused unless preserving."""
        if info.action == CLONE and info.cloneable_msg:
            return
        info.new_path = path
        existing = self._volume_for(path)
        info.new_type = "file"
        if path and (os.path.isdir(path) and not existing):
            info.new_type = "dir"
        elif path and path.startswith("/dev/"):
            info.new_type = "block"
        if info.action == PRESERVE:
            if path and not self.path_exists(path):
                # virtinst validates the preserved disk as a new DeviceDisk without storage
                raise CloneError(f"Could not use path '{path}' for cloning: Must specify storage "
                                 "creation parameters for non-existent path "
                                 f"'{os.path.abspath(path)}'.")
            return
        if existing is not None:
            raise CloneError(f"Could not use path '{path}' for cloning: Clone onto existing "
                             f"storage volume is not currently supported: '{path}'")
        if path:
            # virtinst's manage_path: a managed volume's copy goes into the pool of its
            # folder, made for it (as virt-install makes one) when no pool manages it yet
            from pyvirt.install.opts.disk import _pool_for_dir
            info.new_pool = _pool_for_dir(self.conn, os.path.dirname(path), create=info.volume is not None)
            self._check_space(info)

    def _check_space(self, info: DiskInfo) -> None:
        if info.new_pool is None or info.volume is None:
            return
        want = int(info.volume.allocation or 0) if self.sparse else int(info.volume.capacity or 0)
        avail = int(info.new_pool.available)
        if want > avail:
            raise CloneError(
                f"Could not use path '{info.new_path}' for cloning: There is not enough free "
                f"space on the storage pool to create the volume. ({want // (1024 * 1024)} M "
                f"requested allocation > {avail // (1024 * 1024)} M available)")

    # -- the clone XML
    def prepare(self) -> None:
        if not self.replace and self._domain_exists(self.name):
            raise CloneError(f"Invalid name for new guest: Guest name '{self.name}' is "
                             "already in use.")
        from pyvirt.api import from_xml_error
        from pyvirt.xml.errors import XMLError
        from pyvirt.xml.validate import validate_name
        try:  # virtinst leaves the name to libvirt's define: refused here in its words
            validate_name(self.name)
        except XMLError as exc:
            raise CloneError(str(from_xml_error(exc, 0))) from None
        newdisks = {d.find("target").get("dev"): d for d in self.new.findall("devices/disk")
                    if d.find("target") is not None}
        for info in self.diskinfos:
            if info.action == SHARE:
                continue
            info.check_cloneable()
            if info.path is None:
                continue  # a drive without media stays without (virtinst's empty clone disk)
            if info.new_path is None:
                path = clone_path(self.src_name, self.name, info.path, self.path_exists)
                self.set_new_path(info, path)
            log.debug("Cloning srcpath=%s dstpath=%s", info.path, info.new_path)
            xmldisk = newdisks.get(info.target or "")
            if xmldisk is None:
                continue
            src = xmldisk.find("source")
            if src is None:
                src = etree.SubElement(xmldisk, "source")
            src.attrib.clear()
            if info.new_type and xmldisk.get("type") != "volume":
                xmldisk.set("type", info.new_type)
            attr = {"file": "file", "block": "dev", "dir": "dir"}.get(xmldisk.get("type", "file"),
                                                                    "file")
            if xmldisk.get("type") == "volume":
                xmldisk.set("type", "file")
                attr = "file"
            src.set(attr, info.new_path or "")
        self._prepare_nvram()
        self._prepare_serial_files()

    def _prepare_nvram(self) -> None:
        nv = self.new.find("os/nvram")
        if nv is None or not (nv.text or "").strip():
            return
        old = nv.text.strip()
        new = self.nvram_path
        if new is None:
            ext = os.path.splitext(old)[1]
            new = os.path.join(os.path.dirname(old), f"{self.name}_VARS{ext or '.fd'}")
        self.nvram_copy = (old, new) if self.path_exists(old) and not self.path_exists(new) \
            else None
        nv.text = new

    def _prepare_serial_files(self) -> None:
        for dev in self.new.findall("devices/serial") + self.new.findall("devices/console"):
            src = dev.find("source")
            if dev.get("type") == "file" and src is not None and src.get("path"):
                src.set("path", clone_path(self.src_name, self.name, src.get("path"),
                                           lambda _p: False) or "")

    def to_xml(self) -> str:
        from pyvirt.install.virtxml import to_string
        return to_string(self.new)

    # -- doing it
    def start_duplicate(self, progress: Callable[[str, int, int], None] | None = None) -> None:
        """Define the clone, then copy its storage; undefine it again if a copy fails."""
        if self.replace:
            self._replace_vm()
        self.conn.define_xml(self.to_xml())
        try:
            for info in self.diskinfos:
                if info.action == CLONE and info.new_path:
                    self._copy(info, progress)
            if getattr(self, "nvram_copy", None):
                old, new = self.nvram_copy
                copy_file(old, new, sparse=True, progress=progress)
        except BaseException:
            try:
                self.conn.undefine(self.name)
            except Exception:
                log.debug("undefine after failed copy", exc_info=True)
            raise

    def _replace_vm(self) -> None:
        try:
            info = self.conn.lookup_domain(self.name)
        except Exception:
            return
        log.debug("Explicitly replacing guest '%s'", self.name)
        try:
            if info.active:
                self.conn.destroy(self.name)
            self.conn.undefine(self.name)
        except Exception as exc:
            raise CloneError(f"Could not remove old vm '{self.name}': {exc}") from None

    def _copy(self, info: DiskInfo, progress: Callable[[str, int, int], None] | None) -> None:
        assert info.new_path is not None
        name = os.path.basename(info.new_path)
        if info.volume is not None and info.new_pool is not None:
            src_pool = info.volume.pool
            try:
                self.conn.clone_volume(src_pool, info.volume.name, name,
                                       target_pool=info.new_pool.name)
            except Exception as exc:
                from pyvirt.api import ErrorCode, PyvirtError
                from pyvirt.install.errors import volume_not_created
                if not (self.ci.is_test() and isinstance(exc, PyvirtError)
                        and exc.code == ErrorCode.NO_SUPPORT):
                    raise volume_not_created(name, exc) from None
                # test driver volumes hold no data: a volume of the same size is the copy
                self.conn.create_volume(info.new_pool.name, name,
                                        int(info.volume.capacity or 0),
                                        format=info.volume.format)
            return
        if self.ci.is_remote():
            raise CloneError(f"Cannot copy '{info.path}' on a remote connection without a "
                             "storage pool")
        if info.path and os.path.exists(info.path):
            copy_file(info.path, info.new_path, sparse=self.sparse, reflink=self.reflink,
                      progress=progress, overwrite=self.overwrite)


def copy_file(src: str, dst: str, *, sparse: bool = True, reflink: bool = False,
              progress: Callable[[str, int, int], None] | None = None,
              overwrite: bool = False) -> None:
    """Copy a local disk image: reflink when asked and possible, else block by block,
    leaving holes for zero blocks when `sparse`.  The destination must not exist unless
    `overwrite`."""
    chunk = 1024 * 1024
    total = os.path.getsize(src)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if overwrite else os.O_EXCL)
    fd = os.open(dst, flags, 0o600)
    try:
        with open(src, "rb") as fin:
            if reflink:
                try:
                    import fcntl
                    fcntl.ioctl(fd, 0x40049409, fin.fileno())  # FICLONE
                    return
                except OSError:
                    log.debug("reflink not possible, copying", exc_info=True)
            done = 0
            zero = bytes(chunk)
            while True:
                buf = fin.read(chunk)
                if not buf:
                    break
                if sparse and buf == zero[:len(buf)]:
                    os.lseek(fd, len(buf), os.SEEK_CUR)
                else:
                    os.write(fd, buf)
                done += len(buf)
                if progress:
                    progress(os.path.basename(dst), done, total)
            os.ftruncate(fd, total)
    except BaseException:
        os.close(fd)
        os.unlink(dst)
        raise
    os.close(fd)
