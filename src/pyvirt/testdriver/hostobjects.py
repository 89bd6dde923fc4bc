"""Networks, storage pools/volumes and host interfaces of a test connection (read side).

Kept apart from the domain code: front ends need these for listings and XML views, and
libvirt's test driver serves them straight from the loaded <node> state.
"""

from __future__ import annotations

from pyvirt.api import ErrorCode
from pyvirt.testdriver.errors import err
from pyvirt.testdriver.xmlutil import to_string

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from pyvirt.testdriver.loader import NodeState
    from pyvirt.testdriver.objects import InterfaceObj, NetworkObj, PoolObj, VolumeObj

_NO_INTERFACE = 57  # virErrorNumber VIR_ERR_NO_INTERFACE (not in api.ErrorCode yet)
_NO_NODE_DEVICE = 51  # virErrorNumber VIR_ERR_NO_NODE_DEVICE


class ResourcesMixin:
    """Lookups and XML for networks, pools, volumes and interfaces."""

    _state: NodeState

    # -- networks
    def list_networks(self) -> list[dict[str, Any]]:
        return [n.record() for n in sorted(self._state.networks, key=lambda n: n.name)]

    def _network(self, ref: str) -> NetworkObj:
        for net in self._state.networks:
            if ref in (net.name, net.uuid):
                return net
        raise err(f"Network not found: no network with matching name '{ref}'", ErrorCode.NO_NETWORK)

    def get_network_xml(self, name: str) -> str:
        return to_string(self._network(name).xml)

    # -- pools and volumes
    def list_pools(self) -> list[dict[str, Any]]:
        return [p.record() for p in sorted(self._state.pools, key=lambda p: p.name)]

    def _pool(self, ref: str) -> PoolObj:
        for pool in self._state.pools:
            if ref in (pool.name, pool.uuid):
                return pool
        raise err(f"Storage pool not found: no storage pool with matching name '{ref}'",
                  ErrorCode.NO_STORAGE_POOL)

    def lookup_pool(self, ref: str) -> dict[str, Any]:
        return self._pool(ref).record()

    def get_pool_xml(self, name: str, inactive: bool = False) -> str:
        return to_string(self._pool(name).xml)

    def list_volumes(self, pool: str) -> list[dict[str, Any]]:
        return [v.record() for v in self._pool(pool).volumes]

    def _volume(self, pool: str, name: str) -> VolumeObj:
        for vol in self._pool(pool).volumes:
            if name in (vol.name, vol.path):
                return vol
        raise err(f"Storage volume not found: no storage vol with matching name '{name}'",
                  ErrorCode.NO_STORAGE_VOL)

    def get_volume_xml(self, pool: str, name: str) -> str:
        return to_string(self._volume(pool, name).xml)

    def lookup_volume(self, pool: str, name: str) -> dict[str, Any]:
        return {"pool": self._pool(pool).name, **self._volume(pool, name).record()}

    def lookup_volume_by_path(self, path: str) -> dict[str, Any]:
        for pool in self._state.pools:
            for vol in pool.volumes:
                if vol.path == path:
                    return {"pool": pool.name, **vol.record()}
        raise err(f"Storage volume not found: no storage vol with matching path '{path}'",
                  ErrorCode.NO_STORAGE_VOL)

    # -- host interfaces
    def list_interfaces(self) -> list[dict[str, Any]]:
        return [i.record() for i in sorted(self._state.interfaces, key=lambda i: i.name)]

    def _interface(self, name: str) -> InterfaceObj:
        for iface in self._state.interfaces:
            if name == iface.name:
                return iface
        raise err(f"Interface not found: no interface with matching name '{name}'", _NO_INTERFACE)

    def get_interface_xml(self, name: str) -> str:
        return to_string(self._interface(name).xml)

    def list_node_devices(self) -> list[str]:
        return [d.findtext("name", "") for d in self._state.devices]

    def get_node_device_xml(self, name: str) -> str:
        """nodedev-dumpxml: the <device> as loaded (virt-install reads capability types)."""
        for dev in self._state.devices:
            if dev.findtext("name", "") == name:
                return to_string(dev)
        raise err(f"Node device not found: no node device with matching name '{name}'",
                  _NO_NODE_DEVICE)
