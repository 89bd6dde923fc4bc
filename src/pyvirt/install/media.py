"""Install media that virt-install prepares on the client: the cloud-init NoCloud seed ISO
and the kernel/initrd of a local --location tree or ISO.

Files are written to a scratch directory the hypervisor can read (virt-install's "boot"
scratchdir), attached to the install-time XML only, and removed once the guest has started:
QEMU keeps them open, and the final XML no longer names them.
"""

from __future__ import annotations

import configparser
import os
import secrets
import shutil
import string
import subprocess
import tempfile
from dataclasses import dataclass

from pyvirt.install.guest import log
from pyvirt.install.subopts import Spec, parse, yesno

CLOUDINIT = Spec("--cloud-init", keys=["root-password-generate", "root-password-file", "disable",
                                       "root-ssh-key", "clouduser-ssh-key", "user-data",
                                       "meta-data", "network-config"],
                 aliases={"ssh-key": "root-ssh-key"})


def scratchdir(uri: str) -> str:
    """Where install media goes: the system boot dir for a root system URI that can write
    it, the user's cache otherwise (a session pyvirtd runs as the same user)."""
    system = "/var/lib/pyvirt/boot"
    if uri.endswith("/system") and os.geteuid() == 0:
        os.makedirs(system, 0o751, exist_ok=True)
        return system
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(cache, "pyvirt", "boot")
    os.makedirs(path, 0o751, exist_ok=True)
    return path


#: the longest first line read from a user's file (a password, an SSH public key: an RSA
#: 16384-bit key is under 3 KiB), so a wrong path (a disk image) is not read whole
MAX_LINE = 64 << 10


def first_line(path: str) -> str:
    """The first line of a text file, without its line ending, read bounded (:data:`MAX_LINE`):
    what --cloud-init and --unattended take from a password or key file, as virtinst reads it."""
    with open(path, encoding="utf-8") as f:
        return f.readline(MAX_LINE).rstrip("\r\n")


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


@dataclass
class CloudInit:
    """--cloud-init's choices, and the NoCloud files they turn into."""

    root_password_generate: bool = False
    root_password_file: str | None = None
    disable: bool = False
    root_ssh_key: str | None = None
    clouduser_ssh_key: str | None = None
    user_data: str | None = None
    meta_data: str | None = None
    network_config: str | None = None
    _password: str | None = None

    @classmethod
    def parse(cls, optstr: str | int) -> CloudInit:
        """Bare --cloud-init means a generated root password and cloud-init disabled after
        the first boot (so the seed's one-shot settings are not re-applied)."""
        if optstr == 1:
            log.warning("Defaulting to --cloud-init root-password-generate=yes,disable=yes")
            return cls(root_password_generate=True, disable=True)
        from pyvirt.install.subopts import check_unknown
        o = parse(CLOUDINIT, str(optstr))
        check_unknown(CLOUDINIT, o)
        ci = cls()
        for key, val in o.items():
            attr = key.replace("-", "_")
            if attr in ("root_password_generate", "disable"):
                setattr(ci, attr, yesno(val or "yes", key))
            else:
                setattr(ci, attr, val)
        return ci

    def generated_password(self) -> str | None:
        """The generated root password (16 letters/digits, shown to the user once)."""
        if not self.root_password_generate:
            return None
        if self._password is None:
            alphabet = string.ascii_letters + string.digits
            self._password = "".join(secrets.choice(alphabet) for _ in range(16))
        return self._password

    def user_data_text(self) -> str:
        """#cloud-config from the options, or the given user-data file verbatim."""
        if self.user_data:
            return _read(self.user_data)
        text = "#cloud-config\n"
        if self.root_password_generate or self.root_password_file:
            pw = first_line(self.root_password_file) if self.root_password_file \
                else self.generated_password()
            text += f"chpasswd:\n  list: |\n    root:{pw}\n"
            text += "  expire: True\n" if self.root_password_generate else "  expire: False\n"
        rootkey = first_line(self.root_ssh_key) if self.root_ssh_key else None
        userkey = first_line(self.clouduser_ssh_key) if self.clouduser_ssh_key else None
        if rootkey or userkey:
            text += "users:\n"
            if rootkey:
                text += f"  - name: root\n    ssh-authorized-keys:\n      - {rootkey}\n"
            if userkey:
                text += f"  - ssh-authorized-keys: {userkey}\n"
        if self.disable:
            text += ('runcmd:\n- echo "Disabled by virt-install" > '
                     "/etc/cloud/cloud-init.disabled\n")
        return text

    def files(self) -> list[tuple[str, str]]:
        """(name on the ISO, content): meta-data and user-data always, network-config if given."""
        out = [("meta-data", _read(self.meta_data) if self.meta_data else ""),
               ("user-data", self.user_data_text())]
        if self.network_config:
            out.append(("network-config", _read(self.network_config)))
        return out

    def scrubbed_user_data(self) -> str:
        """user-data with the root password hidden (for logs and the test suite's print)."""
        import re
        return re.sub(r"root:(.*)", "root:[SCRUBBLED]", self.user_data_text())


def iso_tool() -> str:
    """The first ISO 9660 writer installed (they take the same options for what we need)."""
    for prog in ("xorrisofs", "genisoimage", "mkisofs"):
        if shutil.which(prog):
            return prog
    raise RuntimeError("No ISO creation tool found: install xorriso or genisoimage")


def build_iso(files: list[tuple[str, str | bytes]], dest_dir: str, *, label: str | None,
              suffix: str) -> str:
    """Write `files` (name, text or bytes) into a new Joliet + Rock Ridge ISO under
    `dest_dir`; return its path."""
    fd, iso = tempfile.mkstemp(prefix="virtinst-", suffix=suffix, dir=dest_dir)
    os.close(fd)
    tree = tempfile.mkdtemp(dir=dest_dir)
    try:
        for name, content in files:
            if not name or "/" in name or name in (".", ".."):
                raise RuntimeError(f"Cannot put '{name}' on the ISO: not a plain file name")
            data = content.encode() if isinstance(content, str) else content
            with open(os.path.join(tree, name), "wb") as f:
                f.write(data)
        cmd = [iso_tool(), "-o", iso, "-J", "-input-charset", "utf8", "-rational-rock"]
        if label:
            cmd += ["-V", label]
        cmd.append(tree)
        log.debug("Running iso build command: %s", cmd)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"Building the ISO failed: {proc.stderr.strip()}")
    except BaseException:
        os.unlink(iso)
        raise
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    return iso


# -- --location: kernel and initrd from a local tree or ISO

ARCH_DIRS = {"x86_64": ("amd64", "x86_64"), "i686": ("i386", "i686"), "aarch64": ("arm64", "aarch64"),
             "ppc64le": ("ppc64el", "ppc64le"), "s390x": ("s390x",), "armv7l": ("armhf", "armv7l")}


def _candidates(arch: str) -> list[tuple[str, str]]:
    """(kernel, initrd) paths of the common distribution layouts, most specific first."""
    out: list[tuple[str, str]] = []
    deb_iso = {"x86_64": "amd", "i686": "386", "aarch64": "a64"}.get(arch)
    if deb_iso:  # Debian installer ISO: install.amd/, install.386/, install.a64/
        out.append((f"install.{deb_iso}/vmlinuz", f"install.{deb_iso}/initrd.gz"))
    for d in ARCH_DIRS.get(arch, (arch,)):
        out += [
            (f"main/installer-{d}/current/images/netboot/debian-installer/{d}/linux",
             f"main/installer-{d}/current/images/netboot/debian-installer/{d}/initrd.gz"),
            (f"current/images/netboot/debian-installer/{d}/linux",
             f"current/images/netboot/debian-installer/{d}/initrd.gz"),
            (f"current/legacy-images/netboot/debian-installer/{d}/linux",
             f"current/legacy-images/netboot/debian-installer/{d}/initrd.gz"),
            (f"install/netboot/ubuntu-installer/{d}/linux",
             f"install/netboot/ubuntu-installer/{d}/initrd.gz"),
            (f"boot/{d}/loader/linux", f"boot/{d}/loader/initrd"),          # SUSE
        ]
    out += [
        ("images/pxeboot/vmlinuz", "images/pxeboot/initrd.img"),           # Fedora/RHEL
        ("install/vmlinuz", "install/initrd.gz"),                            # Debian/Ubuntu alternate
        ("casper/vmlinuz", "casper/initrd"),                                 # Ubuntu live
        ("casper/vmlinuz", "casper/initrd.gz"),
        ("casper/vmlinuz", "casper/initrd.lz"),
        ("casper/vmlinuz.efi", "casper/initrd.lz"),
        ("live/vmlinuz", "live/initrd.img"),                                 # Debian live
        ("isolinux/vmlinuz", "isolinux/initrd.img"),
        ("boot/vmlinuz", "boot/initrd.img"),
    ]
    return out


class TreeReader:
    """Read-only access to a directory tree or an ISO image (via xorriso, no loop mount)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.is_iso = os.path.isfile(location)
        self._names: set[str] | None = None

    def _iso_names(self) -> set[str]:
        if self._names is None:
            if not shutil.which("xorriso"):
                raise RuntimeError("Reading ISO install media needs xorriso")
            proc = subprocess.run(["xorriso", "-indev", self.location, "-find", "/", "-type", "f"],
                                  capture_output=True, text=True)
            if proc.returncode:
                raise RuntimeError(f"Could not read ISO '{self.location}': {proc.stderr.strip()[-300:]}")
            names = set()
            for line in proc.stdout.splitlines():
                line = line.strip()
                if line.startswith("'") and line.endswith("'"):
                    line = line[1:-1]
                if line.startswith("/"):
                    names.add(line.lstrip("/"))
            self._names = names
        return self._names

    def exists(self, rel: str) -> bool:
        if self.is_iso:
            return rel.lstrip("/") in self._iso_names()
        return os.path.isfile(os.path.join(self.location, rel))

    def read_text(self, rel: str) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            path = self.fetch(rel, tmp)
            return _read(path)

    def fetch(self, rel: str, dest_dir: str) -> str:
        """Copy `rel` into `dest_dir` under a unique name; return that path."""
        base = os.path.basename(rel)
        fd, dest = tempfile.mkstemp(prefix="virtinst-", suffix=f"-{base}", dir=dest_dir)
        os.close(fd)
        try:
            if self.is_iso:
                os.unlink(dest)
                proc = subprocess.run(["xorriso", "-osirrox", "on", "-indev", self.location,
                                       "-extract", "/" + rel.lstrip("/"), dest],
                                      capture_output=True, text=True)
                if proc.returncode or not os.path.exists(dest):
                    raise RuntimeError(f"Could not extract '{rel}' from '{self.location}'")
                os.chmod(dest, 0o644)
            else:
                shutil.copyfile(os.path.join(self.location, rel), dest)
        except BaseException:
            if os.path.exists(dest):
                os.unlink(dest)
            raise
        return dest


def kernel_paths(reader: TreeReader, arch: str, *, xen: bool = False) -> list[tuple[str, str]] | None:
    """The (kernel, initrd) pairs of a tree virt-install recognises, None for a tree it does
    not (no distribution found).  A .treeinfo tree offers only what its images section for
    the tree's own arch ([general] arch) names, or images-xen for a Xen PV guest, as
    virtinst's get_treeinfo_media reads it: nothing when those names are missing, and the
    files are looked for when fetched.  Other trees are recognised by the first of the
    layouts virt-install knows (Debian/Ubuntu netboot, SUSE loader, casper...) present."""
    cp = _treeinfo(reader)
    if cp is not None and cp.has_option("general", "family"):
        sect = "images-xen" if xen else f"images-{cp.get('general', 'arch', fallback='')}"
        if cp.has_option(sect, "kernel") and cp.has_option(sect, "initrd"):
            return [(cp.get(sect, "kernel"), cp.get(sect, "initrd"))]
        return []
    for kernel, initrd in _candidates(arch):
        if reader.exists(kernel) and reader.exists(initrd):
            return [(kernel, initrd)]
    return None


def _treeinfo(reader: TreeReader) -> configparser.ConfigParser | None:
    for name in (".treeinfo", "treeinfo"):
        if reader.exists(name):
            cp = configparser.ConfigParser(interpolation=None)
            try:
                cp.read_string(reader.read_text(name))
            except configparser.Error:
                return None
            return cp
    return None


def treeinfo_os(reader: TreeReader) -> str | None:
    """The OS short id a tree's .treeinfo names, as virt-install's distro classes read it
    ([general] family and version): Fedora N (fedora-unknown for rawhide or an N osinfo
    does not know), RHEL and CentOS X.Y (the newest X.U with U <= Y that osinfo knows)."""
    import re

    from pyvirt.install import osinfo as osdb
    cp = _treeinfo(reader)
    if cp is None or not cp.has_option("general", "family"):
        return None
    family = cp.get("general", "family")
    version = cp.get("general", "version", fallback="")
    if re.match(".*Fedora.*", family):
        if version and version not in ("development", "rawhide", "Rawhide") \
                and osdb.lookup(f"fedora{version}"):
            return f"fedora{version}"
        return "fedora-unknown"
    prefix = "rhel" if re.match(".*(Red Hat Enterprise Linux|RHEL).*", family) else \
        "centos" if re.match(".*CentOS.*", family) else None
    if prefix is None or not version:
        return None
    parts = version.split(".")
    major = int(parts[0]) if parts[0].isdigit() else 0
    update = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    for upd in range(update, -1, -1):
        if osdb.lookup(f"{prefix}{major}.{upd}"):
            return f"{prefix}{major}.{upd}"
    return None
