"""The command table: every virsh command pyvirt offers, its option table and help text.

Only definitions live here (plain objects, cheap to build); each command's implementation is a
function ``cmd_<name>`` in the module named by ``Cmd.module``, imported only when the command
runs, so that ``pyvirt list`` never pays for ``edit``'s or ``event``'s imports.
"""

from __future__ import annotations

from pyvirt.cli import table_network, table_snapshot, table_storage
from pyvirt.cli.grammar import ARGV, BOOL, NUMBER, STRING, Cmd, Opt

DOMAIN = "Domain Management"
MONITOR = "Domain Monitoring"
EVENTS = "Domain Events"
HOST = "Host and Hypervisor"
VIRSH = "Virsh itself"

#: help groups in virsh's order with their keyword for ``help <keyword>``
GROUPS: tuple[tuple[str, str], ...] = (
    (DOMAIN, "domain"), (MONITOR, "monitor"), (EVENTS, "events"), (HOST, "host"), *table_network.GROUPS,
    *table_snapshot.GROUPS, *table_storage.GROUPS,
    (VIRSH, "virsh"),
)


def _dom(help: str = "domain name, id or uuid") -> Opt:
    return Opt("domain", STRING, help, pos=True, req=True)


def _file() -> Opt:
    return Opt("file", STRING, "file containing an XML domain description", pos=True, req=True)


_SCOPE = (Opt("config", BOOL, "affect next boot"), Opt("live", BOOL, "affect running domain"),
          Opt("current", BOOL, "affect current domain"))
_MODE = Opt("mode", STRING, "shutdown mode: acpi|agent|initctl|signal|paravirt")

_LIST_OPTS = (
    ("inactive", "list inactive domains"), ("all", "list inactive & active domains"),
    ("transient", "list transient domains"), ("persistent", "list persistent domains"),
    ("with-snapshot", "list domains with existing snapshot"),
    ("without-snapshot", "list domains without a snapshot"),
    ("with-checkpoint", "list domains with existing checkpoint"),
    ("without-checkpoint", "list domains without a checkpoint"),
    ("state-running", "list domains in running state"), ("state-paused", "list domains in paused state"),
    ("state-shutoff", "list domains in shutoff state"), ("state-other", "list domains in other states"),
    ("autostart", "list domains with autostart enabled"), ("no-autostart", "list domains with autostart disabled"),
    ("with-managed-save", "list domains with managed save state"),
    ("without-managed-save", "list domains without managed save"),
    ("uuid", "list uuid's only"), ("name", "list domain names only"), ("id", "list domain IDs only"),
    ("table", "list table (default)"), ("managed-save", "mark inactive domains with managed save state"),
    ("title", "show domain title"),
)

_STATS_OPTS = (
    ("state", "report domain state"), ("cpu-total", "report domain physical cpu usage"),
    ("balloon", "report domain balloon statistics"), ("vcpu", "report domain virtual cpu information"),
    ("interface", "report domain network interface information"),
    ("block", "report domain block device statistics"),
    ("list-active", "list only active domains"), ("list-inactive", "list only inactive domains"),
    ("list-persistent", "list only persistent domains"), ("list-transient", "list only transient domains"),
    ("list-running", "list only running domains"), ("list-paused", "list only paused domains"),
    ("list-shutoff", "list only shutoff domains"), ("list-other", "list only domains in other states"),
    ("raw", "do not pretty-print the fields"), ("enforce", "enforce requested stats parameters"),
)

_START = (Opt("console", BOOL, "attach to console after creation"),
          Opt("paused", BOOL, "leave the guest paused after creation"),
          Opt("autodestroy", BOOL, "automatically destroy the guest when virsh disconnects"))

COMMANDS: tuple[Cmd, ...] = (
    # -- Domain Management
    Cmd("autostart", DOMAIN, "cmd_config", "autostart a domain",
        "Configure a domain to be automatically started at boot.",
        (_dom(), Opt("disable", BOOL, "disable autostarting"))),
    Cmd("console", DOMAIN, "cmd_console", "connect to the guest console",
        "Connect the virtual serial console for the guest",
        (_dom(), Opt("devname", STRING, "character device name"),
         Opt("force", BOOL, "force console connection (disconnect already connected sessions)"),
         Opt("safe", BOOL, "only connect if safe console handling is supported"))),
    Cmd("create", DOMAIN, "cmd_lifecycle", "create a domain from an XML file", "Create a domain.",
        (_file(), *_START, Opt("validate", BOOL, "validate the XML against the schema"))),
    Cmd("define", DOMAIN, "cmd_config", "define (but don't start) a domain from an XML file",
        "Define a domain.", (_file(), Opt("validate", BOOL, "validate the XML against the schema"))),
    Cmd("desc", DOMAIN, "cmd_config", "show or set domain's description or title",
        "Allows setting or modifying the description or title of a domain.",
        (_dom(), Opt("live", BOOL, "modify/get running state"),
         Opt("config", BOOL, "modify/get persistent configuration"),
         Opt("current", BOOL, "modify/get current state configuration"),
         Opt("title", BOOL, "modify/get the title instead of description"),
         Opt("new-desc", ARGV, "message")), blank=False),
    Cmd("destroy", DOMAIN, "cmd_lifecycle", "destroy (stop) a domain",
        "Forcefully stop a given domain, but leave its resources intact.",
        (_dom(), Opt("graceful", BOOL, "terminate gracefully"))),
    Cmd("domdisplay", DOMAIN, "cmd_devices", "domain display connection URI",
        "Output the IP address and port number for the graphical display.",
        (_dom(), Opt("include-password", BOOL, "includes the password into the connection URI if available"),
         Opt("type", STRING, 'select particular graphical display (e.g. "vnc", "spice", "rdp", "dbus")'),
         Opt("all", BOOL, "show all possible graphical displays"))),
    Cmd("domid", DOMAIN, "cmd_info", "convert a domain name or UUID to domain id", "",
        (_dom("domain name or uuid"),)),
    Cmd("domname", DOMAIN, "cmd_info", "convert a domain id or UUID to domain name", "",
        (_dom("domain id or uuid"),)),
    Cmd("domrename", DOMAIN, "cmd_config", "rename a domain", "Rename an inactive domain.",
        (_dom("domain name or uuid"), Opt("new-name", STRING, "new domain name", pos=True, req=True))),
    Cmd("domuuid", DOMAIN, "cmd_info", "convert a domain name or id to domain UUID", "",
        (_dom("domain id or name"),)),
    Cmd("domxml-to-native", DOMAIN, "cmd_config", "Convert domain XML to native config",
        "Convert domain XML config to a native guest configuration format.",
        (Opt("format", STRING, "target config data type format", pos=True, req=True),
         Opt("xml", STRING, "xml data file to export from", pos=True),
         Opt("domain", STRING, "domain name, id or uuid"))),
    Cmd("dumpxml", DOMAIN, "cmd_config", "domain information in XML",
        "Output the domain information as an XML dump to stdout.",
        (_dom(), Opt("inactive", BOOL, "show inactive defined XML"),
         Opt("security-info", BOOL, "include security sensitive information in XML dump"),
         Opt("xpath", STRING, "xpath expression to filter the XML document"),
         Opt("wrap", BOOL, "wrap xpath results in an common root element"))),
    Cmd("edit", DOMAIN, "cmd_edit", "edit XML configuration for a domain",
        "Edit the XML configuration for a domain.",
        (_dom(), Opt("skip-validate", BOOL, "skip validation of the XML against the schema"))),
    Cmd("reboot", DOMAIN, "cmd_lifecycle", "reboot a domain", "Run a reboot command in the target domain.",
        (_dom(), _MODE)),
    Cmd("reset", DOMAIN, "cmd_lifecycle", "reset a domain", "Reset the target domain as if by power button",
        (_dom(),)),
    Cmd("resume", DOMAIN, "cmd_lifecycle", "resume a domain", "Resume a previously suspended domain.",
        (_dom(),)),
    Cmd("send-key", DOMAIN, "cmd_devices", "Send keycodes to the guest",
        "Send keycodes (integers or symbolic names) to the guest",
        (_dom(), Opt("codeset", STRING, "the codeset of keycodes, default:linux"),
         Opt("holdtime", NUMBER, "the time (in milliseconds) how long the keys will be held"),
         Opt("keycode", ARGV, "the key code", req=True))),
    Cmd("setmaxmem", DOMAIN, "cmd_config", "change maximum memory limit",
        "Change the maximum memory allocation limit in the guest domain.",
        (_dom(), Opt("size", NUMBER, "new maximum memory size, as scaled integer (default KiB)",
                     pos=True, req=True), *_SCOPE)),
    Cmd("setmem", DOMAIN, "cmd_config", "change memory allocation",
        "Change the current memory allocation in the guest domain.",
        (_dom(), Opt("size", NUMBER, "new memory size, as scaled integer (default KiB)", pos=True, req=True),
         *_SCOPE)),
    Cmd("setvcpus", DOMAIN, "cmd_config", "change number of virtual CPUs",
        "Change the number of virtual CPUs in the guest domain.",
        (_dom(), Opt("count", NUMBER, "number of virtual CPUs", pos=True, req=True),
         Opt("maximum", BOOL, "set maximum limit on next boot"), *_SCOPE)),
    Cmd("shutdown", DOMAIN, "cmd_lifecycle", "gracefully shutdown a domain",
        "Run shutdown in the target domain.", (_dom(), _MODE)),
    Cmd("start", DOMAIN, "cmd_lifecycle", "start a (previously defined) inactive domain",
        "Start a domain, either from the last managedsave\nstate, or via a fresh boot if no managedsave state\n"
        "is present.",
        (_dom("name of the inactive domain"), *_START,
         Opt("force-boot", BOOL, "force fresh boot by discarding any managed save"))),
    Cmd("suspend", DOMAIN, "cmd_lifecycle", "suspend a domain", "Suspend a running domain.", (_dom(),)),
    Cmd("ttyconsole", DOMAIN, "cmd_devices", "tty console", "Output the device for the TTY console.",
        (_dom(),)),
    Cmd("undefine", DOMAIN, "cmd_config", "undefine a domain",
        "Undefine an inactive domain, or convert persistent to transient.",
        (_dom(), Opt("managed-save", BOOL, "remove domain managed state file"), *table_storage.UNDEFINE_OPTS,
         Opt("snapshots-metadata", BOOL, "remove all domain snapshot metadata (vm must be inactive)"),
         Opt("nvram", BOOL, "remove nvram file"), Opt("keep-nvram", BOOL, "keep nvram file"))),
    Cmd("vncdisplay", DOMAIN, "cmd_devices", "vnc display",
        "Output the IP address and port number for the VNC display.", (_dom(),)),
    # -- Domain Monitoring
    Cmd("domblklist", MONITOR, "cmd_devices", "list all domain blocks",
        "Get the summary of block devices for a domain.",
        (_dom(), Opt("inactive", BOOL, "get inactive rather than running configuration"),
         Opt("details", BOOL, "additionally display the type and device value"))),
    Cmd("domifaddr", MONITOR, "cmd_devices", "Get network interfaces' addresses for a running domain",
        "Get network interfaces' addresses for a running domain",
        (_dom(), Opt("interface", STRING, "network interface name"),
         Opt("full", BOOL, "always display names and MACs of interfaces"),
         Opt("source", STRING, "address source: 'lease', 'agent', or 'arp'"))),
    Cmd("domiflist", MONITOR, "cmd_devices", "list all domain virtual interfaces",
        "Get the summary of virtual interfaces for a domain.",
        (_dom(), Opt("inactive", BOOL, "get inactive rather than running configuration"))),
    Cmd("dominfo", MONITOR, "cmd_info", "domain information", "Returns basic information about the domain.",
        (_dom(),)),
    Cmd("dommemstat", MONITOR, "cmd_devices", "get memory statistics for a domain",
        "Get memory statistics for a running domain.",
        (_dom(), Opt("period", NUMBER, "period in seconds to set collection"), *_SCOPE)),
    Cmd("domstate", MONITOR, "cmd_info", "domain state", "Returns state about a domain.",
        (_dom(), Opt("reason", BOOL, "also print reason for the state"))),
    Cmd("domstats", MONITOR, "cmd_devices", "get statistics about one or multiple domains",
        "Gets statistics about one or more (or all) domains",
        (*(Opt(n, BOOL, h) for n, h in _STATS_OPTS), Opt("domain", ARGV, "list of domains to get stats for"))),
    Cmd("list", MONITOR, "cmd_list", "list domains", "Returns list of domains.",
        tuple(Opt(n, BOOL, h) for n, h in _LIST_OPTS)),
    # -- Domain Events
    Cmd("event", EVENTS, "cmd_event", "Domain Events", "List event types, or wait for domain events to occur",
        (Opt("domain", STRING, "filter by domain name, id or uuid"),
         Opt("event", STRING, "which event type to wait for"),
         Opt("all", BOOL, "wait for all events instead of just one type"),
         Opt("loop", BOOL, "loop until timeout or interrupt, rather than one-shot"),
         Opt("timeout", NUMBER, "timeout seconds"), Opt("list", BOOL, "list valid event types"),
         Opt("timestamp", BOOL, "show timestamp for each printed event"))),
    # -- Host and Hypervisor
    Cmd("capabilities", HOST, "cmd_host", "capabilities", "Returns capabilities of hypervisor/driver."),
    Cmd("domcapabilities", HOST, "cmd_host", "domain capabilities",
        "Returns capabilities of emulator with respect to host and libvirt.",
        (Opt("virttype", STRING, "virtualization type (/domain/@type)"),
         Opt("emulatorbin", STRING, "path to emulator binary (/domain/devices/emulator)"),
         Opt("arch", STRING, "domain architecture (/domain/os/type/@arch)"),
         Opt("machine", STRING, "machine type (/domain/os/type/@machine)"))),
    Cmd("hostname", HOST, "cmd_host", "print the hypervisor hostname", ""),
    Cmd("nodeinfo", HOST, "cmd_host", "node information", "Returns basic information about the node."),
    Cmd("sysinfo", HOST, "cmd_host", "print the hypervisor sysinfo",
        "output an XML string for the hypervisor sysinfo, if available"),
    Cmd("uri", HOST, "cmd_host", "print the hypervisor canonical URI", ""),
    Cmd("version", HOST, "cmd_host", "show version", "Display the system version information.",
        (Opt("daemon", BOOL, "report daemon version too"),)),
    # -- Virsh itself
    Cmd("cd", VIRSH, "cmd_shell", "change the current directory", "Change the current directory.",
        (Opt("dir", STRING, "directory to switch to (default: home or else root)", pos=True),),
        noconnect=True),
    Cmd("echo", VIRSH, "cmd_shell", "echo arguments. Used for internal testing.",
        "Echo back arguments, possibly with quoting. Used for internal testing.",
        (Opt("shell", BOOL, "escape for shell use"), Opt("xml", BOOL, "escape for XML use"),
         Opt("err", BOOL, "output to stderr"), Opt("string", ARGV, "arguments to echo")),
        noconnect=True, blank=False),
    Cmd("exit", VIRSH, "cmd_shell", "quit this interactive terminal", "", noconnect=True, blank=False),
    Cmd("help", VIRSH, "cmd_shell", "print help",
        "Prints global help, command specific help, or help for a\ngroup of related commands",
        (Opt("command", STRING, "Prints global help, command specific help, or help for a group of related "
             "commands", pos=True),), noconnect=True),
    Cmd("pwd", VIRSH, "cmd_shell", "print the current directory", "Print the current directory.",
        noconnect=True),
    Cmd("quit", VIRSH, "cmd_shell", "quit this interactive terminal", "", noconnect=True, blank=False),
    Cmd("connect", VIRSH, "cmd_shell", "(re)connect to hypervisor",
        "Connect to local hypervisor. This is built-in command after shell start up.",
        (Opt("name", STRING, "hypervisor connection URI", pos=True),
         Opt("readonly", BOOL, "read-only connection")), noconnect=True),
)

COMMANDS += table_network.COMMANDS + table_storage.COMMANDS + table_snapshot.COMMANDS
_BY_NAME: dict[str, Cmd] = {c.name: c for c in COMMANDS}


def lookup(name: str) -> Cmd | None:
    """The command called `name` (no abbreviations, as virsh)."""
    return _BY_NAME.get(name)
