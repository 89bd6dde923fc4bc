"""Command table entries for virsh 9.0's Networking group (option tables and help text).

table.py appends these to COMMANDS; the implementations live in cmd_net.py, imported only
when a network command runs.
"""

from __future__ import annotations

from pyvirt.cli.grammar import BOOL, NUMBER, STRING, Cmd, Opt

NETWORK = "Networking"
GROUPS = ((NETWORK, "network"),)


def _net(help: str = "network name or uuid") -> Opt:
    return Opt("network", STRING, help, pos=True, req=True)


def _port() -> Opt:
    return Opt("port", STRING, "port UUID", pos=True, req=True)


_FILE = Opt("file", STRING, "file containing an XML network description", pos=True, req=True)
_VALIDATE = Opt("validate", BOOL, "validate the XML against the schema")
_XPATH = (Opt("xpath", STRING, "xpath expression to filter the XML document"),
          Opt("wrap", BOOL, "wrap xpath results in an common root element"))

COMMANDS: tuple[Cmd, ...] = (
    Cmd("net-autostart", NETWORK, "cmd_net", "autostart a network",
        "Configure a network to be automatically started at boot.",
        (_net(), Opt("disable", BOOL, "disable autostarting"))),
    Cmd("net-create", NETWORK, "cmd_net", "create a network from an XML file", "Create a network.",
        (_FILE, _VALIDATE)),
    Cmd("net-define", NETWORK, "cmd_net",
        "define an inactive persistent virtual network or modify an existing persistent one from an XML file",
        "Define or modify a persistent virtual network.", (_FILE, _VALIDATE)),
    Cmd("net-destroy", NETWORK, "cmd_net", "destroy (stop) a network", "Forcefully stop a given network.",
        (_net(),)),
    Cmd("net-dhcp-leases", NETWORK, "cmd_net", "print lease info for a given network",
        "Print lease info for a given network", (_net(), Opt("mac", STRING, "MAC address"))),
    Cmd("net-dumpxml", NETWORK, "cmd_net", "network information in XML",
        "Output the network information as an XML dump to stdout.",
        (_net(), Opt("inactive", BOOL, "show inactive defined XML"), *_XPATH)),
    Cmd("net-edit", NETWORK, "cmd_net", "edit XML configuration for a network",
        "Edit the XML configuration for a network.", (_net(),)),
    Cmd("net-event", NETWORK, "cmd_net", "Network Events", "List event types, or wait for network events to occur",
        (Opt("network", STRING, "filter by network name or uuid"),
         Opt("event", STRING, "which event type to wait for"),
         Opt("loop", BOOL, "loop until timeout or interrupt, rather than one-shot"),
         Opt("timeout", NUMBER, "timeout seconds"), Opt("list", BOOL, "list valid event types"),
         Opt("timestamp", BOOL, "show timestamp for each printed event"))),
    Cmd("net-info", NETWORK, "cmd_net", "network information", "Returns basic information about the network",
        (_net(),)),
    Cmd("net-list", NETWORK, "cmd_net", "list networks", "Returns list of networks.",
        (Opt("inactive", BOOL, "list inactive networks"), Opt("all", BOOL, "list inactive & active networks"),
         Opt("persistent", BOOL, "list persistent networks"), Opt("transient", BOOL, "list transient networks"),
         Opt("autostart", BOOL, "list networks with autostart enabled"),
         Opt("no-autostart", BOOL, "list networks with autostart disabled"),
         Opt("uuid", BOOL, "list uuid's only"), Opt("name", BOOL, "list network names only"),
         Opt("table", BOOL, "list table (default)"))),
    Cmd("net-name", NETWORK, "cmd_net", "convert a network UUID to network name", "", (_net("network uuid"),)),
    Cmd("net-start", NETWORK, "cmd_net", "start a (previously defined) inactive network", "Start a network.",
        (_net(),)),
    Cmd("net-undefine", NETWORK, "cmd_net", "undefine a persistent network",
        "Undefine the configuration for a persistent network.", (_net(),)),
    Cmd("net-update", NETWORK, "cmd_net", "update parts of an existing network's configuration", "",
        (_net(), Opt("command", STRING, "type of update (add-first, add-last (add), delete, or modify)",
                     pos=True, req=True),
         Opt("section", STRING, "which section of network configuration to update", pos=True, req=True),
         Opt("xml", STRING, "name of file containing xml (or, if it starts with '<', the complete xml element "
             "itself) to add/modify, or to be matched for search", pos=True, req=True),
         Opt("parent-index", NUMBER, "which parent object to search through"),
         Opt("config", BOOL, "affect next network startup"), Opt("live", BOOL, "affect running network"),
         Opt("current", BOOL, "affect current state of network"))),
    Cmd("net-uuid", NETWORK, "cmd_net", "convert a network name to network UUID", "", (_net("network name"),)),
    Cmd("net-port-list", NETWORK, "cmd_net", "list network ports", "Returns list of network ports.",
        (_net(), Opt("uuid", BOOL, "list uuid's only"), Opt("table", BOOL, "list table (default)"))),
    Cmd("net-port-create", NETWORK, "cmd_net", "create a network port from an XML file", "Create a network port.",
        (_net(), Opt("file", STRING, "file containing an XML network port description", pos=True, req=True),
         _VALIDATE)),
    Cmd("net-port-dumpxml", NETWORK, "cmd_net", "network port information in XML",
        "Output the network port information as an XML dump to stdout.", (_net(), _port(), *_XPATH)),
    Cmd("net-port-delete", NETWORK, "cmd_net", "delete the specified network port",
        "Delete the specified network port.", (_net(), _port())),
)
