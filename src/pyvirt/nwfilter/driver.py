"""pyvirtd's network filter driver: libvirt's virNWFilter* by the declared operations' names.

State on disk as libvirt keeps it (``/etc/libvirt/nwfilter/NAME.xml``): ``config/nwfilter/NAME.xml``
per filter, written atomically.  libvirt's daemon creates no filters of its own: the well-known
ones (clean-traffic, no-mac-spoofing, …) come from a separate package
(libvirt-daemon-config-nwfilter) that drops their files into that directory, so pyvirtd, like
libvirtd, starts with whatever files the directory holds.  Like libvirt, only a privileged
(system) daemon has this driver.

A filter applied to a host port is a *binding* (libvirt's virNWFilterBinding): the QEMU driver
makes one for each started guest NIC with a ``<filterref>`` and drops it when the NIC goes;
``nwfilter-binding-create`` makes one by hand.  Each binding's rules are one nftables table
(:mod:`pyvirt.nwfilter.nft`, from the rule instances of :mod:`pyvirt.nwfilter.instantiate`); the
binding itself is ``runtime/nwfilter-binding/PORT.xml`` (atomic), so a restarted pyvirtd finds
its bindings again, re-applies those whose port still exists and drops the others' rules.  A
filter redefined while bindings use it (directly or through references) is re-applied to each of
them; if any cannot be, the definition is refused and everything stays as it was.  A filter in
use cannot be undefined (libvirt's "nwfilter is in use").

Blocking (files): pyvirtd calls these methods in worker threads; one lock serialises them.
"""

from __future__ import annotations

import contextlib
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
from pyvirt.atomicio import remove_quietly, remove_stale_temps, write_atomic
from pyvirt.ids import new_uuid
from pyvirt.xml.errors import XMLError
from pyvirt.xml.nwfilter import FilterDef, FilterXMLError
from pyvirt.xml.uuids import parse_uuid

from .binding import Binding

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

    def __init__(self, config_dir: Path, binding_dir: Path | None = None) -> None:
        self.config = Path(config_dir)
        self.config.mkdir(parents=True, exist_ok=True)
        self.binding_dir = Path(binding_dir) if binding_dir is not None else self.config.parent / "nwfilter-binding"
        self.binding_dir.mkdir(parents=True, exist_ok=True)
        self._filters: dict[str, FilterDef] = {}
        self._bindings: dict[str, Binding] = {}
        self._learners: dict[str, object] = {}  # port -> its address learner (nwfilter/learn.py)
        self._learnt: dict[str, str] = {}       # port -> the IPv4 address learnt for $IP
        self._lock = threading.RLock()

    def _file(self, name: str) -> Path:
        return self.config / f"{name}.xml"

    def load(self) -> None:
        """Every NAME.xml of the directory (virNWFilterObjListLoadAllConfigs): a file that does
        not read, or whose name does not match, is logged and skipped."""
        with self._lock:
            for directory in (self.config, self.binding_dir):
                remove_stale_temps(directory)
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
            self._load_bindings()

    def _load_bindings(self) -> None:
        """The bindings a previous pyvirtd left: re-applied where the port still exists (the
        filters may have changed while no daemon ran), their rules dropped where it does not."""
        from pyvirt.network import hostnet

        from . import nft

        ports = hostnet.link_names()
        for path in sorted(self.binding_dir.glob("*.xml")):
            try:
                binding = Binding.from_xml(path.read_text())
            except (OSError, XMLError) as exc:
                log.error("ignoring network filter binding %s: %s", path.name, exc)
                continue
            if binding.portdev not in ports:
                nft.remove(binding.portdev)
                remove_quietly(path)
                continue
            try:
                self._apply(binding, self._filters)
            except PyvirtError as exc:
                log.error("network filter binding on %s: %s", binding.portdev, exc.message)
            self._bindings[binding.portdev] = binding

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
            rebuilt = self._rebuild(filt)
            try:
                self._save(filt)
            except BaseException:  # not saved, so not the filter: its ports get the old rules back
                for binding in rebuilt:
                    with contextlib.suppress(PyvirtError):
                        self._apply(binding, self._filters)
                raise
            self._filters[filt.name] = filt
            return self._info(filt)

    def _rebuild(self, filt: FilterDef) -> list[Binding]:
        """Re-apply `filt` (about to replace its name's definition) to every binding that uses
        it (virNWFilterTriggerRebuild), which it returns; any failure puts the old rules back
        and refuses it."""
        new = {**self._filters, filt.name: filt}
        users = [b for b in self._bindings.values() if self._uses(b, filt.name, new)]
        done: list[Binding] = []
        try:
            for binding in users:
                self._apply(binding, new)
                done.append(binding)
        except PyvirtError:
            for binding in done:
                with contextlib.suppress(PyvirtError):
                    self._apply(binding, self._filters)
            raise
        return done

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
    def _apply(self, binding: Binding, filters: dict[str, FilterDef]) -> None:
        """Instantiate the binding's filter with `filters` and replace its port's rules.  A
        filter that needs ``IP`` the binding does not give gets the address learnt from the
        guest's traffic (libvirt's CTRL_IP_LEARNING, default any): libvirt's basic rules until
        then, the filter once it is known."""
        from . import learn, nft
        from .instantiate import instantiate, missing

        variables = binding.variables()
        port = binding.portdev
        if port in self._learnt:
            variables["IP"] = [self._learnt[port]]
        if "IP" not in variables and "IP" in missing(binding.filter, variables, filters.get):
            mode = learn.mode_of(variables)
            if mode != "none":
                learn.apply_basic(port, binding.mac, mode)
                if port not in self._learners:
                    self._learners[port] = learn.Learner(port, binding.mac, mode,
                                                         lambda ip: self._learnt_address(port, ip))
                return
        nft.apply(port, instantiate(binding.filter, variables, filters.get))

    def _learnt_address(self, port: str, address: str) -> None:
        """The learner found the guest's address: the port's filter in full from now on."""
        with self._lock:
            self._learners.pop(port, None)
            binding = self._bindings.get(port)
            if binding is None:
                return
            self._learnt[port] = address
            log.info("network filter binding on %s: learnt IP address %s", port, address)
            try:
                self._apply(binding, self._filters)
            except PyvirtError as exc:
                log.error("network filter binding on %s: %s", port, exc.message)

    def _uses(self, binding: Binding, name: str, filters: dict[str, FilterDef]) -> bool:
        """Whether the binding's filter is `name` or leads to it through references."""
        seen, todo = set(), [binding.filter]
        while todo:
            current = todo.pop()
            if current == name:
                return True
            if current not in seen and current in filters:
                seen.add(current)
                todo += filters[current].references()
        return False

    def _binding_file(self, portdev: str) -> Path:
        from pyvirt.network.hostnet import check_ifname

        check_ifname(portdev, "port device")  # the name becomes a file name and an nft string
        return self.binding_dir / f"{portdev}.xml"

    def bind(self, binding: Binding) -> None:
        """Apply `binding` (a guest NIC starting or hot-plugged, or nwfilter-binding-create); on any
        error nothing stays applied or recorded."""
        from . import nft

        with self._lock:
            path = self._binding_file(binding.portdev)
            if binding.portdev in self._bindings:
                raise _error(f"operation failed: Filter binding '{binding.portdev}' already exists",
                             ErrorCode.OPERATION_FAILED)
            self._bindings[binding.portdev] = binding  # first: an address may be learnt at once
            try:
                self._apply(binding, self._filters)
                write_atomic(path, binding.to_xml(), mode=0o600)
            except BaseException:
                self.unbind(binding.portdev)
                nft.remove(binding.portdev)
                raise

    def unbind(self, portdev: str) -> bool:
        """Drop the port's binding and rules (the NIC went); False when it had none."""
        from . import nft

        with self._lock:
            binding = self._bindings.pop(portdev, None)
            learner = self._learners.pop(portdev, None)
            if learner is not None:
                learner.stop()  # type: ignore[attr-defined]
            self._learnt.pop(portdev, None)
            if binding is None:
                return False
            nft.remove(portdev)
            remove_quietly(self._binding_file(portdev))
            return True

    def unbind_owner(self, owner_uuid: str) -> None:
        """Every binding of one guest (it stopped: its taps are gone)."""
        with self._lock:
            for binding in [b for b in self._bindings.values() if b.owner_uuid == owner_uuid]:
                self.unbind(binding.portdev)

    def list_nwfilter_bindings(self) -> list[NWFilterBindingInfo]:
        with self._lock:
            return [NWFilterBindingInfo(b.portdev, b.filter) for b in self._bindings.values()]

    @staticmethod
    def _no_binding(portdev: str) -> PyvirtError:
        return _error(f"Network filter binding not found: no nwfilter binding for port dev '{portdev}'",
                      ErrorCode.NO_NWFILTER_BINDING)

    def get_nwfilter_binding_xml(self, portdev: str) -> str:
        with self._lock:
            if portdev not in self._bindings:
                raise self._no_binding(portdev)
            return self._bindings[portdev].to_xml()

    def delete_nwfilter_binding(self, portdev: str) -> None:
        if not self.unbind(portdev):
            raise self._no_binding(portdev)

    def create_nwfilter_binding(self, xml: str, validate: bool = False) -> NWFilterBindingInfo:
        if validate:
            check_schema(xml, "nwfilterbinding", ErrorDomain.NWFILTER)
        try:
            binding = Binding.from_xml(xml)
        except XMLError as exc:
            raise from_xml_error(exc, ErrorDomain.NWFILTER) from None
        self.bind(binding)
        return NWFilterBindingInfo(binding.portdev, binding.filter)

    def undefine_nwfilter(self, name: str) -> None:
        with self._lock:
            filt = self._get(name)
            if any(self._uses(b, filt.name, self._filters) for b in self._bindings.values()):
                raise _error("Requested operation is not valid: nwfilter is in use", ErrorCode.OPERATION_INVALID)
            remove_quietly(self._file(filt.name))
            del self._filters[filt.name]
