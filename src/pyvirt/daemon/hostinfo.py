"""Host facts for the API: hostname, versions, node info, capabilities XML (probed lazily, cached)."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from pyvirt import __version__
from pyvirt.api import (
    ErrorCode,
    ErrorDomain,
    InterfaceInfo,
    NetworkInfo,
    NodeDeviceInfo,
    NodeInfo,
    PyvirtError,
    no_support,
)
from pyvirt.daemon import hostdevs, hostmem, hostnuma, nodedev_changes


def _version_tuple(text: str) -> list[int]:
    return [int(p) for p in text.split(".")[:3] if p.isdigit()]


class HostInfo:
    def __init__(self, uri: str, driver: Any) -> None:
        self.uri = uri
        self.driver = driver

    def get_hostname(self) -> str:
        return socket.gethostname()

    def get_sysinfo(self) -> str:
        """libvirt reads the host's SMBIOS tables with dmidecode; pyvirtd does not (yet)."""
        raise no_support("virConnectGetSysinfo")

    def list_networks(self) -> list[NetworkInfo]:
        """Session daemons have no network driver (bridges need root), so they manage no networks
        (user-mode NICs need none); every other network operation answers "not supported"."""
        return []

    def list_interfaces(self) -> list[InterfaceInfo]:
        return hostdevs.list_interfaces()

    def get_interface_xml(self, name: str, inactive: bool = False) -> str:
        return hostdevs.interface_xml(name)

    def list_node_devices(self, active: bool = False, inactive: bool = False) -> list[NodeDeviceInfo]:
        # every device read from sysfs is present (active); none is defined-only
        return [] if inactive and not active else hostdevs.list_node_devices()

    def lookup_node_device(self, name: str) -> NodeDeviceInfo:
        return hostdevs.lookup_node_device(name)

    def get_node_device_xml(self, name: str) -> str:
        return hostdevs.node_device_xml(name)

    def lookup_scsi_host_by_wwn(self, wwnn: str, wwpn: str) -> NodeDeviceInfo:
        return hostdevs.lookup_scsi_host_by_wwn(wwnn, wwpn)

    # -- node device changes (pyvirt.daemon.nodedev_changes: libvirt's answers for these devices)
    def create_node_device(self, xml: str, validate: bool = False) -> NodeDeviceInfo:
        return nodedev_changes.create(xml, validate=validate)

    def define_node_device(self, xml: str, validate: bool = False) -> NodeDeviceInfo:
        return nodedev_changes.create(xml, define=True, validate=validate)

    def destroy_node_device(self, name: str) -> None:
        nodedev_changes.destroy(name)

    def undefine_node_device(self, name: str) -> None:
        nodedev_changes.undefine(name)

    def start_node_device(self, name: str) -> None:
        nodedev_changes.start(name)

    def set_node_device_autostart(self, name: str, autostart: bool) -> None:
        nodedev_changes.set_autostart(name, autostart)

    def detach_node_device(self, name: str, driver: str | None = None) -> None:
        nodedev_changes.detach(name, driver)

    def reattach_node_device(self, name: str) -> None:
        nodedev_changes.reattach(name)

    def reset_node_device(self, name: str) -> None:
        nodedev_changes.reset(name)

    async def kvm(self) -> Any:
        return await self.driver.kvm()

    async def kvm_reason(self) -> str:
        return str((await self.kvm()).reason)

    async def get_version(self) -> dict[str, Any]:
        caps = await self.driver.caps()
        return {"hypervisor": "QEMU", "hv_version": list(caps.version[:3]),
                "lib_version": _version_tuple(__version__), "daemon_version": _version_tuple(__version__)}

    def node_info(self) -> NodeInfo:
        from pyvirt.qemu.capsxml import parse_cpuinfo

        with open("/proc/cpuinfo") as handle:
            cpuinfo_text = handle.read()
        cpu = parse_cpuinfo(cpuinfo_text)
        mhz = 0
        for line in cpuinfo_text.splitlines():
            if line.startswith("cpu MHz"):
                mhz = int(float(line.partition(":")[2]))
                break
        mem_kib = 0
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
                    break
        cpus = os.cpu_count() or 1
        return NodeInfo(model=os.uname().machine, memory_kib=mem_kib, cpus=cpus,
                        mhz=mhz, nodes=1, sockets=int(cpu["sockets"]), cores=int(cpu["cores"]),
                        threads=int(cpu["threads"]))

    # -- NUMA cells, CPUs and memory (pyvirt.daemon.hostnuma reads them)
    def node_free_memory(self) -> int:
        return hostnuma.free_memory()

    def node_cells_free_memory(self, start: int = 0, count: int = 1) -> list[int]:
        return hostnuma.cells_free_memory(start, count)

    def max_vcpus(self, virttype: str | None = None) -> int:
        return hostnuma.max_vcpus(virttype)

    def node_cpu_map(self) -> list[bool]:
        return hostnuma.cpu_map()

    def node_cpu_stats(self, cpu: int = -1) -> dict[str, int]:
        from pyvirt.connection import check_all_or_one

        check_all_or_one(cpu, "cpuNum in virNodeGetCPUStats")
        return hostnuma.cpu_stats(cpu)

    def node_memory_stats(self, cell: int = -1) -> dict[str, int]:
        from pyvirt.connection import check_all_or_one

        check_all_or_one(cell, "cellNum in virNodeGetMemoryStats")
        return hostnuma.memory_stats(cell)

    def node_free_pages(self, pages: list[int], start_cell: int = -1, cell_count: int = 1) -> list[int]:
        return hostmem.free_pages(pages, start_cell, cell_count)

    def node_alloc_pages(self, pages: list[int], counts: list[int], start_cell: int = -1,
                         cell_count: int = 1, add: bool = False) -> int:
        return hostmem.alloc_pages(pages, counts, start_cell, cell_count, add)

    def node_memory_parameters(self) -> dict[str, int]:
        return hostmem.memory_parameters()

    def set_node_memory_parameters(self, params: dict[str, int]) -> None:
        hostmem.set_memory_parameters(params)

    def node_suspend(self, target: str, duration: int) -> None:
        hostmem.suspend(target, duration)

    def node_security_model(self) -> dict[str, str]:
        """pyvirtd confines guests with no security driver (its capabilities say model 'none')."""
        return {"model": "none", "doi": "0"}

    async def get_cpu_model_names(self, arch: str) -> list[str]:
        """libvirt's CPU-driver rules per architecture; for x86 the models QEMU reports (the ones a
        guest here can be given), in QEMU's order."""
        from pyvirt.cpumodels import model_names

        caps = await self.driver.caps()
        return model_names(arch, [m.name for m in caps.cpu_models])

    # -- CPU baseline and comparison (pyvirt.cpucompute over the map QEMU gives, pyvirt.qemu.cpuprobe)
    async def _cpu_map(self) -> Any:
        from pyvirt.qemu.cpuprobe import cpu_map

        return await asyncio.to_thread(cpu_map, (await self.driver.caps()).binary)

    async def baseline_cpu(self, xml_cpus: list[str], expand_features: bool = False, migratable: bool = False) -> str:
        from pyvirt.cpucompute import baseline_xml

        return baseline_xml(await self._cpu_map(), xml_cpus, expand=expand_features, migratable=migratable)

    async def compare_cpu(self, xml: str, fail_incompatible: bool = False, validate: bool = False) -> int:
        """Against the host's own CPU (pyvirt.daemon.hostcpu: its CPUID, as libvirt reads it)."""
        from pyvirt.cpucompute import compare_xml
        from pyvirt.daemon.hostcpu import host_cpu

        cmap = await self._cpu_map()
        host, vendor = await asyncio.to_thread(host_cpu, cmap)
        return compare_xml(cmap, host, vendor, xml, fail_incompatible, validate)

    async def host_model_cpu(self) -> Any:
        """The CPU a host-model guest gets under TCG (libvirt's host-model for virttype qemu):
        QEMU's "max" named by the closest model, as libvirt decodes it."""
        from pyvirt.qemu.cpuprobe import tcg_host_model

        return await asyncio.to_thread(tcg_host_model, (await self.driver.caps()).binary)

    async def _hypervisor_map(self, emulator: str | None, arch: str | None, machine: str | None,
                              virttype: str | None) -> Any:
        """The map after libvirt's checks of the hypervisor arguments (domcapabilities' own)."""
        await self.get_domain_capabilities(emulator, arch, machine, virttype)
        return await self._cpu_map()

    async def baseline_hypervisor_cpu(self, xml_cpus: list[str], emulator: str | None = None,
                                      arch: str | None = None, machine: str | None = None,
                                      virttype: str | None = None, expand_features: bool = False,
                                      migratable: bool = False) -> str:
        from pyvirt.cpucompute import baseline_xml

        cmap = await self._hypervisor_map(emulator, arch, machine, virttype)
        return baseline_xml(cmap, xml_cpus, expand=expand_features, migratable=migratable, hypervisor=True)

    async def compare_hypervisor_cpu(self, xml: str, emulator: str | None = None, arch: str | None = None,
                                     machine: str | None = None, virttype: str | None = None,
                                     fail_incompatible: bool = False, validate: bool = False) -> int:
        """Against the CPU TCG gives a guest here (QEMU's "max", libvirt's host-model for qemu)."""
        from pyvirt.cpucompute import compare_xml

        cmap = await self._hypervisor_map(emulator, arch, machine, virttype)
        hv = cmap.hypervisor
        return compare_xml(cmap, set(hv.features), hv.vendor, xml, fail_incompatible, validate)

    async def get_capabilities(self) -> str:
        from pyvirt.qemu.capsxml import capabilities_xml

        return capabilities_xml(await self.driver.caps(), await self.kvm(), cells=hostnuma.topology())

    async def get_domain_capabilities(self, emulator: str | None = None, arch: str | None = None,
                                      machine: str | None = None, virttype: str | None = None) -> str:
        from pyvirt.cpumodels import ARCHES
        from pyvirt.qemu.capsxml import DomainCapsRefused, domain_capabilities_xml

        if virttype is not None and virttype not in ("qemu", "kvm"):  # libvirt checks this first
            raise PyvirtError(f"invalid argument: unknown virttype: {virttype}", ErrorCode.INVALID_ARG,
                              ErrorDomain.CAPABILITIES)
        if arch is not None and arch not in ARCHES:
            raise PyvirtError(f"invalid argument: unknown architecture: {arch}", ErrorCode.INVALID_ARG,
                              ErrorDomain.CAPABILITIES)
        if emulator:
            try:
                os.stat(emulator)
            except OSError as exc:
                raise PyvirtError(f"Cannot check QEMU binary {emulator}: {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                                  ErrorDomain.CAPABILITIES) from None
        if arch not in (None, "x86_64", "i686"):
            raise PyvirtError(f"unsupported configuration: unable to find any emulator to serve '{arch}' "
                              "architecture", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.CAPABILITIES)
        host_model = None
        if (virttype or "qemu") == "qemu" and (arch or "x86_64") == "x86_64":
            host_model = await self.host_model_cpu()
        try:
            return domain_capabilities_xml(await self.driver.caps(), await self.kvm(), machine=machine,
                                           arch=arch or "x86_64", virttype=virttype or "qemu",
                                           host_model=host_model)
        except DomainCapsRefused as exc:
            raise PyvirtError(f"invalid argument: {exc}", ErrorCode.INVALID_ARG, ErrorDomain.CAPABILITIES) from exc
