"""pyvirtd's secret driver: libvirt's virSecret* (secret_driver.c, virsecretobj.c) by the
declared operations' names.

State on disk, as libvirt keeps it (``config/secrets``, a 0700 directory):
``UUID.xml`` the attributes of each persistent secret, ``UUID.base64`` its value; both 0600,
written atomically.  Ephemeral secrets never touch the disk.  A value crosses the API only
base64-encoded, is never logged, and never appears in an error message; a private secret's
value is never given out (libvirt's "secret is private"), only to pyvirtd itself
(:meth:`SecretDriver.secret_value`, libvirt's internal call) for the disks that use it.

Blocking (files): pyvirtd calls these methods in worker threads; one lock serialises them.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pyvirt import textindex
from pyvirt.api import (
    ErrorCode,
    ErrorDomain,
    Event,
    PyvirtError,
    SecretEvent,
    SecretEventType,
    SecretInfo,
    SecretValueEvent,
    check_schema,
    from_xml_error,
    no_secret,
    system_error,
)
from pyvirt.atomicio import remove_quietly, remove_stale_temps, write_atomic
from pyvirt.ids import new_uuid
from pyvirt.secret import glib_b64decode
from pyvirt.xml.errors import XMLError
from pyvirt.xml.secret import USAGE_TYPES, SecretDef, SecretXMLError
from pyvirt.xml.uuids import parse_uuid

log = logging.getLogger(__name__)

#: libvirt's REMOTE_SECRET_VALUE_MAX: the most bytes a value may have
MAX_VALUE = 65536


def _error(message: str, code: int) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.SECRET)


def internal(message: str) -> PyvirtError:
    return _error(f"internal error: {message}", ErrorCode.INTERNAL_ERROR)


def invalid_arg(message: str) -> PyvirtError:
    """virReportInvalidArg's wording: the message alone, code VIR_ERR_INVALID_ARG."""
    return _error(message, ErrorCode.INVALID_ARG)


def canonical_uuid(uuid: str, function: str = "virSecretLookupByUUIDString") -> str:
    """The canonical form of a UUID a client gave, or libvirt's error for a malformed one."""
    value = parse_uuid(uuid)
    if value is None:
        raise invalid_arg(f"uuidstr in {function} must be a valid UUID")
    return value


def parse_secret(xml: str, validate: bool = False) -> SecretDef:
    """The secret of `xml`, or libvirt's error for it (internal errors where libvirt has them)."""
    if validate:
        check_schema(xml, "secret", ErrorDomain.SECRET)
    try:
        sec = SecretDef.from_xml(xml)
    except SecretXMLError as exc:
        raise internal(exc.message) from None
    except XMLError as exc:
        raise from_xml_error(exc, ErrorDomain.SECRET) from None
    sec.uuid = sec.uuid or new_uuid()
    return sec


def decode_value(value: str) -> bytes:
    """A value from its base64 encoding (strict: a client sends what it encoded)."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise invalid_arg("value in virSecretSetValue must be base64-encoded") from None
    if not raw:
        # libvirt's RPC turns an empty value into a NULL one, which virSecretSetValue refuses
        raise invalid_arg("value in virSecretSetValue must not be NULL")
    if len(raw) > MAX_VALUE:
        raise invalid_arg(f"value in virSecretSetValue must be at most {MAX_VALUE} bytes")
    return raw


def info_of(sec: SecretDef) -> SecretInfo:
    return SecretInfo(sec.uuid or "", sec.usage_type, sec.usage_id, sec.ephemeral, sec.private)


class _Secret:
    """One secret: its attributes and its value (None until one is set).  A secret loaded from a
    file the secret index vouches for holds that file's text until its attributes are first
    read (see SecretDriver.load)."""

    __slots__ = ("_definition", "_text", "value")

    def __init__(self, definition: SecretDef | None, value: bytes | None = None, text: str | None = None) -> None:
        self._definition = definition
        self._text = text
        self.value = value

    @property
    def definition(self) -> SecretDef:
        if self._definition is None:
            assert self._text is not None
            self._definition, self._text = parse_secret(self._text), None
        return self._definition

    @definition.setter
    def definition(self, value: SecretDef) -> None:
        self._definition, self._text = value, None


Listener = Callable[[Event], None]


class SecretDriver:
    """virSecret* for pyvirtd (the declared Secret operations, by the same names)."""

    BLOCKING = True  # files: pyvirtd calls these methods in worker threads

    #: the secret index's file in `index_dir` (see load)
    INDEX_NAME = "secret-index.json"

    def __init__(self, config_dir: Path, on_event: Listener | None = None, index_dir: Path | None = None) -> None:
        """`index_dir`: where the secret index lives (pyvirtd's runtime dir); None: no index,
        every file is parsed at load."""
        self.config = Path(config_dir)
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.config.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.config, 0o700)  # values live here: private to the owner even if made earlier
        self._secrets: dict[str, _Secret] = {}
        self._lock = threading.RLock()
        self._on_event = on_event

    # ------------------------------------------------------------------ state on disk
    def _xml_file(self, uuid: str) -> Path:
        return self.config / f"{uuid}.xml"

    def _value_file(self, uuid: str) -> Path:
        return self.config / f"{uuid}.base64"

    def load(self) -> None:
        """Every persistent secret and its value (libvirt's virSecretLoadAllConfigs): a file
        that does not read is logged and skipped, never the daemon's end.

        A file whose exact text loaded before, under the same parser code, is not parsed again
        (the secret index in `index_dir`, :mod:`pyvirt.textindex`): its text is held and parsed
        when the secret's attributes are first read, so a restarted pyvirtd that uses no secret
        loads no lxml for them.  Every other file is parsed and judged here as always."""
        index = self.index_dir / self.INDEX_NAME if self.index_dir is not None else None
        fingerprint = textindex.code_fingerprint([*textindex.xml_code_files(), Path(__file__).resolve()])
        indexed = textindex.load_digests(index, fingerprint) if index is not None else {}
        digests: dict[str, str] = {}
        with self._lock:
            remove_stale_temps(self.config)  # a value's copy a killed write left must not outlive its secret
            for path in sorted(self.config.glob("*.xml")):
                try:
                    text = path.read_text()
                    sha = textindex.digest(text)
                    if indexed.get(path.name) == sha:  # this very text loaded, as this UUID, before
                        entry, uuid = _Secret(None, text=text), path.stem
                    else:
                        sec = parse_secret(text)
                        entry, uuid = _Secret(sec), sec.uuid or ""
                except (OSError, PyvirtError) as exc:
                    log.error("ignoring secret config %s: %s", path.name, exc)
                    continue
                if entry._definition is not None and (uuid != path.stem or entry.definition.ephemeral):
                    log.error("ignoring secret config %s: its UUID or ephemeral flag does not fit", path.name)
                    continue
                digests[path.name] = sha
                try:  # virSecretLoadValue: g_base64_decode, which skips what is not base64
                    entry.value = glib_b64decode(self._value_file(uuid).read_bytes())
                except FileNotFoundError:
                    pass  # no value set yet: the usual state of a new secret, nothing to say
                except OSError as exc:
                    log.error("ignoring the unreadable value of secret %s: %s", uuid, exc)
                self._secrets[uuid] = entry
        if index is not None and digests != indexed:
            textindex.save_digests(index, fingerprint, digests)

    def _save_config(self, sec: SecretDef) -> None:
        uuid = sec.uuid or ""
        try:
            write_atomic(self._xml_file(uuid), sec.to_xml(), mode=0o600)
        except OSError as exc:
            raise system_error(f"cannot write '{self._xml_file(uuid)}'", exc, ErrorDomain.SECRET) from None

    def _save_value(self, uuid: str, value: bytes | None) -> None:
        if value is None:
            remove_quietly(self._value_file(uuid))
            return
        try:
            write_atomic(self._value_file(uuid), base64.b64encode(value), mode=0o600)
        except OSError as exc:
            raise system_error(f"cannot write '{self._value_file(uuid)}'", exc, ErrorDomain.SECRET) from None

    def _forget_files(self, uuid: str) -> None:
        remove_quietly(self._xml_file(uuid))
        remove_quietly(self._value_file(uuid))

    # ------------------------------------------------------------------ events
    def _emit(self, event: Event) -> None:
        if self._on_event is None:
            return
        event.timestamp = event.timestamp or time.time()
        try:
            self._on_event(event)
        except Exception:  # noqa: BLE001 - a broken listener must not break the operation
            log.exception("secret event listener failed")

    def _lifecycle(self, sec: SecretDef, event: int) -> None:
        self._emit(SecretEvent(sec.usage_id, sec.uuid or "", event, 0))

    # ------------------------------------------------------------------ lookups
    def _get(self, uuid: str) -> _Secret:
        key = canonical_uuid(uuid)
        entry = self._secrets.get(key)
        if entry is None:
            raise no_secret(key)
        return entry

    def list_secrets(self) -> list[SecretInfo]:
        with self._lock:
            return [info_of(s.definition) for _, s in sorted(self._secrets.items())]

    def lookup_secret(self, uuid: str) -> SecretInfo:
        with self._lock:
            return info_of(self._get(uuid).definition)

    def _by_usage(self, usage_type: str, usage_id: str) -> _Secret | None:
        """virSecretObjListFindByUsage: an unused secret is never found by its (empty) usage."""
        for entry in self._secrets.values():
            sec = entry.definition
            if sec.usage_type == usage_type and usage_type != "none" and sec.usage_id == usage_id:
                return entry
        return None

    def lookup_secret_by_usage(self, usage_type: str, usage_id: str) -> SecretInfo:
        with self._lock:
            entry = self._by_usage(usage_type, usage_id) if usage_type in USAGE_TYPES else None
            if entry is None:
                raise no_secret(usage_id, "usage")
            return info_of(entry.definition)

    def get_secret_xml(self, uuid: str) -> str:
        with self._lock:
            return self._get(uuid).definition.to_xml()

    # ------------------------------------------------------------------ changes
    def define_secret(self, xml: str, validate: bool = False) -> SecretInfo:
        """virSecretDefineXML: a new secret, or new attributes for the existing one with the same
        UUID (its value kept; the usage may not change, nor a private secret become readable)."""
        new = parse_secret(xml, validate)
        uuid = new.uuid or ""
        with self._lock:
            entry = self._secrets.get(uuid)
            if entry is not None:
                old = entry.definition
                if old.usage_id != new.usage_id:
                    raise internal(f"a secret with UUID {uuid} is already defined for use with "
                                   f"{old.usage_id or '(null)'}")
                if old.private and not new.private:
                    raise internal("cannot change private flag on existing secret")
                if not new.ephemeral:
                    if old.ephemeral:
                        self._save_value(uuid, entry.value)
                    try:
                        self._save_config(new)
                    except PyvirtError:
                        if old.ephemeral:
                            self._forget_files(uuid)
                        raise
                elif not old.ephemeral:
                    self._forget_files(uuid)
                entry.definition = new
            else:
                other = self._by_usage(new.usage_type, new.usage_id)
                if other is not None:
                    raise internal(f"a secret with UUID {other.definition.uuid} already defined for use with "
                                   f"{new.usage_id}")
                if not new.ephemeral:
                    self._save_config(new)
                self._secrets[uuid] = _Secret(new)
            self._lifecycle(new, SecretEventType.DEFINED)
            return info_of(new)

    def undefine_secret(self, uuid: str) -> None:
        with self._lock:
            entry = self._get(uuid)
            sec = entry.definition
            if not sec.ephemeral:
                self._forget_files(sec.uuid or "")
            del self._secrets[sec.uuid or ""]
            entry.value = None
        self._lifecycle(sec, SecretEventType.UNDEFINED)

    def set_secret_value(self, uuid: str, value: str) -> None:
        raw = decode_value(value)
        with self._lock:
            entry = self._get(uuid)
            sec = entry.definition
            if not sec.ephemeral:
                self._save_value(sec.uuid or "", raw)  # first: a failed write keeps the old value
            entry.value = raw
        self._emit(SecretValueEvent(sec.usage_id, sec.uuid or "", 0, 0))

    def get_secret_value(self, uuid: str) -> str:
        with self._lock:
            entry = self._get(uuid)
            if entry.definition.private:
                raise _error("Invalid secret: secret is private", ErrorCode.INVALID_SECRET)
            return base64.b64encode(self._value_of(entry)).decode("ascii")

    # ------------------------------------------------------------------ for pyvirtd itself
    def _value_of(self, entry: _Secret) -> bytes:
        if entry.value is None:
            raise _error(f"Secret not found: secret '{entry.definition.uuid}' does not have a value",
                         ErrorCode.NO_SECRET)
        return entry.value

    def secret_value(self, usage_type: str, uuid: str | None = None, usage_id: str | None = None) -> bytes:
        """The value of the secret a disk, TLS or vTPM definition references (by UUID or by usage),
        private ones included: libvirt's VIR_SECRET_GET_VALUE_INTERNAL_CALL.  Errors are
        libvirt's lookup errors; a secret whose usage type differs is not the one meant."""
        with self._lock:
            if uuid is not None:
                entry = self._get(uuid)
            else:
                entry = self._by_usage(usage_type, usage_id or "")
                if entry is None:
                    raise no_secret(usage_id or "", "usage")
            sec = entry.definition
            if sec.usage_type != usage_type:  # virSecretGetSecretString
                raise invalid_arg(f"invalid argument: secret with uuid {sec.uuid} is of type '{sec.usage_type}' "
                                  f"not expected '{usage_type}' type")
            return self._value_of(entry)
