"""pyvirtd.conf: the daemon's settings, in libvirtd.conf's syntax and names.

``key = value`` lines, ``#`` comments, values an integer, a "string" or a ["list", "of",
"strings"] (which may span lines).  Only the settings pyvirtd acts on are accepted; any other
name, a value of the wrong type or a malformed line stops the daemon with the file, line and
setting named — a setting is never silently ignored.

The file is ``CONFIG/pyvirtd.conf`` (``/etc/pyvirt/pyvirtd.conf`` for the system daemon).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: setting -> (type, default); libvirtd.conf's names and defaults, plus pyvirt's read-only lists
SETTINGS: dict[str, tuple[type, Any]] = {
    "listen_tls": (int, 0),          # libvirtd: 1, but only with --listen; pyvirtd: this switch alone
    "listen_tcp": (int, 0),          # plain TCP: refused when set (no listener without TLS + client certs)
    "tls_port": (str, "16514"),
    "listen_addr": (str, "0.0.0.0"),
    "key_file": (str, ""),
    "cert_file": (str, ""),
    "ca_file": (str, ""),
    "crl_file": (str, ""),
    "tls_no_verify_certificate": (int, 0),  # refused when set: client certificates are always checked
    "tls_allowed_dn_list": (list, None),
    "tls_readonly_dn_list": (list, []),     # pyvirt: these DNs get read-only connections
    "tls_readonly": (int, 0),               # pyvirt: every TLS connection is read-only
    # pyvirt: seconds a client connection may sit between requests, or take to send one request's
    # head, before pyvirtd drops it (streams in progress are not idle); at least 1
    "client_idle_timeout": (int, 60),
}


class ConfigError(ValueError):
    pass


@dataclass
class DaemonConfig:
    path: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in SETTINGS:
            return self.values.get(name, SETTINGS[name][1])
        raise AttributeError(name)


def parse(text: str, path: str = "pyvirtd.conf", settings: dict[str, tuple[type, Any]] | None = None) -> DaemonConfig:
    """Read a file in libvirtd.conf's syntax; `settings` (name -> (type, default)): what it may
    set (pyvirtd.conf's by default; qemu.conf has its own)."""
    settings = SETTINGS if settings is None else settings
    values: dict[str, Any] = {}
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if not pending and not line:
            continue
        if not pending:
            start = number
        pending = f"{pending} {line}" if pending else line
        if pending.count("[") > pending.count("]"):
            continue  # a list spanning lines
        name, eq, value_text = pending.partition("=")
        name, pending = name.strip(), ""
        where = f"{path}:{start}"
        if not eq or not name.isidentifier():
            raise ConfigError(f"{where}: expected 'name = value'")
        if name not in settings:
            raise ConfigError(f"{where}: unsupported setting '{name}' (known here: {', '.join(settings)})")
        try:
            value = ast.literal_eval(value_text.strip())
        except (ValueError, SyntaxError):
            raise ConfigError(f"{where}: {name}: cannot read value {value_text.strip()!r}") from None
        kind = settings[name][0]
        if kind is str and isinstance(value, int) and not isinstance(value, bool) and name == "tls_port":
            value = str(value)
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if kind is list:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not ok:
            want = {int: "an integer", str: "a string", list: "a list of strings"}[kind]
            raise ConfigError(f"{where}: {name} must be {want}, not {value!r}")
        values[name] = value
    if pending:
        raise ConfigError(f"{path}:{start}: unterminated list")
    return DaemonConfig(path, values)


def _strip_comment(line: str) -> str:
    quoted = False
    for i, c in enumerate(line):
        if c == '"':
            quoted = not quoted
        elif c == "#" and not quoted:
            return line[:i]
    return line


def load(config_dir: str | os.PathLike[str]) -> DaemonConfig:
    """CONFIG/pyvirtd.conf, or the defaults when there is none."""
    path = Path(config_dir) / "pyvirtd.conf"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return DaemonConfig(str(path))
    return parse(text, str(path))
