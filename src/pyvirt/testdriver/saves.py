"""Save, restore and managed save in the test driver, as libvirt 9.0's test driver does them.

Its save file is the domain XML behind a magic and a length (``TestGuestMagic\\0``, u32 length,
XML: libvirt's own test format, so files move between the two); a managed save is only a flag.
"""

from __future__ import annotations

from pyvirt.api import ErrorCode, PyvirtError, ShutoffReason, StoppedDetail
from pyvirt.testdriver import errors as E

TYPE_CHECKING = False
if TYPE_CHECKING:
    from struct import Struct

    from pyvirt.testdriver.objects import DomainObj

MAGIC = b"TestGuestMagic\0"
MAX_XML = 16 << 20


def _int32() -> Struct:
    """struct.Struct("<i"), imported on use: `struct` is not on `list`'s path."""
    import struct

    return struct.Struct("<i")


def _exclusive_state(running: bool, paused: bool) -> None:
    if running and paused:
        raise PyvirtError("Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive",
                          ErrorCode.INVALID_ARG)


def _flags(bypass_cache: bool, running: bool, paused: bool) -> int:
    return (1 if bypass_cache else 0) | (2 if running else 0) | (4 if paused else 0)


def _read_image(path: str) -> str:
    """The XML of a test driver save file, with libvirt's wording for what is wrong."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below on every path
    except OSError as exc:
        raise E.err(f"cannot read domain image '{path}': {exc.strerror}", ErrorCode.SYSTEM_ERROR) from None
    with fh:
        magic = fh.read(len(MAGIC))
        if len(magic) < len(MAGIC):
            raise E.err(f"incomplete save header in '{path}': Success", ErrorCode.SYSTEM_ERROR)
        if magic != MAGIC:
            raise E.internal("mismatched header magic")
        raw_len = fh.read(4)
        if len(raw_len) < 4:
            raise E.err(f"failed to read metadata length in '{path}': Success", ErrorCode.SYSTEM_ERROR)
        (length,) = _int32().unpack(raw_len)
        if not 0 < length <= MAX_XML:
            raise E.internal(f"length of metadata out of range: {length}")
        xml = fh.read(length)
        if len(xml) < length:
            raise E.err(f"incomplete metadata in '{path}': Success", ErrorCode.SYSTEM_ERROR)
    return xml.decode(errors="replace")


class SavesMixin:
    """virDomainSave*/Restore*/ManagedSave* for the test driver."""

    def save(self, dom: str, path: str, *, xml: str | None = None, bypass_cache: bool = False,
             running: bool = False, paused: bool = False) -> None:
        _exclusive_state(running, paused)
        flags = xml is not None or bypass_cache or running or paused  # virsh calls the Flags form only then
        self._write("virDomainSaveFlags" if flags else "virDomainSave")  # type: ignore[attr-defined]
        if _flags(bypass_cache, running, paused):
            raise E.unsupported_flags(_flags(bypass_cache, running, paused), "testDomainSaveFlags")
        if xml is not None:
            raise E.err("argument unsupported: xml modification unsupported", ErrorCode.ARGUMENT_UNSUPPORTED)
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        if not obj.active:
            raise E.invalid("domain is not running")
        data = obj.xml(inactive=False).encode()
        step = "open failed"  # testDomainSaveImageWrite names the step that failed
        try:
            with open(path, "wb") as fh:
                step = "write failed"
                fh.write(MAGIC + _int32().pack(len(data)) + data)
        except OSError as exc:
            raise E.err(f"saving domain '{obj.name}' to '{path}': {step}: {exc.strerror}",
                        ErrorCode.SYSTEM_ERROR) from None
        self._stop(obj, ShutoffReason.SAVED, StoppedDetail.SAVED)  # type: ignore[attr-defined]

    def restore(self, path: str, *, xml: str | None = None, bypass_cache: bool = False, running: bool = False,
                paused: bool = False, reset_nvram: bool = False) -> None:
        _exclusive_state(running, paused)
        flags = xml is not None or bypass_cache or running or paused or reset_nvram
        self._write("virDomainRestoreFlags" if flags else "virDomainRestore")  # type: ignore[attr-defined]
        flags = _flags(bypass_cache, running, paused) | (8 if reset_nvram else 0)
        if flags:
            raise E.unsupported_flags(flags, "testDomainRestoreFlags")
        if xml is not None:
            raise E.err("argument unsupported: xml modification unsupported", ErrorCode.ARGUMENT_UNSUPPORTED)
        from pyvirt.testdriver.domains import _parse_domain_xml

        root = _parse_domain_xml(_read_image(path), True)
        existing = self._check_collision(root)  # type: ignore[attr-defined]
        if existing is not None and existing.active:
            raise E.invalid(f"domain '{existing.name}' is already active")
        from pyvirt.testdriver.objects import DomainObj

        obj = existing or DomainObj(config=None)
        if existing is None:
            self._domains.append(obj)  # type: ignore[attr-defined]
        self._start(obj, root, False, restored=True)  # type: ignore[attr-defined]

    def save_image_xml(self, path: str, *, security_info: bool = False) -> str:
        from pyvirt.testdriver.domains import _parse_domain_xml
        from pyvirt.testdriver.xmlutil import to_string

        self._write("virDomainSaveImageGetXMLDesc")  # type: ignore[attr-defined]  # libvirt: read-only refused first
        self._secure(security_info, "virDomainSaveImageGetXMLDesc")  # type: ignore[attr-defined]
        return to_string(_parse_domain_xml(_read_image(path), True))

    def save_image_define(self, path: str, xml: str, *, running: bool = False, paused: bool = False) -> None:
        _exclusive_state(running, paused)
        self._write("virDomainSaveImageDefineXML")  # type: ignore[attr-defined]
        from pyvirt.testdriver.domains import _parse_domain_xml
        from pyvirt.testdriver.xmlutil import to_string

        _read_image(path)
        data = to_string(_parse_domain_xml(xml, True)).encode()
        with open(path, "wb") as fh:
            fh.write(MAGIC + _int32().pack(len(data)) + data)

    def managed_save(self, dom: str, *, bypass_cache: bool = False, running: bool = False,
                     paused: bool = False) -> None:
        _exclusive_state(running, paused)
        self._write("virDomainManagedSave")  # type: ignore[attr-defined]
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        if not obj.active:
            raise E.invalid("domain is not running")
        if obj.config is None:
            raise E.invalid("cannot do managed save for transient domain")
        self._stop(obj, ShutoffReason.SAVED, StoppedDetail.SAVED)  # type: ignore[attr-defined]
        obj.managed_save = True

    def managed_save_remove(self, dom: str) -> None:
        self._write("virDomainManagedSaveRemove")  # type: ignore[attr-defined]
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        obj.managed_save = False

    def core_dump(self, dom: str, path: str, *, dump_format: str = "raw", crash: bool = False,
                  live: bool = False, bypass_cache: bool = False, reset: bool = False,
                  memory_only: bool = False) -> None:
        """libvirt's testDomainCoreDumpWithFormat: the file holds only the save magic; --crash stops the guest."""
        from pyvirt.api import CORE_DUMP_FORMATS, check_core_dump_flags

        # virsh calls virDomainCoreDump for the raw format; libvirt refuses read-only first
        self._write("virDomainCoreDump" if dump_format == "raw" else "virDomainCoreDumpWithFormat")  # type: ignore[attr-defined]
        check_core_dump_flags(crash, live, reset)
        flags = (2 if live else 0) | (4 if bypass_cache else 0) | (8 if reset else 0) | (16 if memory_only else 0)
        if flags:
            raise E.unsupported_flags(flags, "testDomainCoreDumpWithFormat")
        if dump_format not in CORE_DUMP_FORMATS:
            raise E.err(f"invalid argument: unknown core dump format '{dump_format}'", ErrorCode.INVALID_ARG)
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        if not obj.active:
            raise E.invalid("domain is not running")
        import os

        try:
            fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise E.err(f"domain '{obj.name}' coredump: failed to open {path}: {exc.strerror}",
                        ErrorCode.SYSTEM_ERROR) from None
        try:
            os.write(fd, MAGIC)
        finally:
            os.close(fd)
        if dump_format != "raw":
            raise E.err("Operation not supported: kdump-compressed format is not supported here",
                        ErrorCode.OPERATION_UNSUPPORTED)
        if crash:
            self._stop(obj, ShutoffReason.CRASHED, StoppedDetail.CRASHED)  # type: ignore[attr-defined]
