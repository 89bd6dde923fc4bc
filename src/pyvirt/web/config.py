"""``pyvirt web``'s config file (TOML, read with the stdlib's tomllib): which connections one
web process serves and under which labels, where it listens, its TLS files, PAM, and a file
that keeps the login token across restarts.  Command-line flags override what it says.

    listen = "127.0.0.1:8090"          # HOST:PORT; off loopback TLS is required
    tls = false                        # TLS on loopback too
    tls_cert = "/etc/pyvirt/web/cert.pem"   # with tls_key; paths relative to this file's folder
    tls_key = "/etc/pyvirt/web/key.pem"
    pam = true                         # PAM logins on system connections
    pam_group = "libvirt"
    token_file = "web-token"           # the login token, kept (0600) so it survives a restart
    url_file = "/run/pyvirt/web-url"   # also write the login URL here

    [[connection]]                     # one table per pyvirtd, the first is the default
    uri = "qemu:///system"
    label = "This host (system)"

The default file is ``web.toml`` in pyvirt's config folder (``/etc/pyvirt`` for root,
``$XDG_CONFIG_HOME/pyvirt`` otherwise, ``$PYVIRT_STATE_ROOT/config`` when that is set); a missing default file is no error, a missing ``--config FILE`` is.  Every mistake is
refused with the file, the line where it can be found, and the key: a setting silently dropped
would leave a web UI listening somewhere its owner did not ask for.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: config files are small; a bigger one is a mistake (or not a config file)
MAX_CONFIG = 64 * 1024
MAX_LABEL = 64
#: a kept token: what secrets.token_urlsafe makes, long enough not to be guessed
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,256}")
DEFAULT_NAME = "web.toml"
DEFAULT_PORT = 8090

TOP_KEYS = {"listen", "tls", "tls_cert", "tls_key", "pam", "pam_group", "token_file", "url_file", "connection"}
CONN_KEYS = {"uri", "label"}


class ConfigError(ValueError):
    """A config file (or token file) pyvirt web refuses: the message names the file, the line
    where known, and the key."""


@dataclass
class ConnectionConf:
    uri: str
    label: str = ""  # shown in the page instead of the URI; empty: the URI


@dataclass
class WebConfig:
    path: Path | None = None
    connections: list[ConnectionConf] = field(default_factory=list)
    listen: tuple[str, int] | None = None
    tls: bool | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    pam: bool | None = None
    pam_group: str | None = None
    token_file: Path | None = None
    url_file: Path | None = None


def default_path() -> Path:
    """``web.toml`` in pyvirt's config folder for this user (pyvirt.paths' rule: /etc/pyvirt for
    root, $XDG_CONFIG_HOME/pyvirt otherwise, $PYVIRT_STATE_ROOT/config under a state root),
    whatever URIs the file names: it belongs to whoever runs ``pyvirt web``."""
    from pyvirt.paths import state_paths

    return state_paths("qemu:///system" if os.geteuid() == 0 else "qemu:///session").config / DEFAULT_NAME


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT (HOST alone: port 8090; [v6]:PORT); ValueError on anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:
        host, port = text, str(DEFAULT_PORT)
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r}: want HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def check_uri(uri: str) -> None:
    """ValueError unless pyvirt can connect to `uri` (the client's own URI parser decides)."""
    if uri.startswith("test:"):
        if not uri.startswith("test:///"):
            raise ValueError(f"{uri!r}: a test URI is test:///default or test:///PATH")
        return
    from pyvirt.api import PyvirtError
    from pyvirt.client.transport import ParsedURI

    try:
        ParsedURI(uri)
    except PyvirtError as exc:
        raise ValueError(str(exc)) from None


def load(path: Path, *, required: bool) -> WebConfig:
    """The config at `path`; an empty WebConfig when it is missing and not `required`."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG + 1)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such config file") from None
        return WebConfig()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG // 1024} KiB; not a pyvirt web config")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8") from None
    return parse(text, path)


def parse(text: str, path: Path) -> WebConfig:
    """`text` (the content of `path`) as a WebConfig; ConfigError naming file, line and key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if where:
            reason = msg[:where.start()].strip()
            raise ConfigError(f"{path}:{where.group(1)}: invalid TOML: {reason} (column {where.group(2)})") from None
        raise ConfigError(f"{path}: invalid TOML: {msg}") from None
    return _Reader(text, path).read(doc)


class _Reader:
    """Checks one parsed document, turning each mistake into file:line: key: what."""

    def __init__(self, text: str, path: Path) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.base = path.parent

    def fail(self, key: tuple[str | int, ...], message: str) -> ConfigError:
        name = "".join(f"[{k + 1}]" if isinstance(k, int) else (f".{k}" if i else k) for i, k in enumerate(key))
        line = self.line_of(key)
        return ConfigError(f"{self.path}{f':{line}' if line else ''}: {name}: {message}")

    def line_of(self, key: tuple[str | int, ...]) -> int | None:
        """Where `key` is written: a top-level key before any table, or a key of the n-th
        [[connection]] table (best effort: inline tables and dotted keys get no line)."""
        table: tuple[str, int] | None = None
        seen: dict[str, int] = {}
        want_table = (str(key[0]), key[1]) if len(key) >= 2 and isinstance(key[1], int) else None
        leaf = str(key[-1]) if not isinstance(key[-1], int) else None
        for n, line in enumerate(self.lines, 1):
            head = re.match(r"\s*\[\[\s*([A-Za-z0-9_-]+)\s*\]\]", line) or re.match(r"\s*\[\s*([A-Za-z0-9_-]+)\s*\]", line)
            if head:
                name = head.group(1)
                seen[name] = seen.get(name, -1) + 1
                table = (name, seen[name])
                if want_table == table and leaf is None:
                    return n
                continue
            if leaf is not None and table == want_table and re.match(rf"\s*\"?{re.escape(leaf)}\"?\s*=", line):
                return n
        return None

    def read(self, doc: dict[str, Any]) -> WebConfig:
        for key in doc:
            if key not in TOP_KEYS:
                raise self.fail((key,), f"unknown setting (known: {', '.join(sorted(TOP_KEYS))})")
        conf = WebConfig(path=self.path)
        if "listen" in doc:
            try:
                conf.listen = parse_listen(self.string(doc, "listen"))
            except ValueError as exc:
                raise self.fail(("listen",), str(exc)) from None
        conf.tls = self.boolean(doc, "tls")
        conf.pam = self.boolean(doc, "pam")
        if "pam_group" in doc:
            conf.pam_group = self.string(doc, "pam_group")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}", conf.pam_group):
                raise self.fail(("pam_group",), f"{conf.pam_group!r} is not a group name")
        for key in ("tls_cert", "tls_key", "token_file", "url_file"):
            if key in doc:
                setattr(conf, key, self.file_path(doc, key))
        if (conf.tls_cert is None) != (conf.tls_key is None):
            key = "tls_key" if conf.tls_cert is not None else "tls_cert"
            raise self.fail((key,), "tls_cert and tls_key go together; this one is missing")
        if "connection" in doc:
            tables = doc["connection"]
            if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
                raise self.fail(("connection",), "want [[connection]] tables, each with uri = \"...\"")
            for i, table in enumerate(tables):
                conf.connections.append(self.connection(table, i))
            seen: dict[str, int] = {}
            for i, c in enumerate(conf.connections):
                if c.uri in seen:
                    raise self.fail(("connection", i, "uri"), f"{c.uri!r} is already connection [{seen[c.uri] + 1}]")
                seen[c.uri] = i
        return conf

    def connection(self, table: dict[str, Any], i: int) -> ConnectionConf:
        for key in table:
            if key not in CONN_KEYS:
                raise self.fail(("connection", i, key), f"unknown setting (known: {', '.join(sorted(CONN_KEYS))})")
        if "uri" not in table:
            raise self.fail(("connection", i), "no uri")
        uri = self.string(table, "uri", ("connection", i, "uri"))
        try:
            check_uri(uri)
        except ValueError as exc:
            raise self.fail(("connection", i, "uri"), str(exc)) from None
        label = ""
        if "label" in table:
            label = self.string(table, "label", ("connection", i, "label")).strip()
            if not label or len(label) > MAX_LABEL or any(ord(ch) < 32 or ord(ch) == 127 for ch in label):
                raise self.fail(("connection", i, "label"),
                                f"want 1 to {MAX_LABEL} printable characters, not {label[:80]!r}")
        return ConnectionConf(uri, label)

    def string(self, table: dict[str, Any], key: str, where: tuple[str | int, ...] | None = None) -> str:
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(where or (key,), f"want a string, not {type(value).__name__} {value!r}")
        if "\0" in value:
            raise self.fail(where or (key,), "contains a NUL character")
        return value

    def boolean(self, table: dict[str, Any], key: str) -> bool | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, bool):
            raise self.fail((key,), f"want true or false, not {value!r}")
        return value

    def file_path(self, table: dict[str, Any], key: str) -> Path:
        value = self.string(table, key)
        if not value:
            raise self.fail((key,), "empty path")
        return self.base / Path(value).expanduser()


def read_or_make_token(path: Path) -> str:
    """The login token kept in `path`: read when it is there (a regular file of ours, not
    readable by anyone else), else made and written 0600, atomically.  Keeping it lets a
    bookmark or a script's login survive a restart of ``pyvirt web``."""
    from pyvirt.atomicio import write_atomic

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        token = secrets.token_urlsafe(32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(path, token + "\n", mode=0o600)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot write the token file: {exc.strerror}") from None
        return token
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the token file: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{path}: the token file is not a regular file")
        if st.st_uid != os.geteuid():
            raise ConfigError(f"{path}: the token file belongs to uid {st.st_uid}, not to this user")
        if st.st_mode & 0o077:
            raise ConfigError(f"{path}: the token file is readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
                              "chmod 600 it")
        raw = os.read(fd, 1024)
    finally:
        os.close(fd)
    token = raw.decode("ascii", "replace").strip()
    if not TOKEN_RE.fullmatch(token):
        raise ConfigError(f"{path}:1: the token file should hold one token of 16 to 256 characters "
                          "A-Z a-z 0-9 _ -")
    return token
