"""pyvirtd's network filter driver: libvirt's virNWFilter* by the declared operations' names.

State on disk as libvirt keeps it (``/etc/libvirt/nwfilter/NAME.xml``): ``config/nwfilter/NAME.xml``
per filter, written atomically.  libvirt's daemon creates no filters of its own: the well-known
ones (clean-traffic, no-mac-spoofing, …) come from a separate package
(libvirt-daemon-config-nwfilter) that drops their files into that directory, so pyvirtd, like
libvirtd, starts with whatever files the directory holds.  Like libvirt, only a privileged
(system) daemon has this driver.

Filters are definitions only here: pyvirt does not apply them to guest interfaces (a domain
``<interface>`` with ``<filterref>`` is refused when the domain is defined, naming the element),
so no filter is ever "in use" and there are no filter bindings (listed as none; creating one is
refused).

Blocking (files): pyvirtd calls these methods in worker threads; one lock serialises them.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from pyvirt.api import (
    ErrorCode,
    ErrorDomain,
    NWFilterBindingInfo,
    NWFilterInfo,
    PyvirtError,
    check_schema,
    from_xml_error,
    no_nwfilter,
    system_error,
)
from pyvirt.atomicio import remove_quietly, write_atomic
from pyvirt.ids import new_uuid
from pyvirt.xml.errors import XMLError
from pyvirt.xml.nwfilter import FilterDef, FilterXMLError
from pyvirt.xml.uuids import parse_uuid

log = logging.getLogger(__name__)


def _error(message: str, code: int) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.NWFILTER)


def parse_filter(xml: str, validate: bool = False) -> FilterDef:
    """The filter of `xml`, or libvirt's error for it."""
    if validate:
        check_schema(xml, "nwfilter", ErrorDomain.NWFILTER)
    try:
        return FilterDef.from_xml(xml)
    except FilterXMLError as exc:
        raise _error(f"internal error: {exc.message}", ErrorCode.INTERNAL_ERROR) from None
    except XMLError as exc:
        raise from_xml_error(exc, ErrorDomain.NWFILTER) from None


class NWFilterDriver:
    """virNWFilter* for pyvirtd (the declared NWFilter operations, by the same names)."""

    BLOCKING = True

    def __init__(self, config_dir: Path) -> None:
        self.config = Path(config_dir)
        self.config.mkdir(parents=True, exist_ok=True)
        self._filters: dict[str, FilterDef] = {}
        self._lock = threading.RLock()

    def _file(self, name: str) -> Path:
        return self.config / f"{name}.xml"

    def load(self) -> None:
        """Every NAME.xml of the directory (virNWFilterObjListLoadAllConfigs): a file that does
        not read, or whose name does not match, is logged and skipped."""
        with self._lock:
            for path in sorted(self.config.glob("*.xml")):
                try:
                    filt = FilterDef.from_xml(path.read_text())
                except (OSError, XMLError) as exc:
                    log.error("ignoring network filter config %s: %s", path.name, exc)
                    continue
                if filt.name != path.stem:
                    log.error("ignoring network filter config %s: it defines '%s'", path.name, filt.name)
                    continue
                if filt.uuid is None:  # libvirt's shipped filters carry none: give it one, kept from now on
                    filt.uuid = new_uuid()
                    self._save(filt)
                self._filters[filt.name] = filt

    def _save(self, filt: FilterDef) -> None:
        try:
            write_atomic(self._file(filt.name), filt.to_xml(), mode=0o600)
        except OSError as exc:
            raise system_error(f"cannot write '{self._file(filt.name)}'", exc, ErrorDomain.NWFILTER) from None

    @staticmethod
    def _info(filt: FilterDef) -> NWFilterInfo:
        return NWFilterInfo(filt.name, filt.uuid or "")

    def _get(self, ref: str) -> FilterDef:
        if ref in self._filters:
            return self._filters[ref]
        uuid = parse_uuid(ref)
        if uuid is not None:
            for filt in self._filters.values():
                if filt.uuid == uuid:
                    return filt
            raise no_nwfilter(ref, "uuid")
        raise no_nwfilter(ref)

    # ------------------------------------------------------------------ operations
    def list_nwfilters(self) -> list[NWFilterInfo]:
        with self._lock:
            return [self._info(f) for f in sorted(self._filters.values(), key=lambda f: f.name)]

    def lookup_nwfilter(self, ref: str) -> NWFilterInfo:
        with self._lock:
            return self._info(self._get(ref))

    def get_nwfilter_xml(self, name: str) -> str:
        with self._lock:
            return self._get(name).to_xml()

    def define_nwfilter(self, xml: str, validate: bool = False) -> NWFilterInfo:
        """virNWFilterObjListAssignDef: a UUID names one filter; a known name keeps its UUID
        unless the document gives another; a definition whose references lead back to itself
        is refused.  Nothing changes on any error."""
        filt = parse_filter(xml, validate)
        with self._lock:
            for other in self._filters.values():
                if filt.uuid is not None and other.uuid == filt.uuid and other.name != filt.name:
                    raise _error(f"operation failed: filter with same UUID but different name ('{other.name}') "
                                 "already exists", ErrorCode.OPERATION_FAILED)
            old = self._filters.get(filt.name)
            if old is not None and filt.uuid is not None and old.uuid != filt.uuid:
                raise _error(f"operation failed: filter '{filt.name}' already exists with uuid {old.uuid}",
                             ErrorCode.OPERATION_FAILED)
            filt.uuid = filt.uuid or (old.uuid if old is not None else new_uuid())
            if self._loops(filt):
                raise _error("operation failed: filter would introduce a loop", ErrorCode.OPERATION_FAILED)
            self._save(filt)
            self._filters[filt.name] = filt
            return self._info(filt)

    def _loops(self, new: FilterDef) -> bool:
        """_virNWFilterDefLoopDetect: whether following filterrefs from `new` (with `new` in place
        of the filter of its name) comes back to it."""
        seen: set[str] = set()
        todo = list(new.references())
        while todo:
            name = todo.pop()
            if name == new.name:
                return True
            if name in seen:
                continue
            seen.add(name)
            other = self._filters.get(name)
            if other is not None:
                todo += other.references()
        return False

    # ------------------------------------------------------------------ bindings
    # libvirt keeps one binding per guest port that has a <filterref>; pyvirt refuses <filterref>,
    # so there are none, and none can be made by hand either.
    def list_nwfilter_bindings(self) -> list[NWFilterBindingInfo]:
        return []

    @staticmethod
    def _no_binding(portdev: str) -> PyvirtError:
        return _error(f"Network filter binding not found: no nwfilter binding for port dev '{portdev}'",
                      ErrorCode.NO_NWFILTER_BINDING)

    def get_nwfilter_binding_xml(self, portdev: str) -> str:
        raise self._no_binding(portdev)

    def delete_nwfilter_binding(self, portdev: str) -> None:
        raise self._no_binding(portdev)

    def create_nwfilter_binding(self, xml: str, validate: bool = False) -> NWFilterBindingInfo:
        raise _error("unsupported configuration: pyvirt does not apply network filters to guest ports (a guest "
                     "interface's <filterref> is refused as well)", ErrorCode.CONFIG_UNSUPPORTED)

    def undefine_nwfilter(self, name: str) -> None:
        with self._lock:
            filt = self._get(name)
            remove_quietly(self._file(filt.name))
            del self._filters[filt.name]
