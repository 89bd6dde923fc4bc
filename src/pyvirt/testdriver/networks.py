"""Networks of a test connection, with libvirt's test-driver behaviour (test_driver.c).

The XML goes through pyvirt's network model (parse, normalise, net-update), so a network
defined here dumps exactly as on pyvirtd; the lifecycle rules are the test driver's own:
define makes an inactive persistent network (or the next config of a running one), create a
running transient one, destroy needs no running network, undefine refuses a running one.
"""

from __future__ import annotations

import time

from pyvirt.api import (
    ErrorCode,
    ErrorDomain,
    NetworkEventType,
    NetworkInfo,
    check_schema,
    from_xml_error,
)
from pyvirt.testdriver import errors as E
from pyvirt.testdriver.errors import err

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from pyvirt.apievents import Event
    from pyvirt.testdriver.loader import NodeState
    from pyvirt.testdriver.objects import NetworkObj
    from pyvirt.xml.network import Network


def parse(xml: str, validate: bool = False) -> Network:
    """The network model of `xml`, or libvirt's error for it."""
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.network import Network

    if validate:
        check_schema(xml, "network", ErrorDomain.TEST)
    try:
        net = Network.from_xml(xml)
    except XMLError as exc:
        raise from_xml_error(exc, ErrorDomain.NETWORK) from None
    # libvirt's test driver registers no network XML namespace (the bridge driver's dnsmasq one),
    # so it reads past <dnsmasq:options> and never shows them
    net.dnsmasq_options = []
    return net


class NetworksMixin:
    """virNetwork* for TestConnection."""

    _state: NodeState
    _net_listeners: list[Any]

    def _write(self, function: str) -> None:  # TestConnection's (read-only connections refuse)
        raise NotImplementedError

    # -- lookups
    def list_networks(self) -> list[NetworkInfo]:
        return [NetworkInfo.from_dict(n.record()) for n in sorted(self._state.networks, key=lambda n: n.name)]

    def _network(self, ref: str) -> NetworkObj:
        for net in self._state.networks:
            if ref in (net.name, net.uuid):
                return net
        raise err(f"Network not found: no network with matching name '{ref}'", ErrorCode.NO_NETWORK)

    def lookup_network(self, ref: str) -> NetworkInfo:
        return NetworkInfo.from_dict(self._network(ref).record())

    def get_network_xml(self, name: str, inactive: bool = False) -> str:
        if inactive:
            raise E.unsupported_flags(1, "testNetworkGetXMLDesc")
        return self._network(name).xml_text()

    # -- definition and lifecycle
    def _assign(self, model: Network, live: bool) -> NetworkObj:
        """virNetworkObjAssignDef: a new object, or the existing one of that name (same UUID)."""
        from pyvirt.testdriver.objects import NetworkObj

        for net in self._state.networks:
            if net.name == model.name:
                if net.uuid != model.uuid:
                    raise E.failed(f"network '{net.name}' already exists with uuid {net.uuid}")
                if live and net.active:
                    raise E.invalid(f"network is already active as '{net.name}'")
                return net
            if net.uuid == model.uuid:
                raise E.failed(f"network '{net.name}' is already defined with uuid {net.uuid}")
        obj = NetworkObj(None, active=False, persistent=not live)  # type: ignore[arg-type]
        obj.set_model(model)
        self._state.networks.append(obj)
        return obj

    def define_network(self, xml: str, validate: bool = False) -> NetworkInfo:
        self._write("virNetworkDefineXML")
        model = parse(xml, validate)
        for net in self._state.networks:  # a transient network of that name becomes persistent
            if net.name == model.name and net.uuid != model.uuid:
                raise E.failed(f"network '{net.name}' already exists with uuid {net.uuid}")
        obj = self._assign(model, live=False)
        if obj.active:
            obj.new_def = model
        else:
            obj.set_model(model)
        obj.persistent = True
        self._net_event(obj, NetworkEventType.DEFINED)
        return NetworkInfo.from_dict(obj.record())

    def create_network(self, xml: str, validate: bool = False) -> NetworkInfo:
        self._write("virNetworkCreateXML")
        model = parse(xml, validate)
        obj = self._assign(model, live=True)
        if obj.persistent and obj.new_def is None and obj.model is not None:
            obj.new_def = obj.model  # the config returns at the next destroy
        obj.set_model(model)
        obj.active = True
        self._net_event(obj, NetworkEventType.STARTED)
        return NetworkInfo.from_dict(obj.record())

    def start_network(self, name: str) -> None:
        self._write("virNetworkCreate")
        obj = self._network(name)
        if obj.active:
            raise E.invalid(f"Network '{obj.name}' is already running")
        obj.active = True
        self._net_event(obj, NetworkEventType.STARTED)

    def destroy_network(self, name: str) -> None:
        self._write("virNetworkDestroy")
        obj = self._network(name)
        obj.active = False
        if obj.new_def is not None:
            obj.set_model(obj.new_def)
            obj.new_def = None
        self._net_event(obj, NetworkEventType.STOPPED)
        if not obj.persistent:
            self._state.networks.remove(obj)

    def undefine_network(self, name: str) -> None:
        self._write("virNetworkUndefine")
        obj = self._network(name)
        if obj.active:
            raise E.invalid(f"Network '{obj.name}' is still running")
        self._state.networks.remove(obj)
        self._net_event(obj, NetworkEventType.UNDEFINED)

    def set_network_autostart(self, name: str, autostart: bool) -> None:
        self._write("virNetworkSetAutostart")
        self._network(name).autostart = autostart

    def update_network(self, name: str, command: str, section: str, xml: str, parent_index: int = -1,
                       live: bool = False, config: bool = False) -> None:
        """testNetworkUpdate: the live definition (default for a running network) and/or the config."""
        from pyvirt.xml.errors import XMLError
        from pyvirt.xml.network_update import update_network

        self._write("virNetworkUpdate")
        obj = self._network(name)
        if not live and not config:
            live, config = obj.active, not obj.active
        if live and not obj.active:
            raise E.invalid("network is not running")
        if config and not obj.persistent:
            raise E.invalid("cannot change persistent config of a transient network")
        try:
            if live:
                new_live = update_network(obj.model, command, section, xml, parent_index)
            if config:
                base = obj.new_def if obj.new_def is not None else obj.model
                new_config = update_network(base, command, section, xml, parent_index)
        except XMLError as exc:
            raise from_xml_error(exc, ErrorDomain.NETWORK) from None
        if live:
            obj.set_model(new_live)
        if config:
            if obj.active:
                obj.new_def = new_config
            else:
                obj.set_model(new_config)

    # -- events
    def _publish(self, event: Event) -> None:  # TestConnection's (one stream for every kind)
        raise NotImplementedError

    def _net_event(self, obj: NetworkObj, event: NetworkEventType) -> None:
        from pyvirt.apievents import NetworkEvent  # event records load with the first event

        self._publish(NetworkEvent(obj.name, obj.uuid, int(event), timestamp=time.time()))
