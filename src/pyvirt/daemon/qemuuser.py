"""System-mode guests as an unprivileged user: libvirt's qemu.conf ``user``/``group`` and its DAC
security driver (ownership of what QEMU opens given to that user at start, given back at stop).

``CONFIG/qemu.conf`` (``/etc/pyvirt/qemu.conf``), in libvirt's syntax and names::

    user = "pyvirt-qemu"     # a name, or "+UID"; default pyvirt-qemu (libvirt's is libvirt-qemu)
    group = "pyvirt-qemu"    # a name, or "+GID"; default: the user's primary group
    dynamic_ownership = 1    # 0: never chown anything (the admin makes every file reachable)

A system daemon running as root runs QEMU as ``pyvirt-qemu`` (created by ``make deps``) unless
qemu.conf says otherwise; ``user = "root"`` (with ``group = "root"``) keeps QEMU as root, as
libvirt allows.  When the default user does not exist, QEMU runs as root and the daemon logs why,
once (a fresh install that skipped ``make deps`` still runs guests).  Unprivileged, the daemon:

* spawns QEMU with that uid/gid and no supplementary groups but ``kvm`` (when the host has it):
  a process that leaves uid 0 keeps no capabilities; QEMU's ``-sandbox`` denies it regaining any;
* relabels before start: every disk image (and its backing chain), kernel, initrd, dtb, firmware
  and NVRAM QEMU must open is chowned to the user, unless it only reads a file it can already
  read; the original owners are remembered, by inode, in a root-owned record in the guest's
  runtime directory, written before the first chown;
* gives ownership back when the guest's runtime directory is cleared, which every end of a
  guest goes through (destroy, shutdown, crash, a failed start, a daemon restart that finds
  QEMU gone);
* lets QEMU into its runtime directory (pidfile, channel sockets): the directory is group-owned
  by the QEMU group with the sticky bit, so QEMU can create files there but not touch the
  daemon's own records; the directories above it get group search permission only.

What QEMU must reach through directories is the administrator's to allow (as with libvirt):
an image under a 0700 directory stays unreachable, and the start fails with QEMU's EACCES.
"""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon.qemuconf import config_error

log = logging.getLogger(__name__)

RECORD = "dac.json"
_warned: set[str] = set()


@dataclass(frozen=True)
class QemuUser:
    uid: int
    gid: int
    groups: tuple[int, ...] = ()
    #: qemu.conf's dynamic_ownership: chown what QEMU opens (and give it back at stop)
    relabel: bool = True


def load(config_dir: str | os.PathLike[str]) -> QemuUser | None:
    """The user a system daemon runs QEMU as, or None for root (configured so, or the default
    user missing: logged once, with how to create it)."""
    from pyvirt.daemon.qemuconf import SETTINGS
    from pyvirt.daemon.qemuconf import load as load_conf

    conf = load_conf(config_dir)
    path = Path(config_dir) / "qemu.conf"
    user, group = conf["user"], conf["group"]
    default = SETTINGS["user"][1]
    if user == default and not group and not _exists(default):
        if str(path) not in _warned:
            _warned.add(str(path))
            log.warning("QEMU runs as root: the user '%s' does not exist (`make deps` creates it, or "
                        "`useradd --system --user-group --no-create-home --shell /usr/sbin/nologin %s`); "
                        "to run QEMU as root on purpose, or as another user, set user/group in %s",
                        default, default, path)
        return None
    uid = _id(user, pwd.getpwnam, "user", path)
    gid = _id(group, grp.getgrnam, "group", path) if group else _primary_gid(uid)
    if uid == 0 and gid == 0:
        return None
    extra: tuple[int, ...] = ()
    with contextlib.suppress(KeyError):
        extra = (grp.getgrnam("kvm").gr_gid,)
    return QemuUser(uid, gid, extra, relabel=bool(conf["dynamic_ownership"]))


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _primary_gid(uid: int) -> int:
    """A user named without a group runs with its own primary group (a bare "+UID" unknown to
    the host: a group of the same number)."""
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid


def _id(value: str, lookup: Any, what: str, path: Path) -> int:
    if value.startswith("+") and value[1:].isdigit():
        return int(value[1:])
    try:
        entry = lookup(value)
    except KeyError:
        raise config_error(f"{path}: {what} '{value}' does not exist on this host") from None
    return int(entry.pw_uid if what == "user" else entry.gr_gid)


def open_dirs(user: QemuUser, dirs: list[Path]) -> None:
    """Search permission for QEMU's group on the daemon's own `dirs` (those that exist), and
    nothing more: it may pass through, never list or change them."""
    for d in dirs:
        with contextlib.suppress(FileNotFoundError):
            os.chown(d, -1, user.gid)
            os.chmod(d, 0o710)


def open_runtime_dirs(user: QemuUser, dirs: list[Path], guest_dir: Path) -> None:
    """Let QEMU reach its runtime directory and the daemon's own files it opens: search
    permission on `dirs` (the runtime tree above the guest's directory, the data directories
    holding NVRAM, boot files and TPM state), create-but-not-delete-others' (sticky,
    group-writable) on `guest_dir`."""
    open_dirs(user, dirs)
    os.chown(guest_dir, -1, user.gid)
    os.chmod(guest_dir, 0o1770)


def give_tree(user: QemuUser, top: Path) -> None:
    """`top` and everything below it become `user`'s for good: a helper's own state that
    outlives a run (swtpm's TPM state, as libvirt gives it to swtpm_user).  Symlinks are not
    followed."""
    os.chown(top, user.uid, user.gid, follow_symlinks=False)
    for base, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chown(os.path.join(base, name), user.uid, user.gid, follow_symlinks=False)


def _readable_by(st: os.stat_result, user: QemuUser) -> bool:
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IRUSR)
    if st.st_gid == user.gid or st.st_gid in user.groups:
        return bool(st.st_mode & stat.S_IRGRP)
    return bool(st.st_mode & stat.S_IROTH)


#: libvirt's name of the DAC security driver, the one pyvirt has
DAC = "dac"


def _unsupported(msg: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {msg}", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def parse_label(label: str) -> tuple[int, int]:
    """A DAC label, ``user:group`` or ``+UID:+GID`` (libvirt's virParseOwnershipIds)."""
    user, sep, group = (label or "").partition(":")
    if not sep or not user or not group:
        raise _unsupported(f"DAC label '{label}' must be 'user:group' or '+UID:+GID'")
    try:
        uid = int(user[1:]) if user.startswith("+") and user[1:].isdigit() else pwd.getpwnam(user).pw_uid
        gid = int(group[1:]) if group.startswith("+") and group[1:].isdigit() else grp.getgrnam(group).gr_gid
    except KeyError:
        raise _unsupported(f"DAC label '{label}': no such user or group on this host") from None
    return uid, gid


def for_domain(dom: Any, base: QemuUser | None, privileged: bool) -> QemuUser | None:
    """Whom QEMU runs as for `dom`, and whether its files are relabelled, after the domain's
    ``<seclabel>`` (libvirt's DAC driver): none — `base` (qemu.conf's user, or None: the
    daemon's own); ``type='none'`` or ``relabel='no'`` — that user, nothing chowned;
    ``type='static'`` with ``<label>`` — that uid:gid (a `privileged` daemon only, i.e. root on
    qemu:///system; another may only name its own ids).  A model-less seclabel is DAC's (the
    only driver); any other model is refused, as libvirt refuses a driver it does not have."""
    labels = list(getattr(dom, "seclabels", None) or [])
    for sl in labels:
        if (sl.model or DAC) != DAC:
            raise _unsupported(f"Unable to find security driver for model {sl.model}")
    sl = next((x for x in labels if (x.model or DAC) == DAC), None)
    if sl is None:
        return base
    kind = sl.type or "dynamic"
    relabel = (kind != "none") if sl.relabel is None else bool(sl.relabel)
    user = base
    if kind == "static":
        if not sl.label:
            raise _unsupported("missing label for static security driver")
        uid, gid = parse_label(sl.label)
        if not privileged and (uid, gid) != (os.geteuid(), os.getegid()):
            raise _unsupported(f"DAC label '{sl.label}': only a system daemon run by root runs QEMU as "
                               "another user")
        groups = base.groups if base is not None else ()
        user = QemuUser(uid, gid, groups, base.relabel if base is not None else True)
    if user is None or (user.uid, user.gid) == (0, 0):
        return None
    return QemuUser(user.uid, user.gid, user.groups, user.relabel and relabel)


def live_label(user: QemuUser) -> Any:
    """The ``<seclabel>`` libvirt shows in a running guest's XML for its DAC label."""
    from pyvirt.xml.domain import DomainSeclabel

    ids = f"+{user.uid}:+{user.gid}"
    return DomainSeclabel(type="dynamic", model=DAC, relabel=user.relabel, label=ids,
                          imagelabel=ids if user.relabel else None)


#: whom a file is given to: QEMU's user (None), or this (uid, gid)
Owner = tuple[int, int] | None


class GuestFile(NamedTuple):
    path: str
    readonly: bool
    owner: Owner = None
    create: bool = False  # a file QEMU writes (chardev output, log): the daemon creates it first
    device: bool = False  # a host device node QEMU opens (USB, VFIO): a character device


def _disk_owner(disk: Any) -> tuple[bool, Owner]:
    """A disk's (or one backing layer's) ``<source><seclabel model='dac'>``: (relabel it?,
    the owner it gets instead)."""
    for sl in getattr(disk, "source_seclabels", None) or []:
        if (sl.model or DAC) != DAC:
            continue
        if sl.relabel is False:
            return False, None
        if sl.label:
            return True, parse_label(sl.label)
    return True, None


def _xml_chain_files(layer: Any) -> list[GuestFile]:
    """The local images of an XML ``<backingStore>`` chain (read-only to QEMU), each labelled
    as its own ``<source><seclabel>`` says (libvirt labels every layer by its own)."""
    out = []
    while layer is not None:
        path = layer.source_file or layer.source_dev
        relabel, owner = _disk_owner(layer)
        if path and relabel:
            out.append(GuestFile(path, True, owner))
        layer = layer.backing_store
    return out


def guest_files(dom: Any) -> list[GuestFile]:
    """(path, read-only, owner) of every existing host file QEMU opens for `dom`, backing chains
    included, and the files its character devices write (created when missing); a disk whose
    source says ``<seclabel model='dac' relabel='no'/>`` is left out, chain and all."""
    from pyvirt.daemon.guestpaths import backing_chain

    out: list[GuestFile] = []
    os_ = dom.os
    if os_ is not None:
        for path in (os_.kernel, os_.initrd, os_.dtb, os_.acpi_table, os_.loader.path if os_.loader else None):
            if path:
                out.append(GuestFile(path, True))
        if os_.nvram is not None and os_.nvram.local_path():
            out.append(GuestFile(os_.nvram.local_path() or "", False))
    for disk in dom.devices.disks:
        path = disk.source_file or disk.source_dev or disk.source_dir  # a vvfat directory: read-only
        relabel, owner = _disk_owner(disk)
        if not path or not relabel:
            continue
        out.append(GuestFile(path, bool(disk.readonly), owner))
        if disk.backing_store is not None:  # the chain the XML spells out, each layer its own label
            out.extend(_xml_chain_files(disk.backing_store))
        elif (disk.driver_type or "raw") != "raw":
            out.extend(GuestFile(back, True, owner) for back in backing_chain(path, disk.driver_type))
    devs = dom.devices
    for ch in [*devs.serials, *devs.parallels, *devs.consoles, *devs.channels]:
        if ch.type == "file" and ch.source_path:
            out.append(GuestFile(ch.source_path, False, create=True))
        if ch.log_file:
            out.append(GuestFile(ch.log_file, False, create=True))
        if ch.type == "unix" and ch.source_mode != "bind" and ch.source_path:
            out.append(GuestFile(ch.source_path, False))  # QEMU connects: it must write the socket
    for nic in devs.interfaces:  # QEMU connects to a vhost-user backend's socket: it must write it
        if nic.type == "vhostuser" and nic.source_mode == "client" and nic.source_path:
            out.append(GuestFile(nic.source_path, False))
    for disk in devs.disks:  # likewise a vhost-user disk's
        if disk.type == "vhostuser" and disk.source_path:
            out.append(GuestFile(disk.source_path, False))
    for mem in devs.memories:  # an NVDIMM's or virtio-pmem's backing file (libvirt's DAC labels it)
        if mem.model in ("nvdimm", "virtio-pmem") and mem.source_path:
            out.append(GuestFile(mem.source_path, False))
    for inp in devs.inputs:  # host input devices QEMU reads (libvirt's DAC labels them too)
        node = inp.source_dev if inp.type == "evdev" else inp.source_evdev if inp.type == "passthrough" else None
        if node:
            out.append(GuestFile(node, False, device=True))
    out.extend(GuestFile(node, False, device=True) for node in hostdev_nodes(dom))
    out.extend(GuestFile(node, False, device=True) for node in render_nodes(dom))
    return out


def render_nodes(dom: Any, default: str | None = None) -> list[str]:
    """The DRM render nodes QEMU (OpenGL displays, egl-headless) and vhost-user-gpu (3D) open:
    the XML's, else the host's first, as the command line picks them."""
    from pyvirt.daemon.qemuconf import host_render_node

    devs = dom.devices
    wanted = [g.gl_rendernode for g in devs.graphics if g.type == "egl-headless" or g.gl_enable]
    wanted += [v.model_rendernode for v in devs.videos if v.model_accel3d and v.driver_name == "vhostuser"]
    if not wanted:
        return []
    fallback = default if default is not None else host_render_node()
    return sorted({node for node in (w or fallback for w in wanted) if node})


def hostdev_nodes(dom: Any, usb_root: Path | None = None, pci_root: Path | None = None,
                  mdev_root: Path | None = None) -> list[str]:
    """The device nodes QEMU opens for `dom`'s host devices, as libvirt's DAC driver chowns
    them: /dev/bus/usb/BBB/DDD of a USB device (found by vendor/product as at start), the
    VFIO group node /dev/vfio/N of a PCI function (a host device's or an NVMe disk's controller)
    or a mediated device."""
    from pyvirt.daemon import hostdev_prep

    out: list[str] = []
    hostdevs = getattr(dom.devices, "hostdevs", None) or []
    nodes = [(pci_root or hostdev_prep.PCI_DEVICES) / name for name, _, _ in hostdev_prep.pci_functions(dom)]
    if not hostdevs and not nodes:
        return out
    found = hostdev_prep.resolve_usb(dom, usb_root or hostdev_prep.USB_DEVICES)
    out.extend(hostdev_prep.resolve_scsi(dom, strict=False).values())  # /dev/sgN, as libvirt's DAC
    for h in hostdevs:
        src = h.source_address
        if h.type == "usb":
            where = (src.bus, src.device) if src is not None else found.get(h.alias or "")
            if where is not None:
                out.append(f"/dev/bus/usb/{where[0]:03d}/{where[1]:03d}")
        elif h.type == "mdev" and src is not None:
            nodes.append((mdev_root or Path("/sys/bus/mdev/devices")) / str(src.uuid))
    for node in nodes:  # PCI functions (host devices, NVMe controllers) and mediated devices
        group = os.path.realpath(node / "iommu_group")
        if os.path.basename(group).isdigit():
            out.append(f"/dev/vfio/{os.path.basename(group)}")
    return out


def _create_missing(path: str) -> None:
    """A file QEMU would create for writing (a chardev's file or log) is created first, by the
    daemon, so that it can be given to QEMU's user and given back (to root) at stop."""
    if os.path.lexists(path):
        return
    with contextlib.suppress(OSError):  # a directory that is not there is QEMU's to report
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))


def relabel(dom: Any, user: QemuUser, guest_dir: Path, files: list[GuestFile] | None = None) -> None:
    """Give `user` what QEMU opens for `dom` (or just `files`: an overlay, a copy target, a new
    medium of a running guest); the owners to restore go to the guest's record first.  Called
    again for a running guest, it adds to the record: what it gave before keeps its true
    original owner."""
    from pyvirt.atomicio import write_atomic

    if not user.relabel:
        return  # dynamic_ownership = 0 or the domain's seclabel: the administrator's to make reachable
    before = _read_record(guest_dir / RECORD) or []
    plan: list[dict[str, Any]] = list(before)
    seen = {(e["dev"], e["ino"]) for e in before}
    for path, readonly, owner, create, device in guest_files(dom) if files is None else files:
        if create:
            _create_missing(path)
        real = os.path.realpath(path)
        try:
            st = os.stat(real)
        except OSError:
            continue  # a missing file is QEMU's (or the source check's) to report
        kinds = stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISSOCK(st.st_mode) \
            or (device and stat.S_ISCHR(st.st_mode))
        if not kinds or (st.st_dev, st.st_ino) in seen:
            continue
        if readonly and owner is None and _readable_by(st, user):
            continue
        seen.add((st.st_dev, st.st_ino))
        to = owner or (user.uid, user.gid)
        plan.append({"path": real, "dev": st.st_dev, "ino": st.st_ino, "uid": st.st_uid, "gid": st.st_gid,
                     "to": list(to)})
    write_atomic(guest_dir / RECORD, json.dumps(plan), durable=False)
    for entry in plan[len(before):]:
        os.chown(entry["path"], *entry["to"], follow_symlinks=False)


def give_back(dom: Any, guest_dir: Path) -> None:
    """A running guest let files go (a detached disk): those of the record that `dom`, its live
    definition now, no longer uses get their owners back at once, not at stop."""
    from pyvirt.atomicio import write_atomic

    plan = _read_record(guest_dir / RECORD)
    if not plan:
        return
    kept = set()
    for f in guest_files(dom):
        with contextlib.suppress(OSError):
            st = os.stat(os.path.realpath(f.path))
            kept.add((st.st_dev, st.st_ino))
    gone = [e for e in plan if isinstance(e, dict) and (e.get("dev"), e.get("ino")) not in kept]
    if gone:
        write_atomic(guest_dir / RECORD, json.dumps([e for e in plan if e not in gone]), durable=False)
        _restore_entries(gone)


def _read_record(path: Path) -> list[dict[str, Any]] | None:
    """The record, if it is the daemon's own (a QEMU that may write in the directory cannot have
    replaced it: sticky bit) and readable; None otherwise."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            log.error("%s is not the daemon's own record: ownership not restored from it", path)
            return None
        plan = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.error("cannot read %s: %s", path, exc)
        return None
    return plan if isinstance(plan, list) else None


def restore(guest_dir: Path) -> None:
    """Give back what :func:`relabel` gave, file by file, only to the very inodes it chowned."""
    _restore_entries(_read_record(guest_dir / RECORD) or [])


def _restore_entries(entries: list[Any]) -> None:
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        try:
            now = os.lstat(entry["path"])
            if (now.st_dev, now.st_ino) != (entry["dev"], entry["ino"]):
                log.warning("%s was replaced while the guest ran: its owner is left as it is", entry["path"])
                continue
            os.chown(entry["path"], entry["uid"], entry["gid"], follow_symlinks=False)
        except (OSError, KeyError, TypeError) as exc:
            log.warning("could not restore the owner of %s: %s", entry.get("path"), exc)
