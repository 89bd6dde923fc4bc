"""Domain definitions: define, undefine, XML, autostart, metadata, memory/vCPU settings, rename.

A mixin of the QEMU driver.  Changes follow libvirt's --live/--config/--current rule and are
persisted atomically; a running domain's live definition is touched only with --live.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import shutil
import uuid as uuidlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyvirt.api import (
    DomainInfo,
    ErrorCode,
    ErrorDomain,
    EventType,
    PyvirtError,
    UndefinedDetail,
    operation_invalid,
)
from pyvirt.atomicio import remove_quietly
from pyvirt.daemon import model
from pyvirt.daemon.records import DomainRecord

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain


class DefinitionsMixin:
    _by_name: dict[str, DomainRecord]
    _by_uuid: dict[str, DomainRecord]
    store: Any
    events: Any
    _check_emulator: Callable[[Domain], None]

    async def define_xml(self, xml: str, validate: bool = False) -> DomainInfo:
        dom = await asyncio.to_thread(model.parse_definition, xml, None, validate)  # not on the loop
        self._check_emulator(dom)
        async with self._registry_lock:
            existing = self._by_name.get(dom.name or "")
            if dom.uuid is None:
                dom.uuid = existing.uuid if existing else str(uuidlib.uuid4())
            same_uuid = self._by_uuid.get(dom.uuid)
            if existing is not None and existing.uuid != dom.uuid:
                raise PyvirtError(f"operation failed: domain '{dom.name}' already exists with uuid {existing.uuid}",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            if same_uuid is not None and same_uuid.name != dom.name:
                raise PyvirtError(f"operation failed: domain '{same_uuid.name}' is already defined with uuid "
                                  f"{dom.uuid}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            rec = existing
            if rec is None:
                rec = DomainRecord(name=dom.name or "", uuid=dom.uuid, config=None)
            async with rec.lock:
                updated = rec.persistent
                self._commit(rec, config=dom)
                self._index(rec)
        self.events.emit(rec.name, rec.uuid, EventType.DEFINED, 1 if updated else 0, rec.id)
        return self.info(rec)

    async def undefine(self, dom: str, managed_save: bool = False, nvram: bool = False,
                       keep_nvram: bool = False, snapshots_metadata: bool = False, tpm: bool = False,
                       keep_tpm: bool = False, checkpoints_metadata: bool = False) -> None:
        """A managed save image, snapshot metadata or a UEFI variable store stop the undefine unless
        the matching flag says what to do with them (libvirt's rules); an emulated TPM's state goes
        with an inactive domain unless `keep_tpm`.  Every check comes before anything is removed."""
        from pyvirt.daemon.firmware import nvram_path, tpm_state_dir

        rec = self.lookup(dom)
        async with rec.lock:
            if not rec.persistent:
                raise operation_invalid("cannot undefine transient domain")
            if nvram and keep_nvram or tpm and keep_tpm:
                which = "NVRAM" if nvram and keep_nvram else "TPM"
                raise PyvirtError(f"invalid argument: cannot both keep and delete {which}", ErrorCode.INVALID_ARG,
                                  ErrorDomain.QEMU)
            assert rec.config is not None
            vars_file = nvram_path(rec.config, self.paths.data / "nvram")
            if vars_file and os.path.exists(vars_file) and not (nvram or keep_nvram):
                raise operation_invalid("cannot undefine domain with nvram")
            saved = self.has_managed_save(rec)  # type: ignore[attr-defined]
            if saved and not managed_save:
                raise operation_invalid("Refusing to undefine while domain managed save image exists")
            count = self.has_snapshots(rec)  # type: ignore[attr-defined]
            checkpoints = len(self._chkset(rec).snaps)  # type: ignore[attr-defined]
            if checkpoints and not rec.active and not checkpoints_metadata and (snapshots_metadata or not count):
                raise operation_invalid(f"cannot delete inactive domain with {checkpoints} checkpoints")
            if count and not rec.active and not snapshots_metadata:
                raise operation_invalid(f"cannot delete inactive domain with {count} snapshots")
            # every check passed: from here on things are removed (a refusal above removed nothing,
            # the managed save image included)
            if vars_file and nvram:  # first: the one removal that can fail
                try:
                    os.unlink(vars_file)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise PyvirtError(f"failed to remove nvram: {vars_file}: {exc.strerror}",
                                      ErrorCode.SYSTEM_ERROR, ErrorDomain.QEMU) from None
            if saved:
                remove_quietly(self.managed_save_path(rec))  # type: ignore[attr-defined]
            if count and not rec.active:
                self.drop_snapshot_metadata(rec)  # type: ignore[attr-defined]
            if checkpoints and not rec.active:
                self.drop_checkpoint_metadata(rec)  # type: ignore[attr-defined]
            tpm_dir = tpm_state_dir(rec.config, self.paths.data / "swtpm", force=tpm)
            self.store.delete_config(rec.name)
            rec.config = None
            rec.autostart = False
            if tpm_dir is not None and not keep_tpm and not rec.active:
                shutil.rmtree(tpm_dir, ignore_errors=True)
            if not rec.active:
                self._unindex(rec)
            else:
                self._save_runtime(rec)
        self.events.emit(rec.name, rec.uuid, EventType.UNDEFINED, UndefinedDetail.REMOVED, rec.id)

    async def domain_xml_to_native(self, native_format: str, xml: str) -> str:
        if native_format != "qemu-argv":  # qemuConnectDomainXMLToNative's words (libvirt 9.0)
            raise PyvirtError(f"invalid argument: unsupported config type {native_format}",
                              ErrorCode.INVALID_ARG, ErrorDomain.QEMU)
        from pyvirt.xml.defaults import assign_start_defaults

        dom = model.parse_definition(xml, None)
        assign_start_defaults(dom)
        files = self.store.runtime_files(dom.name or "")
        caps = await self.caps()
        host_cpu = await self._host_cpu_features(dom, caps)  # type: ignore[attr-defined]
        host_model = await self._host_model(dom, caps)  # type: ignore[attr-defined]
        return model.native_command_line(dom, caps, str(files.pidfile), str(files.private_dir), host_cpu,
                                         host_model)

    async def get_xml(self, dom: str, inactive: bool = False, security_info: bool = False,
                      update_cpu: bool = False, migratable: bool = False) -> str:
        rec = self.lookup(dom)
        if inactive and rec.config is not None:
            doc, live = rec.config, False
        elif rec.active and rec.live is not None and not inactive:
            doc, live = rec.live, True
            doc.id = rec.id
        else:
            doc, live = rec.current(), False
        if update_cpu or migratable:  # daemon.xmlflags: on a copy, as libvirt formats them
            from pyvirt.daemon.xmlflags import formatted_copy

            host_model = cmap = None
            if update_cpu:
                host_model, cmap = await self._update_cpu_host(doc)
            doc = formatted_copy(doc, update_cpu=update_cpu, migratable=migratable, host_model=host_model,
                                 cpu_map=cmap)
        return doc.to_xml(security_info=security_info) if live else \
            doc.to_xml(inactive=True, security_info=security_info)

    async def _update_cpu_host(self, dom: Domain) -> tuple[Any, Any]:
        """The host-model CPU domcapabilities offers for the domain's virt type (only TCG's on
        x86_64 here: None otherwise) and the CPU map its features are read with."""
        from pyvirt.qemu.cpuprobe import cpu_map, tcg_host_model

        if dom.cpu is None or dom.cpu.mode in ("host-passthrough", "maximum"):
            return None, None
        binary = dom.devices.emulator or (await self.caps()).binary  # type: ignore[attr-defined]
        tcg_x86 = dom.type == "qemu" and (dom.os is None or dom.os.arch in (None, "x86_64"))
        host = await asyncio.to_thread(tcg_host_model, binary) if tcg_x86 else None
        return host, await asyncio.to_thread(cpu_map, binary)

    async def set_autostart(self, dom: str, autostart: bool) -> None:
        rec = self.lookup(dom)
        async with rec.lock:
            if not rec.persistent:
                raise operation_invalid("cannot set autostart for transient domain")
            self.store.set_autostart(rec.name, autostart)
            rec.autostart = autostart

    async def set_metadata(self, dom: str, kind: str, value: str | None, live: bool = False,
                           config: bool = False, key: str | None = None, uri: str | None = None) -> None:
        from pyvirt.connection import check_metadata_args

        check_metadata_args(kind, value, key, uri)
        rec = self.lookup(dom)
        if kind == "element":
            from pyvirt.daemon.tuning import write_metadata

            async with rec.lock:
                self._change(rec, self._targets(rec, live, config), lambda t: write_metadata(t, value, key, uri))
            self._metadata_changed(rec, kind, uri)
            return
        async with rec.lock:
            self._change(rec, self._targets(rec, live, config), lambda target: setattr(target, kind, value or None))
        self._metadata_changed(rec, kind, "")

    def _metadata_changed(self, rec: DomainRecord, kind: str, uri: str) -> None:
        """libvirt's metadata-change event, once the change is made."""
        import time

        from pyvirt.api import METADATA_TYPES, MetadataChangeEvent

        self.events.publish(MetadataChangeEvent(rec.name, rec.uuid, timestamp=time.time(), id=rec.id,
                                                type=METADATA_TYPES.index(kind), nsuri=uri))

    def _targets(self, rec: DomainRecord, live: bool, config: bool) -> list[Domain]:
        """libvirt's --live/--config/--current rule."""
        if not live and not config:  # current
            live, config = rec.active, not rec.active
        targets: list[Domain] = []
        if live:
            if not rec.active or rec.live is None:
                raise operation_invalid("domain is not running")
            targets.append(rec.live)
        if config:
            if rec.config is None:
                raise operation_invalid("cannot change persistent config of a transient domain")
            targets.append(rec.config)
        return targets

    def _change(self, rec: DomainRecord, targets: list[Domain], mutate: Callable[[Domain], None]) -> None:
        """Apply `mutate` to copies of the targeted definitions, validate each as define would, then
        commit.  A value define would refuse is refused here too: otherwise the next daemon start
        would find a definition it cannot load."""
        new_config = new_live = None
        for dom in targets:
            candidate = copy.deepcopy(dom)
            mutate(candidate)
            if dom is rec.config:
                new_config = model.parse_definition(candidate.to_xml(inactive=True, security_info=True))
            else:
                model.parse_stored(candidate.to_xml(security_info=True))  # what a restart re-reads
                new_live = candidate
        self._commit(rec, config=new_config, live=new_live)

    def _commit(self, rec: DomainRecord, config: Domain | None = None, live: Domain | None = None,
                applied: bool = False) -> None:
        """Write first, then change what the daemon holds: a failed write (disk full) leaves the
        file and the definition in memory as they were -- never one changed without the other.
        `applied`: QEMU already runs `live` (a device plugged or removed); a failed runtime write
        then keeps it as the live definition, which must say what QEMU has (libvirt keeps vm->def
        when the status XML cannot be saved), and only the persistent copy is rolled back."""
        # what a failed runtime write rolls back to (only an active domain has one to write)
        old_config, old_live = (rec.config, rec.live) if rec.active else (None, None)
        stored = None
        if config is not None:
            stored = config.to_xml(inactive=True, security_info=True)
            self.store.save_config(rec.name, stored)
            rec.config, rec.load_error = config, None
        if live is not None:
            rec.live = live
        if rec.active:
            try:
                self._save_runtime(rec)
            except BaseException:
                rec.config, rec.live = old_config, live if applied and live is not None else old_live
                if config is not None:
                    if old_config is not None:
                        with contextlib.suppress(PyvirtError):
                            self.store.save_config(rec.name, old_config.to_xml(inactive=True,
                                                                               security_info=True))
                    else:
                        self.store.delete_config(rec.name)
                raise
        if stored is not None:
            rec.stored_as(stored)  # an idle domain keeps the text, not the object tree

    async def set_memory(self, dom: str, kib: int, live: bool = False, config: bool = False,
                         maximum: bool = False) -> None:
        from pyvirt.connection import check_memory

        check_memory(kib, "virDomainSetMemoryFlags")
        rec = self.lookup(dom)
        async with rec.lock:
            if maximum:
                if live or (not config and rec.active):
                    raise operation_invalid("cannot resize the maximum memory on an active domain")

                def set_max(dom: Domain) -> None:
                    dom.memory = kib
                    if (dom.current_memory or 0) > kib:
                        dom.current_memory = kib

                self._change(rec, self._targets(rec, False, True), set_max)
                return
            targets = self._targets(rec, live, config)
            for dom in targets:
                if kib > (dom.memory or 0):
                    raise PyvirtError("invalid argument: cannot set memory higher than max memory",
                                      ErrorCode.INVALID_ARG)

            def set_current(dom: Domain) -> None:
                dom.current_memory = kib

            self._change(rec, [t for t in targets if t is not rec.live], set_current)  # validated first
            if any(t is rec.live for t in targets):
                if rec.run is not None and rec.run.qmp is not None:
                    await self._qmp(rec.run, "balloon", {"value": kib * 1024})
                self._change(rec, [rec.live], set_current)  # type: ignore[list-item]

    async def set_vcpus(self, dom: str, count: int, live: bool = False, config: bool = False,
                        maximum: bool = False, guest: bool = False, hotpluggable: bool = False) -> None:
        from pyvirt.connection import check_count

        check_count("nvcpus", count, "virDomainSetVcpusFlags")
        rec = self.lookup(dom)
        if guest:  # qemuDomainSetVcpusFlags: the guest agent, and nothing else changes
            if config or maximum:
                raise PyvirtError("invalid argument: Flags 'VIR_DOMAIN_VCPU_GUEST' and "
                                  f"'{'VIR_DOMAIN_AFFECT_CONFIG' if config else 'VIR_DOMAIN_VCPU_MAXIMUM'}' "
                                  "are mutually exclusive", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)
            await self.set_guest_vcpu_count(dom, count)  # type: ignore[attr-defined]
            return
        async with rec.lock:
            targets = self._targets(rec, live, config)
            on_live = any(t is rec.live for t in targets)
            on_config = any(t is rec.config for t in targets)
            if maximum and on_live:
                raise PyvirtError("Operation not supported: maximum vcpu count of a live domain can't be modified",
                                  ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
            if on_config and not maximum and rec.config is not None and count > (rec.config.vcpu or 1):
                raise PyvirtError(f"invalid argument: requested vcpus is greater than max allowable vcpus for the "
                                  f"persistent domain: {count} > {rec.config.vcpu}", ErrorCode.INVALID_ARG)
            if on_live:
                await self._set_live_vcpus(rec, count)  # CPU hot-plug (daemon/vcpus.py)
            if not on_config:
                return

            from pyvirt.xml import vcpus

            def set_count(dom: Domain) -> None:
                if maximum:
                    vcpus.set_maximum(dom, count)
                else:
                    if count > (dom.vcpu or 1):
                        raise PyvirtError(f"invalid argument: requested vcpus is greater than max allowable "
                                          f"vcpus for the persistent domain: {count} > {dom.vcpu}",
                                          ErrorCode.INVALID_ARG)
                    vcpus.set_count(dom, count, hotpluggable)

            self._change(rec, self._targets(rec, False, True), set_count)

    async def rename(self, dom: str, new_name: str) -> None:
        from pyvirt.connection import check_nonempty

        check_nonempty("new_name", new_name, "virDomainRename")
        rec = self.lookup(dom)
        async with self._registry_lock, rec.lock:
            if rec.active:
                raise operation_invalid("domain has to be inactive")
            if not rec.persistent:
                raise operation_invalid("cannot rename a transient domain")
            if self.has_managed_save(rec):  # type: ignore[attr-defined]
                # the image is kept under the name (libvirt's refusal): renamed, the guest would
                # lose its saved state and the image would block a new domain of the old name
                raise operation_invalid("domain with a managed saved state can't be renamed")
            if new_name in self._by_name:
                raise PyvirtError(f"operation failed: domain with name '{new_name}' already exists",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            assert rec.config is not None
            candidate = copy.deepcopy(rec.config)
            candidate.name = new_name
            checked = model.parse_definition(candidate.to_xml(inactive=True, security_info=True))
            old = rec.name
            # a UEFI variable store the config does not name is found by the domain's name at
            # start (NVRAM_DIR/NAME_VARS.fd): it moves with the name, or the renamed guest would
            # boot with fresh variables and a new domain of the old name would get these
            from pyvirt.daemon.firmware import nvram_path

            old_vars = nvram_path(rec.config, self.paths.data / "nvram")
            new_vars = nvram_path(checked, self.paths.data / "nvram")
            move_vars = old_vars != new_vars and old_vars is not None and os.path.exists(old_vars)
            if move_vars and new_vars is not None and os.path.lexists(new_vars):
                raise operation_invalid(f"NVRAM file '{new_vars}' of the new name already exists")
            # snapshot and checkpoint metadata, and snapshots' copies of UEFI variables, are kept
            # in folders named after the domain: one the new name already has (left by an older
            # pyvirt) is refused before anything is written, never adopted or half-moved onto
            folders = [(folder, folder.with_name(new_name)) for folder in (
                self.paths.domains_config / "snapshot" / old, self.paths.domains_config / "checkpoint" / old,
                self.paths.data / "nvram" / "snapshot" / old)]
            for _, target in folders:
                if os.path.lexists(target):
                    raise operation_invalid(f"'{target}' of the new name already exists")
            stored = checked.to_xml(inactive=True, security_info=True)
            self.store.save_config(new_name, stored)
            if rec.autostart:
                self.store.set_autostart(new_name, True)
            for folder, target in folders:
                if folder.is_dir():
                    os.replace(folder, target)
            if move_vars:
                os.replace(old_vars, new_vars)  # type: ignore[arg-type]
            self.store.delete_config(old)
            self._unindex(rec)
            rec.name, rec.config = new_name, checked
            rec.stored_as(stored)
            self._index(rec)
        self.events.emit(old, rec.uuid, EventType.UNDEFINED, UndefinedDetail.RENAMED)
        self.events.emit(new_name, rec.uuid, EventType.DEFINED, 2)
