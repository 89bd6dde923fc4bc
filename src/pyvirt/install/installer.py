"""Install media and the install/final XML pair (virtinst's Installer).

An install with a phase (cdrom, network boot, kernel/initrd) boots once from XML that
points at the media with on_reboot=destroy, and is defined with the final XML that boots
from disk; imports have only the final XML.
"""

from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree

from pyvirt.install.defaults import disk_defaults, set_defaults
from pyvirt.install.errors import volume_not_created
from pyvirt.install.guest import Guest, log
from pyvirt.install.media import CloudInit
from pyvirt.install.unattended import UnattendedData
from pyvirt.install.xmltree import child, set_text, to_string

if TYPE_CHECKING:
    from pyvirt.install.opts.disk import NewDisk


def _is_url_source(src: etree._Element, path: str) -> bool:
    """Whether a network <source> is the one _cdrom_element made for the URL `path`."""
    url = urlsplit(path)
    host = src.find("host")
    return (src.get("protocol") == url.scheme and src.get("name") == url.path.lstrip("/")
            and host is not None and host.get("name") == url.hostname)


class DistroError(ValueError):
    """The install tree could not be read or names no kernel (virtinst's detect_distro
    failing); virt-install words it 'Error validating install location: ...' when it
    happens while the OS is detected, bare under --test-media-detection."""


@dataclass
class Installer:
    cdrom: str | None = None
    location: str | None = None
    location_kernel: str | None = None
    location_initrd: str | None = None
    # the (kernel, initrd) pairs a recognised tree offers, tried in order when fetched
    tree_kernels: list[tuple[str, str]] | None = None
    bootdev: str | None = None
    kernel: str | None = None
    initrd: str | None = None
    kernel_args: str | None = None
    kernel_args_overwrite: bool = False
    no_install: bool = False
    cloudinit: CloudInit | None = None
    unattended: UnattendedData | None = None
    initrd_inject: list[str] = field(default_factory=list)  # --initrd-inject files
    reinstall_xml: str | None = None  # --reinstall: the domain's definition, kept as final
    detected_os: str | None = None  # the OS a --location tree's .treeinfo names
    location_disc: str | None = None  # a --location ISO osinfo-db identified
    _cdrom_added: bool = False
    _seed_iso: str | None = None
    _install_ram: int = 0  # KiB the install boot needs (network installs)
    _tmpfiles: list[str] = field(default_factory=list)
    _created_vols: list[tuple[str, str]] = field(default_factory=list)

    # -- media facts
    def local_location(self) -> bool:
        return bool(self.location) and "://" not in (self.location or "")

    def location_iso(self) -> str | None:
        """A local ISO given to --location: attached as the install CD, like --cdrom."""
        if self.local_location() and os.path.isfile(self.location or ""):
            return self.location
        return None

    def cdrom_path(self) -> str | None:
        return self.cdrom or self.location_iso()

    @property
    def generated_password(self) -> str | None:
        return self.cloudinit.generated_password() if self.cloudinit else None

    def has_install_phase(self) -> bool:
        if self.no_install:
            return False
        return bool(self.cdrom or self.bootdev or self.location or self.kernel)

    def options_specified(self) -> bool:
        return self.no_install or self.has_install_phase() or bool(self.cloudinit)

    def url_location(self) -> bool:
        from pyvirt.install.urltree import is_url
        return bool(self.location) and is_url(self.location or "")

    def _reader(self) -> object:
        from pyvirt.install.media import TreeReader
        from pyvirt.install.urltree import UrlReader
        loc = self.location or ""
        return UrlReader(loc) if self.url_location() else TreeReader(loc)

    def validate_location(self, arch: str, remote: bool = False, xen: bool = False) -> None:
        """Find the kernel/initrd of a --location tree (local directory or ISO, or an
        http/https/ftp URL) now, so a tree without one is refused before anything is
        created (virt-install's 'Error validating install location'); also read the
        tree's .treeinfo for the OS it holds.  As virtinst's distro store, a tree it
        recognises passes here and its kernel is looked for when fetched (`xen`: a Xen PV
        guest's images)."""
        if self.cdrom and not self.location:
            # virtinst's detect_distro for a CD-ROM: the disc osinfo-db identifies
            if not remote:
                from pyvirt.install.osinfo import identify_media
                found = identify_media(self.cdrom)
                self.detected_os = found[0].name if found else None
            return
        if not (self.local_location() or self.url_location()):
            if self.location:
                raise DistroError(f"Validating install media "
                                  f"'{self.location}' failed: unsupported URL scheme (pyvirt "
                                 "reads --location trees from a local path or an http, https "
                                 "or ftp URL)")
            return
        if remote and self.local_location():
            raise ValueError(f"Cannot access install tree on remote connection: {self.location}")
        from pyvirt.install.media import kernel_paths, treeinfo_os
        loc = self.location or ""
        try:
            reader = self._reader()
            if reader.is_iso and self._identified_iso(reader):
                return
            self.detected_os = treeinfo_os(reader)
            if self.location_kernel:  # looked for when fetched (prepare)
                return
            found = kernel_paths(reader, arch, xen=xen)
        except RuntimeError as exc:
            raise DistroError(str(exc)) from exc
        if found is None:
            why = ""
            if self.url_location() and not reader.can_access():  # type: ignore[attr-defined]
                why = ": The URL could not be accessed, maybe you mistyped?"
            raise DistroError(f"Could not find an installable "
                             f"distribution at URL '{loc}'{why}\n\nThe location must be the root "
                             "directory of an install tree.\nSee virt-install man page for "
                             "various distro examples.")
        self.tree_kernels = found

    def _identified_iso(self, reader: object) -> bool:
        """virtinst's _LibosinfoDistro, first of its distro checks for an ISO: a disc
        osinfo-db identifies names the OS and, unless --location kernel=/initrd= does,
        where its kernel and initrd are."""
        from pyvirt.install.osinfo import identify_media
        found = identify_media(self.location or "")
        if found is None:
            return False
        kernel, initrd = found[1].findtext("kernel"), found[1].findtext("initrd")
        if not (kernel and initrd):  # live media and the like: the usual search
            return False
        self.detected_os = found[0].name
        self.location_disc = self.location
        self.tree_kernels = [(kernel, initrd)]
        return True

    def _can_set_bootorder(self, g: Guest) -> bool:
        os_ = g.view("os").os
        return (not g.is_container() and (os_ is None or os_.kernel is None)
                and not g.root.xpath("devices/*/boot[@order]"))

    @staticmethod
    def _has_boot_order(g: Guest) -> bool:
        """<os> lists boot devices (--boot, or a domain being reinstalled)."""
        os_ = g.view("os").os
        return bool(os_ and os_.boot_devs)

    @staticmethod
    def _boot_order(g: Guest, bootdev: str) -> list[str]:
        order = [bootdev]
        if any(d.get("device", "disk") == "disk" for d in g.devs("disk")) and "hd" not in order:
            order.append("hd")
        return order

    def _postinstall_bootdev(self, g: Guest) -> str:
        if self.cdrom and self.no_install:
            return "cdrom"
        if self.bootdev:
            if any(d.get("device", "disk") == "disk" for d in g.devs("disk")):
                return "hd"
            return self.bootdev
        disks = g.devs("disk")
        device = disks[0].get("device") if disks else None
        return {"cdrom": "cdrom", "floppy": "fd"}.get(device or "", "hd")

    def _cdrom_element(self, g: Guest, path: str) -> etree._Element:
        url = urlsplit(path)
        if url.scheme in ("http", "https", "ftp", "ftps", "tftp") and url.hostname:
            # A remote ISO is not fetched: QEMU reads it over the network itself, so it
            # becomes a network disk the way virtinst describes a URL source.
            disk = etree.Element("disk", type="network", device="cdrom")
            src = child(disk, "source", protocol=url.scheme, name=url.path.lstrip("/"))
            host = etree.SubElement(src, "host", name=url.hostname)
            if url.port:
                host.set("port", str(url.port))
            return disk
        disk = etree.Element("disk", type="file", device="cdrom")
        if g.ci.is_qemu() or g.ci.is_xen():
            from pyvirt.install.opts.disk import _find_volume, _volume_format
            pool, vol = _find_volume(g.ci.conn, path)
            drv = child(disk, "driver", name="qemu")
            fmt = _volume_format(g.ci.conn, pool, vol) if vol else None
            if fmt:
                drv.set("type", fmt)
        child(disk, "source", file=path)
        return disk

    def _add_cdrom(self, g: Guest) -> None:
        path = self.cdrom_path()
        if not path:
            return
        self._cdrom_added = True
        disk = self._cdrom_element(g, path)
        existing = g.devs("disk")
        for d in existing:
            if d.get("device") == "cdrom":
                d.addprevious(disk)
                return
        g.add_device(disk)

    def set_reinstall_defaults(self, g: Guest) -> None:
        """--reinstall: the install media go into the domain as it is (the first cdrom
        drive gets the --cdrom media); no device or OS defaults are added."""
        path = self.cdrom_path()
        if path:
            self._cdrom_added = True
            drive = next((d for d in g.devs("disk") if d.get("device") == "cdrom"), None)
            new = self._cdrom_element(g, path)
            if drive is None:  # a new drive, after the domain's devices
                g.devices.append(new)
                disk_defaults(g, new)
            else:  # the media go into the first drive (virtinst sets its source last)
                drive.set("type", new.get("type", "file"))
                for old in drive.findall("source"):
                    drive.remove(old)
                src = new.find("source")
                if src is not None:
                    drive.append(src)
        if not self._has_boot_order(g) and self._can_set_bootorder(g):
            g.add_boot(self._boot_order(g, self._postinstall_bootdev(g)))

    def set_install_defaults(self, g: Guest) -> None:
        self._add_cdrom(g)
        if not self._has_boot_order(g) and self._can_set_bootorder(g):
            g.add_boot(self._boot_order(g, self._postinstall_bootdev(g)))
        for key, val in (("kernel", self.kernel), ("initrd", self.initrd)):
            if val and self.no_install:
                set_text(g.os, key, val)
        g.set_metadata_osinfo()
        set_defaults(g)
        for disk in g.devs("disk"):
            disk_defaults(g, disk)
        if g.root.find("memory") is None and g.root.find("currentMemory") is not None:
            cur = g.root.find("currentMemory")
            mem = set_text(g.root, "memory", cur.text)
            del mem

    # -- media preparation (files the install XML points at; removed after start)
    def is_treemedia(self) -> bool:
        """virtinst's treemedia: a --location (tree, URL or ISO) or --install kernel/initrd
        boot; its initrd is where unattended scripts and --initrd-inject files go."""
        return bool(self.location or self.kernel or self.initrd)

    def prepare(self, g: Guest) -> None:
        """Fetch a --location's kernel/initrd into the scratch directory, render the
        unattended scripts and put them into the initrd (tree installs) or a generated
        ISO (other installs), build the cloud-init seed ISO."""
        from pyvirt.install import media
        self._network_install_ram(g)
        treemedia = self.is_treemedia()
        scripts = self._unattended_scripts(g, treemedia) if self.unattended else None
        self._fetch_kernel_urls(g)
        dirtree = False
        pairs = [(self.location_kernel, self.location_initrd or "")] if self.location_kernel \
            else self.tree_kernels
        if (self.local_location() or self.url_location()) and pairs is not None \
                and not self.kernel:
            reader = self._reader()
            # virtinst's _check_kernel_pairs: the first pair the tree has, a given one alike
            pair = next((p for p in pairs if reader.exists(p[0])  # type: ignore[attr-defined]
                         and reader.exists(p[1])), None)  # type: ignore[attr-defined]
            if pair is None:
                raise RuntimeError("Couldn't find kernel for install tree.")
            scratch = media.scratchdir(g.ci.uri)
            self.kernel = reader.fetch(pair[0], scratch)
            self._tmpfiles.append(self.kernel)
            self.initrd = reader.fetch(pair[1], scratch)
            self._tmpfiles.append(self.initrd)
            dirtree = not self.url_location() and not reader.is_iso
        if treemedia:
            self._inject_initrd(g, scripts or [])
            cmdline = " ".join(s.cmdline for s in scripts or [] if s.cmdline)
            if scripts is not None:
                self._add_kernel_args(cmdline)
            elif self.url_location():
                self._url_kernel_arg(g)
            if dirtree and not self.kernel_args:
                log.warning("Directory tree installs typically do not work unless extra kernel "
                            "args are passed to point the installer at a network accessible "
                            "install tree.")
        elif scripts:
            files: list[tuple[str, str | bytes]] = [(s.filename, s.content) for s in scripts]
            files += self._download_drivers(g)
            self._seed_iso = media.build_iso(files, media.scratchdir(g.ci.uri), label=None,
                                             suffix="-unattended.iso")
            self._tmpfiles.append(self._seed_iso)
        elif self.cloudinit:
            if "VIRTINST_TEST_SUITE_PRINT_CLOUDINIT" in os.environ and not self.cloudinit.user_data:
                print(self.cloudinit.scrubbed_user_data())
            log.debug("Generated cloud-init userdata: \n%s", self.cloudinit.scrubbed_user_data())
            self._seed_iso = media.build_iso(self.cloudinit.files(), media.scratchdir(g.ci.uri),
                                             label="cidata", suffix="-cloudinit.iso")
            self._tmpfiles.append(self._seed_iso)

    def _unattended_scripts(self, g: Guest, treemedia: bool) -> list:
        """virtinst's _prepare_unattended_scripts: initrd injection for tree installs
        (told the tree's URL when it is a network one), cdrom injection otherwise."""
        from pyvirt.install import unattended
        if treemedia:
            injection = "initrd"
        else:
            if not g.osinfo.is_windows():
                log.warning("Attempting unattended method=cdrom injection for a non-windows OS. "
                            "If this doesn't work, try passing install media to --location")
            injection = "cdrom"
        assert self.unattended is not None
        return unattended.prepare(g.osinfo, self.unattended, arch=g.arch or "",
                                  hostname=g.name or "",
                                  url=self.location if self.url_location() else None,
                                  injection=injection,
                                  disc=self.location_disc if treemedia else self.cdrom)

    def _add_kernel_args(self, extra: str) -> None:
        """Arguments the install itself needs go after --extra-args; a whole command line
        given with kernel_args_overwrite stays as it is."""
        if not extra or self.kernel_args_overwrite:
            return
        self.kernel_args = f"{self.kernel_args} {extra}" if self.kernel_args else extra

    def _inject_initrd(self, g: Guest, scripts: list) -> None:
        """--initrd-inject files, then the unattended scripts, appended to a scratch copy
        of the initrd (a user's own initrd file is copied first, never changed)."""
        from pyvirt.install import media
        from pyvirt.install.inject import Injection, append_to_initrd
        files = [Injection.from_file(p) for p in self.initrd_inject]
        files += [Injection(s.filename, s.content.encode()) for s in scripts]
        if not files:
            return
        if not self.initrd:
            raise RuntimeError("Install method does not support initrd injections.")
        if self.initrd not in self._tmpfiles:
            import shutil
            import tempfile
            fd, copy_ = tempfile.mkstemp(prefix="virtinst-",
                                         suffix="-" + os.path.basename(self.initrd),
                                         dir=media.scratchdir(g.ci.uri))
            os.close(fd)
            self._tmpfiles.append(copy_)
            shutil.copyfile(self.initrd, copy_)
            self.initrd = copy_
        for f in files:
            log.debug("Injecting dst=%s into media=%s", f.name, self.initrd)
        # the scripts hold passwords: only the owner reads the initrd now (a system
        # pyvirtd hands it to QEMU's user for the guest's run, as libvirt does)
        os.chmod(self.initrd, 0o600)
        append_to_initrd(self.initrd, files)

    def _download_drivers(self, g: Guest) -> list[tuple[str, str | bytes]]:
        """The Windows drivers osinfo says an unattended install preloads, fetched from
        their URLs for the unattended ISO (virtinst's download_drivers)."""
        from pyvirt.install import media
        from pyvirt.install.urltree import UrlReader
        out: list[tuple[str, str | bytes]] = []
        scratch = media.scratchdir(g.ci.uri)
        for url in g.osinfo.pre_installable_driver_urls(g.arch or ""):
            reader, name = UrlReader.for_file(url)
            path = reader.fetch(name, scratch)
            try:
                with open(path, "rb") as f:
                    out.append((name, f.read()))
            finally:
                os.unlink(path)
        return out

    def _network_install_ram(self, g: Guest) -> None:
        """An installer that fetches its packages (a tree install, not an ISO) needs the
        RAM osinfo names for network installs (virtinst's _alter_install_resources)."""
        if not self.location or self.location_iso():
            return
        from pyvirt.install import osinfo as osdb
        osv = g.osinfo if g.os_set else osdb.lookup(self.detected_os or "") or g.osinfo
        ram = (osv.network_install_ram(g.arch or "") or 0) // 1024
        cur = g.root.findtext("currentMemory")
        if not ram or not cur or ram <= int(cur):
            return
        log.warning("Overriding memory to %s MiB needed for %s network install.",
                    ram // 1024, g.osinfo.name)
        self._install_ram = ram

    def _set_install_ram(self, root: etree._Element) -> None:
        """The install boot only gets the network-install RAM; the final XML keeps the
        user's memory."""
        if not self._install_ram:
            return
        set_text(root, "currentMemory", self._install_ram)
        mem = root.findtext("memory")
        if mem and int(mem) < self._install_ram:
            set_text(root, "memory", self._install_ram)

    def _url_kernel_arg(self, g: Guest) -> None:
        """A network tree's installer is told where the tree is (virt-install's kernel URL
        argument: inst.repo=, method=, install= per the OS), unless kernel_args_overwrite
        set the whole command line."""
        if self.kernel_args_overwrite:
            return
        from pyvirt.install import osinfo as osdb
        osv = osdb.lookup(self.detected_os) if self.detected_os else None
        arg = (osv or g.osinfo).kernel_url_arg()
        if arg:
            extra = f"{arg}={self.location}"
            self.kernel_args = f"{self.kernel_args} {extra}" if self.kernel_args else extra

    def _fetch_kernel_urls(self, g: Guest) -> None:
        """--install kernel=,initrd=: fetched into the scratch directory first, URLs and
        local files alike (virtinst's DirectFetcher copies a local kernel too, so the
        install boots from its own copy and a missing file fails before anything is
        defined)."""
        from pyvirt.install import media
        from pyvirt.install.urltree import UrlReader, is_url
        if self.no_install:
            return
        for attr in ("kernel", "initrd"):
            url = getattr(self, attr)
            if not url:
                continue
            scratch = media.scratchdir(g.ci.uri)
            if is_url(url):
                reader, name = UrlReader.for_file(url)
                path = reader.fetch(name, scratch)
            else:
                try:
                    path = media.TreeReader(os.path.dirname(url) or ".").fetch(
                        os.path.basename(url), scratch)
                except OSError as exc:
                    raise RuntimeError(f"Couldn't acquire file {url}: {exc}") from exc
            self._tmpfiles.append(path)
            setattr(self, attr, path)

    def cleanup_install_media(self, g: Guest) -> None:
        """Remove the scratch files (the running guest keeps them open)."""
        del g
        for path in self._tmpfiles:
            log.debug("Removing %s", path)
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._tmpfiles = []

    # -- storage for --disk size=
    def build_storage(self, g: Guest) -> None:
        """Create the volumes --disk size= asked for, through the connection's storage API,
        remembering them so a failed define removes them again."""
        from pyvirt.api import ErrorCode, PyvirtError
        from pyvirt.install.opts.disk import _pool_for_dir
        conn = g.ci.conn
        for new in g.flags.extra.get("new_disks", []):
            if not new.pool and new.folder:
                pool = _pool_for_dir(conn, new.folder, create=True)
                if pool is None:
                    raise RuntimeError(f"Don't know how to create storage for path '{new.name}'. "
                                       "Use libvirt APIs to manage the parent directory as a "
                                       "pool first.")
                new.pool = pool.name
            if new.pool == "default":
                pool = self._ensure_default_pool(conn, new.path)
                if pool is None:
                    log.debug("No 'default' pool and none could be made; not creating %s", new.path)
                    continue
                new.pool = pool
            try:
                if new.backing_store:
                    conn.create_volume_xml(new.pool, _overlay_request(conn, new))
                else:
                    conn.create_volume(new.pool, new.name, int(new.size_bytes), format=new.format,
                                       allocation=0 if new.sparse else int(new.size_bytes))
            except PyvirtError as exc:
                if exc.code == ErrorCode.NO_SUPPORT:
                    log.debug("Connection cannot create volumes; not creating %s", new.path)
                    continue
                raise volume_not_created(new.name, exc) from None
            self._created_vols.append((new.pool, new.name))

    @staticmethod
    def _ensure_default_pool(conn: object, path: str) -> str | None:
        """The default pool's name, as virtinst's StoragePool.build_default_pool finds it: the
        pool named 'default', else the one whose target is the default folder; when neither
        exists, 'default' is made at that folder as StoragePool.install(build=True,
        create=True, autostart=True) makes it: defined, built (no flags), started (no
        flags), autostarted; a failed step is virtinst's "Couldn't create default storage
        pool" (pyvirtd already made its own on first use).  None only where the connection
        has no pool API."""
        from xml.sax.saxutils import escape

        from pyvirt.api import ErrorCode, PyvirtError
        from pyvirt.install.opts.disk import _pool_by_name, _pool_for_dir
        if _pool_by_name(conn, "default") is not None:
            return "default"
        folder = os.path.dirname(path)
        found = _pool_for_dir(conn, folder, create=False)
        if found is not None:
            return found.name
        try:
            conn.define_pool(f"<pool type='dir'><name>default</name><target><path>{escape(folder)}"  # type: ignore[attr-defined]
                             "</path></target></pool>")
        except (AttributeError, NotImplementedError):
            return None
        except PyvirtError as exc:
            if exc.code == ErrorCode.NO_SUPPORT:
                log.debug("Could not make the default pool: %s", exc)
                return None
            raise RuntimeError(f"Couldn't create default storage pool '{folder}': "
                               f"Could not define storage pool: {exc}") from None
        for step, words in ((lambda: conn.build_pool("default"), "build"),  # type: ignore[attr-defined]
                            (lambda: conn.start_pool("default"), "start"),  # type: ignore[attr-defined]
                            (lambda: conn.set_pool_autostart("default", True), "set pool autostart flag")):  # type: ignore[attr-defined]
            try:
                step()
            except PyvirtError as exc:
                with contextlib.suppress(PyvirtError):
                    conn.undefine_pool("default")  # type: ignore[attr-defined]
                what = f"{words} storage pool" if words != "set pool autostart flag" else words
                raise RuntimeError(f"Couldn't create default storage pool '{folder}': "
                                   f"Could not {what}: {exc}") from None
        return "default"

    def cleanup_created(self, g: Guest) -> None:
        """After a failed install: delete what build_storage created, and the media."""
        for pool, name in self._created_vols:
            log.debug("Removing volume %s/%s", pool, name)
            try:
                g.ci.conn.delete_volume(pool, name)
            except Exception as exc:
                log.error("Failed to remove disk '%s': %s", name, exc)
        self._created_vols = []
        self.cleanup_install_media(g)

    # -- the two XML documents
    def _seed_cdrom(self, g: Guest, root: etree._Element) -> etree._Element | None:
        if not self._seed_iso:
            return None
        path = self._shown(self._seed_iso)
        disk = self._cdrom_element(g, self._seed_iso)
        disk.find("source").set("file", path)
        drv = disk.find("driver")
        if drv is not None and drv.get("type") is None and (
                os.environ.get("VIRTINST_TEST_SUITE") or g.ci.is_remote()):
            # virtinst's _upload_media: a remote connection (and its test suite, always)
            # gets the seed ISO uploaded as a raw volume of the boot-scratch pool
            drv.set("type", "raw")
        devices = root.find("devices")
        devices.append(disk)
        disk_defaults(_Shadow(g, root), disk)
        return disk

    def _shown(self, path: str) -> str:
        """A fetched file's path as the XML shows it: under the test suite virt-install
        prints /VIRTINST-TESTSUITE/NAME for the files it made."""
        if path in self._tmpfiles and os.environ.get("VIRTINST_TEST_SUITE"):
            return os.path.join("/VIRTINST-TESTSUITE", os.path.basename(path).split("-", 2)[-1])
        return path

    @staticmethod
    def _manual(g: Guest, root: etree._Element) -> str:
        """--xml edits run last, on each document written."""
        for action in g.flags.extra.get("xml_actions", []):
            action(root)
        return to_string(root)

    def build_xml(self, g: Guest) -> tuple[str | None, str]:
        start, final_xml = self._build_xml(g)
        final_xml = self.reinstall_xml or final_xml
        # logged as virtinst's Installer._build_xml logs them (what --dry-run --debug shows)
        log.debug("Generated initial_xml: %s", ("\n" + start) if start else "None required")
        log.debug("Generated final_xml: \n%s", final_xml)
        return start, final_xml

    def _build_xml(self, g: Guest) -> tuple[str | None, str]:
        final = copy.deepcopy(g.root)
        if not (self.has_install_phase() or self.cloudinit or self.unattended):
            return None, self._manual(g, final)
        initial = copy.deepcopy(g.root)
        ig = _Shadow(g, initial)
        # virt-install edits an <on_reboot> the options made in place, else appends one to
        # the built XML (so it lands after <devices>)
        reboot = initial.find("on_reboot")
        if reboot is None:
            reboot = etree.SubElement(initial, "on_reboot")
        reboot.text = "destroy"
        self._set_install_ram(initial)
        # virtinst sets the kernel first, which leaves no boot order; the kernel elements
        # are added after the order is written (the model would move them back into place)
        if self.bootdev and not (self.kernel and not self.no_install) and self._can_set_bootorder(ig):
            # virtinst's _set_bootorder on the copy parsed from the final XML: the old <boot>
            # elements are removed and the new ones appended, after bootmenu, bios, smbios
            ig.add_boot(self._boot_order(ig, self.bootdev), at_end=True)
        else:
            ig.add_boot([])
        if self.kernel and not self.no_install:
            # set on virtinst's copy parsed from the final XML: a new element goes last in
            # <os> (after bootmenu, bios, smbios), one the options made is edited in place
            os_el = initial.find("os")
            for tag, value in (("kernel", self._shown(self.kernel)), ("initrd", self.initrd and
                               self._shown(self.initrd)), ("cmdline", self.kernel_args)):
                if value:
                    el = os_el.find(tag)
                    (el if el is not None else etree.SubElement(os_el, tag)).text = value
        if self.cloudinit:
            self._smbios_nocloud(ig)
        # the generated ISO (cloud-init seed or unattended scripts) is in both documents,
        # emptied in the final one (virtinst's _remove_unattended_install_cdrom_device)
        seed = self._seed_cdrom(g, initial)
        if seed is not None:
            fseed = self._seed_cdrom(_Shadow(g, final), final)
            if fseed is not None:
                for tag in ("source", "driver"):
                    if fseed.find(tag) is not None:
                        fseed.remove(fseed.find(tag))
        cdpath = self.cdrom_path()
        if self._cdrom_added and not g.osinfo.is_windows():
            for d in final.findall("devices/disk"):
                src = d.find("source")
                if d.get("device") == "cdrom" and src is not None and cdpath and (
                        src.get("file") == cdpath or _is_url_source(src, cdpath)):
                    d.remove(src)
                    d.set("type", "file")  # an empty drive, even where the media was a URL
                    drv = d.find("driver")
                    if drv is not None:  # an empty drive has no format
                        d.remove(drv)
                    break
        return self._manual(g, initial), self._manual(g, final)

    @staticmethod
    def _smbios_nocloud(g: Guest) -> None:
        """Point cloud-init at the NoCloud seed through the SMBIOS serial (ds=nocloud)."""
        if not (g.ci.is_qemu() or g.ci.is_test()):
            return
        if not (g.is_x86() or g.is_arm_machvirt()):
            return
        smb = g.root.find("os/smbios")
        if smb is not None and smb.get("mode") not in (None, "sysinfo"):
            return
        from pyvirt.install import modelopt
        from pyvirt.xml.domain import Sysinfo, SysinfoEntry, SysinfoSection
        from pyvirt.xml.mapping import build_for
        from pyvirt.xml.profiles import VIRTINST

        info = next((si for si in g.root.findall("sysinfo") if si.get("type") == "smbios"), None)
        obj = modelopt.read(info, Sysinfo) if info is not None else Sysinfo(type="smbios")
        obj.system = obj.system or SysinfoSection()
        if any(e.name == "serial" for e in obj.system.entries):
            return  # the user's own serial stays (virtinst's set_smbios_serial_cloudinit)
        child(g.os, "smbios", mode="sysinfo")
        obj.system.entries.append(SysinfoEntry(name="serial", value="ds=nocloud"))
        if info is not None:
            modelopt.write(info, obj)
            return
        # virt-install adds it to the parsed install XML, so it lands after <devices>
        # (and whatever follows them), before the on_* events.
        info = build_for(obj, "sysinfo", VIRTINST)
        anchor = next((e for e in g.root if e.tag in ("on_poweroff", "on_reboot", "on_crash")), None)
        if anchor is not None:
            anchor.addprevious(info)
        else:
            g.root.append(info)


class _Shadow(Guest):
    """A Guest view over another tree (the install-time copy)."""

    def __init__(self, g: Guest, root: etree._Element) -> None:  # noqa: D107
        self.__dict__.update(g.__dict__)
        self.root = root


def _overlay_request(conn: object, new: NewDisk) -> str:
    """The <volume> document of a new volume over a backing image (--disk backing_store=),
    as virtinst's StorageVolume writes it."""
    from pyvirt.xml.volume import BackingStore, VolumeDef
    doc = VolumeDef(name=new.name, capacity=int(new.size_bytes),
                    allocation=0 if new.sparse else int(new.size_bytes), format=new.format,
                    backing=BackingStore(new.backing_store, new.backing_format_of(conn)))
    return doc.to_request_xml()
