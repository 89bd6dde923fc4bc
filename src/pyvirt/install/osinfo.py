"""OS defaults from osinfo-db, read directly with lxml.

Why not libosinfo through GObject introspection: it pulls PyGObject and the typelib into
a CLI that should start fast and run in a bare venv; the few facts virt-install needs
(ids, family, PCI devices, resources, firmware, trees) are plain elements in
/usr/share/osinfo/os/*/*.xml.  A cheap text scan indexes short-ids and ids; only the
OS asked for (and what it derives from) is parsed.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from pyvirt.xml.safe import safe_parse

OSINFO_DIRS = [os.environ.get("OSINFO_SYSTEM_DIR", "/usr/share/osinfo"), "/usr/share/osinfo"]
_ID_RE = re.compile(rb'<os id="([^"]+)"')
_SHORT_RE = re.compile(rb"<short-id>([^<]+)</short-id>")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@functools.lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Path], dict[str, Path]]:
    by_short: dict[str, Path] = {}
    by_id: dict[str, Path] = {}
    for base in dict.fromkeys(OSINFO_DIRS):
        root = Path(base) / "os"
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*/*.xml")):
            data = path.read_bytes()
            m = _ID_RE.search(data)
            if not m:
                continue
            by_id.setdefault(m.group(1).decode(), path)
            for s in _SHORT_RE.findall(data):
                by_short.setdefault(s.decode(), path)
    return by_short, by_id


@functools.cache
def _load(path: Path) -> etree._Element:
    return safe_parse(path.read_bytes()).find("os")


@dataclass
class OsVariant:
    """One OS entry (or virt-install's synthetic 'generic')."""

    name: str
    full_id: str | None = None
    all_names: list[str] = field(default_factory=list)
    family: str = ""
    distro: str = ""
    label: str = ""
    _nodes: list[etree._Element] = field(default_factory=list, repr=False)
    path: Path | None = field(default=None, repr=False)
    # devices the drivers an unattended Windows install preloads make usable (virtinst's
    # Guest.add_extra_drivers): counted by the guest's virtio disk/net/scsi/serial/input checks
    extra_device_ids: frozenset[str] = frozenset()

    # -- relationships: this OS first, then derives-from/clones ancestors
    def _chain(self) -> list[etree._Element]:
        return self._nodes

    def is_generic(self) -> bool:
        return self.name == "generic"

    def is_linux_generic(self) -> bool:
        return bool(re.match(r"linux\d\d\d\d", self.name))

    def install_script_ids(self) -> list[str]:
        """Ids of the OS's own unattended-install scripts (kickstart, preseed, …)."""
        return [sc.get("id") or "" for node in self._chain()[:1]
                for sc in node.findall("installer/script")]

    def node(self) -> etree._Element | None:
        """The OS's own <os> element (None for 'generic')."""
        return self._nodes[0] if self._nodes else None

    def install_script_profiles(self) -> list[str]:
        """Profiles (jeos, desktop, …) of the OS's own unattended-install scripts."""
        out = []
        for node in self._chain()[:1]:
            for sc in node.findall("installer/script"):
                out.append((sc.get("id") or "").rstrip("/").rsplit("/", 1)[-1])
        return sorted(set(out))

    def is_windows(self) -> bool:
        return self.family in ("win9x", "winnt", "win16")

    def get_clock(self) -> str:
        return "localtime" if self.is_windows() or self.family == "solaris" else "utc"

    def device_ids(self) -> set[str]:
        ids: set[str] = set()
        removed: set[str] = set()
        for node in self._chain():
            for dev in node.findall("devices/device"):
                did = dev.get("id", "")
                if dev.get("supported") == "false" or dev.get("removed") == "true":
                    removed.add(did)
                elif did not in removed:
                    ids.add(did)
        return ids

    def _has(self, *ids: str, extra: bool = False) -> bool:
        have = self.device_ids() | (self.extra_device_ids if extra else frozenset())
        return any(i in have for i in ids)

    def supports_virtiodisk(self, extra: bool = True) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1001", "http://pcisig.com/pci/1af4/1042",
                         extra=extra)

    def supports_virtioscsi(self) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1004", "http://pcisig.com/pci/1af4/1048",
                         extra=True)

    def supports_virtionet(self, extra: bool = True) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1000", "http://pcisig.com/pci/1af4/1041",
                         extra=extra)

    def supports_virtiorng(self) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1005", "http://pcisig.com/pci/1af4/1044",
                         extra=True)

    def supports_virtiogpu(self) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1050")

    def supports_virtioballoon(self) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1002", "http://pcisig.com/pci/1af4/1045",
                         extra=True)

    def supports_virtioserial(self) -> bool:
        if self._has("http://pcisig.com/pci/1af4/1003", "http://pcisig.com/pci/1af4/1043",
                     extra=True):
            return True
        return self.related_to("rhel6.0")

    def supports_virtioinput(self) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1052", extra=True)

    def supports_usb3(self) -> bool:
        return self._has("http://pcisig.com/pci/1b36/0004")

    def supports_virtio1(self) -> bool:
        return self._has("http://pcisig.com/pci/1af4/1041")

    def supports_chipset_q35(self) -> bool:
        if self.supports_virtionet(extra=False) and not self.supports_virtio1():
            return False
        return self._has("http://qemu.org/chipset/x86/q35")

    def related_to(self, short_id: str) -> bool:
        """This OS or any OS it derives from, clones or upgrades has `short_id`."""
        seen: set[str] = set()
        todo = list(self._nodes[:1])
        while todo:
            node = todo.pop()
            if short_id in [s.text for s in node.findall("short-id")]:
                return True
            for rel in ("derives-from", "clones", "upgrades"):
                for r in node.findall(rel):
                    rid = r.get("id", "")
                    path = _index()[1].get(rid)
                    if path is not None and rid not in seen:
                        seen.add(rid)
                        todo.append(_load(path))
        return False

    def requires_firmware_efi(self, arch: str) -> bool:
        efi, bios = False, True
        for node in self._chain():
            for fw in node.findall("firmware"):
                if fw.get("arch") != arch:
                    continue
                supported = fw.get("supported", "true") != "false"
                if fw.get("type") == "efi":
                    efi = supported
                elif fw.get("type") == "bios":
                    bios = supported
            if node.findall("firmware"):
                break
        return (efi and not bios) or self.name == "win11"

    _RESOURCE_KEYS = ("n-cpus", "cpu", "ram", "storage")

    @staticmethod
    def _own_resources(node: etree._Element, kind: str) -> list[tuple[str, bool, dict[str, int]]]:
        """One OS's own `kind` entries, without inheritance: (arch, inherit, key -> value, -1 unset).
        An entry exists where `<resources>` has a `<kind>` child, or says inherit="true"."""
        out = []
        for res in node.findall("resources"):
            inherit = res.get("inherit") == "true"
            part = res.find(kind)
            if part is None and not inherit:
                continue
            vals = {k: int(part.findtext(k) or -1) if part is not None else -1 for k in OsVariant._RESOURCE_KEYS}
            out.append((res.get("arch") or "all", inherit, vals))
        return out

    def _resources(self, kind: str) -> list[tuple[str, dict[str, int]]]:
        """libosinfo's rule (osinfo_os_get_*_resources): only the OS's own `kind` entries count; an
        entry marked inherit="true" takes the values it lacks from the OSes it derives from or clones,
        for the same arch. (arch, key -> value, -1 unset), in document order."""
        if not self._nodes:
            return []
        entries = self._own_resources(self._nodes[0], kind)
        for ancestor in self._chain()[1:]:
            theirs = self._own_resources(ancestor, kind)
            for own_arch, inherit, vals in entries:
                if not inherit:
                    continue
                for their_arch, _inherit, their_vals in theirs:
                    if their_arch == own_arch:
                        for k, v in vals.items():
                            if v == -1:
                                vals[k] = their_vals[k]
        return [(own_arch, vals) for own_arch, _inherit, vals in entries]

    def _resource(self, kind: str, key: str, arch: str) -> int | None:
        """virtinst's lookup over libosinfo's list: this arch's value, else arch "all"'s; -1 is unset."""
        by_arch = dict(self._resources(kind))  # the last per arch, as virtinst's dict
        for check in (arch, "all"):
            val = by_arch.get(check, {}).get(key, -1)
            if val != -1:
                return val if val > 0 else None
        return None

    def minimum(self, key: str, arch: str) -> int | None:
        return self._resource("minimum", key, arch)

    def recommended(self, key: str, arch: str) -> int | None:
        val = self._resource("recommended", key, arch)
        if val:
            return val
        low = self.minimum(key, arch)
        return low * 2 if low else None

    def network_install_ram(self, arch: str) -> int | None:
        """virtinst's get_network_install_required_ram: the first entry for this arch or "all"."""
        for own_arch, vals in self._resources("network-install"):
            if own_arch in (arch, "all"):
                return vals["ram"] if vals["ram"] > 0 else None
        return None

    def tree_url(self, arch: str, profile: str | None = None) -> str | None:
        """virtinst's get_location: the `arch` tree whose variant's name holds the name
        the unattended profile stands for (jeos: Server, desktop: Workstation, none:
        Everything), else the last tree for `arch`."""
        want = {"jeos": "Server", "desktop": "Workstation", None: "Everything"}.get(profile, profile)
        node = self.node()
        if node is None:
            return None
        names = {v.get("id"): next((n.text or "" for n in v.findall("name")
                                    if n.get(_XML_LANG) is None), "")
                 for v in node.findall("variant")}
        fallback = None
        for tree in node.findall("tree"):
            if tree.get("arch") != arch:
                continue
            fallback = tree
            if any(want in names.get(v.get("id"), "") for v in tree.findall("variant")):
                return tree.findtext("url")
        return fallback.findtext("url") if fallback is not None else None

    def kernel_url_arg(self) -> str | None:
        """The kernel argument naming a network install tree (osinfo's
        kernel-url-argument, inherited; SUSE: install, RH: inst.repo by default)."""
        for node in self._chain():
            arg = node.findtext("kernel-url-argument")
            if arg:
                return arg
        if self.distro in ("caasp", "sle", "sled", "sles", "opensuse"):
            return "install"
        return "inst.repo" if self.distro in ("centos", "rhel", "fedora") else None

    def pre_installable_drivers(self, arch: str) -> list[etree._Element]:
        """<driver pre-installable="true"> entries for `arch`, from the OS file and its
        .d folder (osinfo-db keeps Windows' driver lists there)."""
        nodes = list(self._nodes[:1])
        if self.path is not None:
            extra = self.path.with_name(self.path.stem + ".d")
            for p in sorted(extra.glob("*.xml")) if extra.is_dir() else []:
                try:
                    root = safe_parse(p.read_bytes())
                except Exception:
                    continue
                nodes += [n for n in root.iter("os") if n.get("id") == self.full_id]
        return [d for n in nodes for d in n.findall("driver")
                if d.get("arch") == arch and d.get("pre-installable") == "true"]

    def pre_installable_driver_urls(self, arch: str) -> list[str]:
        """Where each file of those drivers is (virtinst's get_pre_installable_drivers_location)."""
        return [f"{d.get('location', '').rstrip('/')}/{f.text}"
                for d in self.pre_installable_drivers(arch) for f in d.findall("file") if f.text]

    def has_trees(self) -> bool:
        return bool(self._nodes and self._nodes[0].findall("tree"))


def _variant(path: Path) -> OsVariant:
    node = _load(path)
    chain = [node]
    seen = {node.get("id")}
    todo = [node]
    while todo:
        cur = todo.pop(0)
        for rel in ("derives-from", "clones"):
            for r in cur.findall(rel):
                rid = r.get("id", "")
                p = _index()[1].get(rid)
                if p is not None and rid not in seen:
                    seen.add(rid)
                    n = _load(p)
                    chain.append(n)
                    todo.append(n)
    shorts = [s.text or "" for s in node.findall("short-id")]
    label = next((n.text or "" for n in node.findall("name") if n.get(_XML_LANG) is None), "")
    return OsVariant(name=shorts[0], full_id=node.get("id"), all_names=sorted(set(shorts)),
                     family=node.findtext("family", ""), distro=node.findtext("distro", ""),
                     label=label, _nodes=chain, path=path)


GENERIC = OsVariant(name="generic", all_names=["generic"], label="Generic OS")


def lookup(name: str) -> OsVariant | None:
    """By short-id (or 'generic'); None when unknown."""
    if name == "generic":
        return GENERIC
    path = _index()[0].get(name)
    return _variant(path) if path else None


def lookup_id(full_id: str) -> OsVariant | None:
    path = _index()[1].get(full_id)
    return _variant(path) if path else None


def all_short_ids() -> list[str]:
    return sorted(_index()[0])


def list_lines() -> list[str]:
    """``--osinfo list`` as virtinst prints it: one line per OS, its short ids joined by
    ", " (``ubuntu10.10, ubuntumaverick``)."""
    by_path: dict[object, set[str]] = {}
    first: dict[object, str] = {}  # an OS's name: its first short-id (virtinst's _OsVariant.name)
    for name, path in _index()[0].items():
        by_path.setdefault(path, set()).add(name)
        first.setdefault(path, name)
    rows = [(first[p], ", ".join(sorted(names))) for p, names in by_path.items()]
    rows.append(("generic", "generic"))  # virtinst's synthetic OS, listed with the others

    def alphanum(name: str) -> list[int | str]:
        # virtinst's list_os order: natural sort with numbers reversed (newest first)
        return [-int(c) if c.isdigit() else c.lower() for c in re.split("([0-9]+)", name)]
    return [line for _, line in sorted(rows, key=lambda row: alphanum(row[0]))]


def print_list() -> None:
    """virtinst's check_osinfo_list output (virt-install and virt-xml)."""
    for line in list_lines():
        print(line)
    print()
    print("You can see additional information with:\n\n  osinfo-query os\n")


def install_script(script_id: str) -> etree._Element | None:
    """The <install-script> element with this id, from osinfo-db's install-script folder."""
    needle = f'id="{script_id}"'.encode()
    paths = [p for d in dict.fromkeys(OSINFO_DIRS) for p in Path(d, "install-script").rglob("*.xml")]
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if needle in data:
            root = safe_parse(data)
            for el in root.iter("install-script"):
                if el.get("id") == script_id:
                    return el
    return None


# -- install media identified by their ISO 9660 header (libosinfo's identify_media)

_SECTOR = 2048
_ISO_FIELDS = {"system-id": (8, 40), "volume-id": (40, 72), "publisher-id": (318, 446),
               "application-id": (574, 702)}


def iso_info(path: str) -> dict[str, str] | None:
    """The primary volume descriptor's ids and the volume size of a bootable ISO, as
    libosinfo's osinfo_media_create_from_location reads them; None for a file that is no
    ISO 9660 image or has no El Torito boot record (libosinfo: 'not bootable')."""
    try:
        with open(path, "rb") as f:
            f.seek(16 * _SECTOR)
            pvd, boot = f.read(_SECTOR), f.read(_SECTOR)
    except OSError:
        return None
    if len(boot) < _SECTOR or pvd[:6] != b"\x01CD001":
        return None
    if boot[:6] != b"\x00CD001" or not boot[7:39].startswith(b"EL TORITO SPECIFICATION"):
        return None
    out = {}
    for key, (start, end) in _ISO_FIELDS.items():
        val = pvd[start:end].decode("ascii", "replace").rstrip(" \0")
        if val:
            out[key] = val
    blocks = int.from_bytes(pvd[80:84], "little")
    out["volume-size"] = str(blocks * int.from_bytes(pvd[128:130], "little"))
    return out


def _media_matches(media: etree._Element, info: dict[str, str]) -> bool:
    """A database media entry against a disc: every id it names is a regular expression
    found in the disc's (GRegex, unanchored); a volume size, when named, is equal; an
    entry naming nothing matches nothing."""
    iso = media.find("iso")
    if iso is None:
        return False
    named = False
    for key in _ISO_FIELDS:
        pattern = iso.findtext(key)
        if pattern is None:
            continue
        named = True
        value = info.get(key)
        try:
            if value is None or not re.search(pattern, value):
                return False
        except re.error:
            return False
    size = iso.findtext("volume-size")
    if size and size.strip().lstrip("-").isdigit() and int(size) > 0:
        named = True
        if info.get("volume-size") != size.strip():
            return False
    return named


def identify_media(path: str) -> tuple[OsVariant, etree._Element] | None:
    """The OS and the database media entry an install ISO is (virtinst's guess_os_by_iso).
    Where several entries match, libosinfo leaves the choice unspecified; the last match
    over the OS files in name order is taken (what libosinfo 1.10 picks for the ambiguous
    Fedora server DVD/netinst and Windows 10/11 labels), rolling releases last."""
    info = iso_info(path)
    if info is None:
        return None
    found: list[tuple[Path, etree._Element]] = []
    rolling: list[tuple[Path, etree._Element]] = []
    for path_ in sorted(set(_index()[1].values())):
        if b"<iso>" not in path_.read_bytes():
            continue
        node = _load(path_)
        if node is None:
            continue
        bucket = rolling if node.findtext("release-status") == "rolling" else found
        bucket += [(path_, m) for m in node.findall("media") if _media_matches(m, info)]
    match = (found or rolling or [None])[-1]
    if match is None:
        return None
    return _variant(match[0]), match[1]


def media_entity(osv: OsVariant, media: etree._Element, path: str) -> list[tuple[str, str]]:
    """An identified disc as libosinfo's media entity (what an install script's media/...
    reads): the database entry's facts with their defaults, then the disc's own ids."""
    node = osv.node()
    index = node.findall("media").index(media) if node is not None and media in node.findall("media") else 0
    out = [("id", f"{osv.full_id}:{index}"),
           ("installer-script", media.get("installer-script", "true")),
           ("installer-reboots", media.get("installer-reboots", "1")),
           ("installer", media.get("installer", "true")),
           ("architecture", media.get("arch", "")),
           ("eject-after-install", "true"), ("bootable", "true")]
    out += [("variant", v.get("id", "")) for v in media.findall("variant")]
    out.append(("url", media.findtext("url") or path))
    out += [(k, media.findtext(k) or "") for k in ("kernel", "initrd") if media.findtext(k)]
    out.append(("live", media.get("live", "false")))
    out += sorted((iso_info(path) or {}).items())
    return out
