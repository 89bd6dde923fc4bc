"""--unattended: osinfo-db's install scripts, chosen, configured and rendered as virt-install
4.1 does through libosinfo.

Why not libosinfo itself: pyvirt reads osinfo-db directly (see osinfo.py); an install script
is an XSLT stylesheet inside /usr/share/osinfo/install-script/*/*.xml, applied to a small
document libosinfo builds from the script, the OS and an "install config" (passwords,
user, hostname, locale...).  This module builds that same document and applies the
stylesheet with lxml's XSLT under an access control that denies every file and network
access (the stylesheets need neither; a hostile osinfo-db could otherwise read or write
files through document() / exsl:document).

The rules carried over from virtinst (install/unattended.py) and libosinfo:
- the scripts are the OS's own (<installer><script id=.../>), grouped by profile; a given
  profile must exist, else 'desktop' when present, else the first profile name;
- the install config starts from libosinfo's defaults (keyboard and language en_US,
  timezone America/New_York), then: user login (the option, else the host user unless
  root) and real name, passwords (first line of their files; a required one missing is
  refused), target disk (/dev/vda when the OS has virtio-blk, else /dev/sda; C for
  Windows), arch, hostname (the domain name, odd characters made '-'), timezone from
  /etc/localtime, language and keyboard from the locale, the installation URL for a
  network tree, reg-login and product key;
- a config value passes through the script parameter's value-map (osinfo datamaps, e.g.
  en_US -> us for X11 keyboards) when the map knows it;
- the kernel command line comes from the same stylesheet applied to a <command-line>
  document.
"""

from __future__ import annotations

import copy
import functools
import getpass
import locale
import os
import pwd
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from pyvirt.install import osinfo as osdb
from pyvirt.install.guest import log
from pyvirt.install.media import first_line
from pyvirt.install.subopts import Spec, check_unknown, parse

UNATTENDED = Spec("--unattended", keys=["profile", "admin-password-file", "user-login",
                                        "user-password-file", "product-key", "reg-login"])
# libosinfo's osinfo_install_config_new defaults (its random admin password is replaced by
# virt-install, which always sets one, "" when no file is given)
CONFIG_DEFAULTS = {"l10n-keyboard": "en_US", "l10n-language": "en_US",
                   "l10n-timezone": "America/New_York"}
# the characters some installers refuse in a computer name (virtinst replaces them by '-')
_HOSTNAME_BAD = re.compile("[{|}~[\\]^':; <=>?@!\"#$%`()+/.,*&]")
# the OS elements libosinfo's loader keeps as entity values (what os/... reads)
_OS_KEYS = ("short-id", "name", "version", "vendor", "family", "distro", "codename",
            "release-date", "eol-date", "release-status", "kernel-url-argument",
            "cloud-image-username")
SCRUBBED = "[SCRUBBLED]"


class UnattendedError(RuntimeError):
    """An unattended install virt-install would refuse (message as virt-install words it)."""


@dataclass
class UnattendedData:
    """--unattended's sub-options."""

    profile: str | None = None
    admin_password_file: str | None = None
    user_login: str | None = None
    user_password_file: str | None = None
    product_key: str | None = None
    reg_login: str | None = None

    @classmethod
    def parse(cls, optstr: str | int) -> UnattendedData:
        """Bare --unattended (argparse's const 1) takes every default."""
        if optstr == 1:
            return cls()
        data = parse(UNATTENDED, str(optstr))
        check_unknown(UNATTENDED, data)
        return cls(**{k.replace("-", "_"): v for k, v in data.items()})

    @staticmethod
    def _password(path: str | None) -> str | None:
        if not path:
            return None
        try:
            return first_line(path)
        except OSError as exc:
            raise UnattendedError(f"Could not read password file '{path}': {exc.strerror}") from exc

    def user_password(self) -> str | None:
        return self._password(self.user_password_file)

    def admin_password(self) -> str | None:
        return self._password(self.admin_password_file)


@dataclass
class InstallScript:
    """One <install-script> of osinfo-db."""

    element: etree._Element = field(repr=False)

    @property
    def id(self) -> str:
        return self.element.get("id", "")

    @property
    def profile(self) -> str:
        return self.element.findtext("profile", "")

    @property
    def expected_filename(self) -> str:
        return self.element.findtext("expected-filename", "")

    def injection_methods(self) -> list[str]:
        return [m.text or "" for m in self.element.findall("injection-method")]

    def param(self, name: str) -> etree._Element | None:
        """The script's declaration of a config parameter; osinfo-db repeats some (debian's
        desktop preseed: user-password optional, then required) and libosinfo's list keeps
        the last one added."""
        found = self.element.findall(f"config/param[@name='{name}']")
        return found[-1] if found else None

    def requires(self, name: str) -> bool:
        """libosinfo's 'not is_optional': the script declares the parameter required."""
        p = self.param(name)
        return p is not None and p.get("policy") == "required"

    def _stylesheet(self) -> etree.XSLT:
        tmpl = self.element.find("template")
        sheet = None if tmpl is None else next(iter(tmpl), None)
        if sheet is None:
            raise UnattendedError(f"Install script '{self.id}' has no inline template "
                                  "(pyvirt renders only osinfo-db's inline XSLT templates)")
        doc = etree.ElementTree(copy.deepcopy(sheet))
        return etree.XSLT(doc, access_control=etree.XSLTAccessControl.DENY_ALL)

    def _entity(self, injection: str, source: str) -> list[tuple[str, str]]:
        out = [("id", self.id), ("profile", self.profile)]
        for key in ("expected-filename", "product-key-format", "path-format", "needs-internet",
                    "can-pre-install-drivers", "can-post-install-drivers"):
            val = self.element.findtext(key)
            if val is not None:
                out.append((key, val))
        out += [("injection-method", m) for m in self.injection_methods()]
        out += [("preferred-injection-method", injection), ("installation-source", source)]
        return out

    def _document(self, root: str, osv: osdb.OsVariant, config: dict[str, str],
                  injection: str, source: str,
                  media: list[tuple[str, str]] | None) -> etree._ElementTree:
        """libosinfo's generate_config_xml: <script>, <os>, <media> (a disc identified
        in osinfo-db), <config> entity children."""
        top = etree.Element(root)
        parts = [("script", self._entity(injection, source)), ("os", os_entity(osv))]
        if media is not None:
            parts.append(("media", media))
        parts.append(("config", [(k, self._mapped(k, v)) for k, v in config.items()]))
        for name, pairs in parts:
            node = etree.SubElement(top, name)
            for key, val in pairs:
                etree.SubElement(node, key).text = val
        return etree.ElementTree(top)

    def _mapped(self, key: str, value: str) -> str:
        """A config value through the parameter's datamap, when the map knows it."""
        p = self.param(key)
        mapid = p.get("value-map") if p is not None else None
        return datamap(mapid).get(value, value) if mapid else value

    def has_command_line(self) -> bool:
        """Whether the stylesheet has a template for the kernel command line.  Without one
        libosinfo's XSLT run falls back to the built-in rules and returns every text of the
        input (passwords included); pyvirt gives no arguments then (only cdrom-injected
        Windows scripts lack one, and their command line is never used)."""
        return bool(self.element.xpath(
            "template/*/*[local-name()='template' and @match='/command-line']"))

    def render(self, osv: osdb.OsVariant, config: dict[str, str], injection: str,
               source: str, command_line: bool = False,
               media: list[tuple[str, str]] | None = None) -> str:
        """The script text (or, `command_line`, the kernel arguments) for this config."""
        if command_line and not self.has_command_line():
            return ""
        doc = self._document("command-line" if command_line else "install-script-config",
                             osv, config, injection, source, media)
        try:
            return str(self._stylesheet()(doc))
        except etree.XSLTError as exc:
            raise UnattendedError(f"Failed to apply script template {self.id}: {exc}") from exc


def os_entity(osv: osdb.OsVariant) -> list[tuple[str, str]]:
    """The OS as libosinfo's entity: its id and the plain (untranslated) values."""
    node = osv.node()
    out = [("id", osv.full_id or "")]
    if node is None:
        return out
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for el in node:
        if isinstance(el.tag, str) and el.tag in _OS_KEYS and el.get(lang) is None and el.text:
            out.append((el.tag, el.text))
    return out


@functools.cache
def datamap(mapid: str) -> dict[str, str]:
    """inval -> outval of one osinfo-db datamap ({} when osinfo-db lacks it)."""
    from pyvirt.xml.safe import safe_parse
    for base in dict.fromkeys(osdb.OSINFO_DIRS):
        for path in sorted(Path(base, "datamap").rglob("*.xml")):
            data = path.read_bytes()
            if f'id="{mapid}"'.encode() not in data:
                continue
            root = safe_parse(data)
            for dm in root.iter("datamap"):
                if dm.get("id") == mapid:
                    return {e.get("inval", ""): e.get("outval", "") for e in dm.iter("entry")}
    return {}


def lookup_scripts(osv: osdb.OsVariant, profile: str | None, announce: bool = True,
                   media: etree._Element | None = None) -> list[InstallScript]:
    """virtinst's _lookup_rawscripts: the scripts of the identified install disc when its
    osinfo entry lists some (a disc marked installer-script="false", e.g. a live image,
    is refused), else the OS's; of the profile asked for, else of the default one
    ('desktop' if there, else the first, announced with a warning as virt-install does)."""
    ids = osv.install_script_ids()
    if media is not None:
        if media.get("installer-script") == "false":
            raise UnattendedError(f"OS '{osv.name}' media does not support unattended "
                                  "installation")
        ids = [sc.get("id", "") for sc in media.findall("installer/script")] or ids
    scripts = []
    for sid in ids:
        el = osdb.install_script(sid)
        if el is not None:
            scripts.append(InstallScript(el))
    if not scripts:
        raise UnattendedError(f"OS '{osv.name}' does not support unattended installation.")
    by_profile: dict[str, list[InstallScript]] = {}
    for sc in scripts:
        by_profile.setdefault(sc.profile, []).append(sc)
    names = sorted(by_profile)
    if profile:
        if profile not in by_profile:
            raise UnattendedError(
                f"OS '{osv.name}' does not support unattended installation for the "
                f"'{profile}' profile. Available profiles: {', '.join(names)}")
    else:
        profile = "desktop" if "desktop" in by_profile else names[0]
        if announce:
            log.warning("Using unattended profile '%s'", profile)
    log.debug("Install scripts found for profile '%s': %s", profile,
              ", ".join(s.id for s in by_profile[profile]))
    return by_profile[profile]


def check(osv: osdb.OsVariant, data: UnattendedData, injection: str) -> None:
    """The refusals prepare would make, in its order, without building anything: an
    unknown profile, an injection method a script lacks, root as user-login, a password
    a script requires missing."""
    scripts = lookup_scripts(osv, data.profile, announce=False)
    for script in scripts:
        _check_injection(osv, script, injection)
    if (data.user_login or "").lower() == "root":
        raise UnattendedError(f"{osv.name} cannot use 'root' as user-login.")
    for script in scripts:
        for param, value in (("user-password", data.user_password),
                             ("admin-password", data.admin_password)):
            if script.requires(param) and not value():
                raise UnattendedError(f"{osv.name} requires the {param} to be set.")


def _check_injection(osv: osdb.OsVariant, script: InstallScript, injection: str) -> None:
    if injection not in script.injection_methods():
        raise UnattendedError(f"OS '{osv.name}' does not support required injection "
                              f"method '{injection}'")


def _host_user() -> tuple[str | None, str | None]:
    """The host user as default login, with its GECOS name; none for root."""
    user = getpass.getuser()
    if user == "root":
        return None, None
    try:
        return user, pwd.getpwnam(user).pw_gecos
    except KeyError:
        return user, None


def host_timezone() -> str | None:
    """The zone /etc/localtime links to (America/New_York), as virtinst reads it."""
    tokens = os.path.realpath("/etc/localtime").split("zoneinfo/")
    return tokens[1] if len(tokens) > 1 else None


def make_config(script: InstallScript, osv: osdb.OsVariant, data: UnattendedData, *,
                arch: str, hostname: str, url: str | None) -> dict[str, str]:
    """virtinst's _make_installconfig: the install config for one script."""
    config = dict(CONFIG_DEFAULTS)
    login, realname = data.user_login, data.user_login
    if not login:
        login, realname = _host_user()
    if login:
        login = login.lower()
        if login == "root":
            raise UnattendedError(f"{osv.name} cannot use '{login}' as user-login.")
        config["user-login"] = login
        if realname is not None:
            config["user-realname"] = realname
    user_pw, admin_pw = data.user_password(), data.admin_password()
    if script.requires("user-password") and not user_pw:
        raise UnattendedError(f"{osv.name} requires the user-password to be set.")
    config["user-password"] = user_pw or ""
    if script.requires("admin-password") and not admin_pw:
        raise UnattendedError(f"{osv.name} requires the admin-password to be set.")
    config["admin-password"] = admin_pw or ""
    config["target-disk"] = "C" if osv.is_windows() else (
        "/dev/vda" if osv.supports_virtiodisk(extra=False) else "/dev/sda")
    config["hardware-arch"] = arch
    config["hostname"] = _HOSTNAME_BAD.sub("-", hostname)
    tz = host_timezone()
    if tz:
        config["l10n-timezone"] = tz
    language = locale.getlocale()[0]
    if language:
        config["l10n-language"] = language
        config["l10n-keyboard"] = language
    if url:
        config["installation-url"] = url
    if data.reg_login:
        config["reg-login"] = data.reg_login
    if data.product_key:
        config["reg-product-key"] = data.product_key
    for key in ("user-login", "user-realname", "target-disk", "hardware-arch", "hostname",
                "l10n-timezone", "l10n-language", "l10n-keyboard", "installation-url",
                "reg-login", "reg-product-key"):
        log.debug("%s: %s", key, config.get(key))
    return config


@dataclass
class Rendered:
    """One script ready to inject: its file name in the media and its content."""

    filename: str
    content: str
    cmdline: str


def prepare(osv: osdb.OsVariant, data: UnattendedData, *, arch: str, hostname: str,
            url: str | None, injection: str, disc: str | None = None) -> list[Rendered]:
    """virtinst's prepare_install_scripts + generate: each script of the chosen profile,
    rendered for `injection` ('initrd' for tree installs, 'cdrom' otherwise).  An install
    disc osinfo-db identifies (`disc`, a local ISO) brings its scripts and makes the
    installation source 'media'; without one it is the network, as in virtinst."""
    found = osdb.identify_media(disc) if disc else None
    media = found[1] if found else None
    entity = osdb.media_entity(osv, media, disc or "") if found else None
    out = []
    for script in lookup_scripts(osv, data.profile, media=media):
        log.debug("Using '%s' injection method", injection)
        _check_injection(osv, script, injection)
        source = "media" if media is not None else "network"
        log.debug("Using '%s' installation source", source)
        config = make_config(script, osv, data, arch=arch, hostname=hostname, url=url)
        content = script.render(osv, config, injection, source, media=entity)
        scrubbed = dict(config, **{"user-password": SCRUBBED, "admin-password": SCRUBBED})
        log.debug("Generated script contents:\n%s",
                  script.render(osv, scrubbed, injection, source, media=entity))
        cmdline = script.render(osv, config, injection, source, command_line=True, media=entity)
        log.debug("Generated unattended cmdline: %s", cmdline)
        out.append(Rendered(script.expected_filename, content, cmdline))
    return out

