"""pyvirt-dbus on a private session bus, its /org/libvirt/Test object (fresh test:///default).

One service per module; tests that change objects make their own (names unique per test).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Variant
from dbus_fast.introspection import Node
from dbus_fast.signature import SignatureTree

from pyvirt.api import DefinedDetail, EventType, StartedDetail, StoppedDetail
from pyvirt.dbus import interfaces, members, paths
from tests.dbus.bus import (
    CONNECT,
    DOMAIN,
    PROPS,
    TEST,
    Client,
    DBusError,
    running_service,
    unwrap_params,
    wait_signal,
)
from tests.dbus.cockpit_reference import LIBVIRT_DBUS, cockpit_members

SRC = Path(__file__).resolve().parents[2] / "src" / "pyvirt" / "dbus"
SAMPLE_DOMAIN = """<domain type='test'><name>{name}</name><memory>131072</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices/></domain>"""


# ------------------------------------------------------------------------- no bus needed
def test_shipped_introspection_files_are_verbatim_copies() -> None:
    if not LIBVIRT_DBUS.exists():
        pytest.skip(f"{LIBVIRT_DBUS} not found")
    shipped = interfaces.data_files()
    reference = {p.name: p.read_text() for p in LIBVIRT_DBUS.glob("org.libvirt.*.xml")}
    assert shipped == reference


def test_interface_counts_are_libvirt_dbus_1_4_1s() -> None:
    ifaces = interfaces.interfaces().values()
    assert sum(len(i.methods) for i in ifaces) == 194
    assert sum(len(i.properties) for i in ifaces) == 37
    assert sum(len(i.signals) for i in ifaces) == 27


def test_iftable_is_current() -> None:
    """pyvirt/dbus/iftable.py is what `python -m pyvirt.dbus.interfaces` writes from the files."""
    with open(Path(interfaces.__file__).with_name(interfaces.IFTABLE), encoding="utf-8") as fh:
        assert fh.read() == interfaces.render_iftable(), "run: python -m pyvirt.dbus.interfaces"


def test_iftable_reads_as_the_files() -> None:
    """The dispatch table says of every member what dbus-fast's parse of the file says."""
    for kind, iface in interfaces.interfaces().items():
        methods, props, sigs = interfaces.methods(kind), interfaces.properties(kind), interfaces.signals(kind)
        assert list(methods) == [m.name for m in iface.methods]
        for m in iface.methods:
            info = methods[m.name]
            assert (info.in_signature, info.out_signature, info.n_out, info.function) == (
                m.in_signature, m.out_signature, len(m.out_args), interfaces.libvirt_function(m))
            assert info.in_names == tuple(a.name for a in m.in_args)
        assert list(props) == [p.name for p in iface.properties]
        for p in iface.properties:
            assert (props[p.name].signature, props[p.name].writable) == (p.signature, p.access.value == "readwrite")
            assert props[p.name].function == interfaces.libvirt_function(p)
        assert {n: s.signature for n, s in sigs.items()} == {s.name: s.signature for s in iface.signals}
    assert interfaces.methods("Domain")["Create"].function == "virDomainCreateWithFlags"


def test_every_row_matches_its_members_arguments() -> None:
    """A row takes exactly the member's arguments (flags last) and serves a member that exists."""
    for key, row in members.METHODS.items():
        kind, name = key.split(".")
        method = interfaces.methods(kind)[name]
        has_flags = bool(method.in_names) and method.in_names[-1] == "flags"
        assert (row.nargs, row.has_flags) == (len(method.in_names) - has_flags, has_flags), key


def test_every_call_row_names_its_operations_parameters() -> None:
    """Rows resolve their operation on first use (not at import): each names a declared
    operation and only parameters it has."""
    for row in members.METHODS.values():
        members.check_row(row)  # ValueError names the row's operation and parameter
    with pytest.raises(ValueError, match="start has no parameter 'nope'"):
        members.check_row(members.call("start", "nope"))
    with pytest.raises(ValueError, match="no operation 'nope'"):
        members.check_row(members.call("nope"))


#: object kinds the spine has no operations for yet: their members answer libvirt's "not supported"
NO_SPINE_KIND: tuple[str, ...] = ()


#: members Cockpit uses whose operation the spine does not declare yet
NO_SPINE_OPERATION: tuple[str, ...] = ()


def _lacks_spine_kind(kind: str, name: str) -> bool:
    return (kind in NO_SPINE_KIND or (kind == "Connect" and any(k in name for k in NO_SPINE_KIND))
            or f"{kind}.{name}" in NO_SPINE_OPERATION)


def test_every_method_cockpit_uses_has_a_row() -> None:
    for kind, names in cockpit_members().items():
        for name in names:
            if _lacks_spine_kind(kind, name):  # listed so that adding the kind updates this test
                assert f"{kind}.{name}" not in members.METHODS
                assert kind not in NO_SPINE_KIND or kind not in members.PROPERTIES
            elif name == "<GetAll>":
                assert kind in members.PROPERTIES, kind
            elif name in interfaces.methods(kind):
                assert f"{kind}.{name}" in members.METHODS, f"{kind}.{name}"
            elif name in interfaces.properties(kind):
                assert name in members.PROPERTIES[kind].getters, f"{kind}.{name}"
            else:
                assert name in interfaces.signals(kind) or name in interfaces.signals("Connect"), name


def test_path_encoding_of_odd_bytes() -> None:
    base = "/org/libvirt/QEMU"
    assert paths.object_path(base, "NodeDevice", "pci_0000_00_01_0") == f"{base}/nodedev/pci_5f0000_5f00_5f01_5f0"
    assert paths.object_path(base, "Interface", "02:fc:00:00:00:01") == f"{base}/interface/02_3afc_3a00_3a00_3a00_3a01"
    assert paths.object_path(base, "Domain", "6695EB01-f6a4-8304-79aa-97f2502e193f") == \
        f"{base}/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f"
    for name in ["a b", "/var/lib/x.qcow2", "é-ü", "x_y", "_", "..", "semi;colon", "\x01\x7f", "名前"]:
        element = paths.encode_name(name)
        assert set(element) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"), element
        assert paths.decode_name(element) == name
        target = paths.parse(f"{base}/storagevol/{element}", ["QEMU"])
        assert (target.kind, target.ident) == ("StorageVol", (name,))
    snap = paths.snapshot_path(base, "6695eb01-f6a4-8304-79aa-97f2502e193f", "before upgrade")
    # libvirt-dbus's layout: a segment of its own, the domain's encoded UUID, "_", the encoded name
    assert snap == f"{base}/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193f_before_20upgrade"
    target = paths.parse(snap, ["QEMU"])
    assert (target.kind, target.ident) == ("DomainSnapshot", ("6695eb01-f6a4-8304-79aa-97f2502e193f",
                                                              "before upgrade"))
    underscored = paths.parse(paths.snapshot_path(base, "6695eb01-f6a4-8304-79aa-97f2502e193f", "_a_"), ["QEMU"])
    assert underscored.ident == ("6695eb01-f6a4-8304-79aa-97f2502e193f", "_a_")
    for bad in ["/org/libvirt/Other", "/org/libvirt/QEMU/bogus/x", "/org/libvirt/QEMU/network/_1/snapshot/x",
                "/org/libvirt/QEMU/domainsnapshot/x",
                "/org/libvirt/QEMU/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f/snapshot/a"]:
        with pytest.raises(paths.BadPath):
            paths.parse(bad, ["QEMU"])


def test_paths_decode_as_libvirt_dbus_decodes_them() -> None:
    """libvirt-dbus hands every element under a kind's segment to the kind's lookup: names decode
    leniently (virtDBusUtilDecodeStr: `_` and any two characters are one byte, a shorter tail stays,
    the result ends at a NUL), and an element that is no encoded UUID is refused as the lookup by
    UUID string refuses it (BadUUID, naming that function)."""
    for element, name in [("a_zz", "aS"), ("a_", "a_"), ("_x", "_x"), ("_ff", "\ufffd"), ("ab_00cd", "ab"),
                          ("_00000000_0000", ""), ("s1_extra", "s1\x01tra"), ("x_5fy", "x_y")]:
        assert paths.decode_name(element) == name, element
        assert paths.parse(f"/org/libvirt/QEMU/nodedev/{element}", ["QEMU"]).ident == (name,)
    for path, kind in [("/org/libvirt/QEMU/domain/test", "Domain"), ("/org/libvirt/QEMU/network/_x", "Network"),
                       ("/org/libvirt/QEMU/storagepool/_6695eb01_f6a4_8304_79aa_97f2502e193F", "StoragePool"),
                       ("/org/libvirt/QEMU/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193z_s1", "Domain")]:
        with pytest.raises(paths.BadUUID) as bad:
            paths.parse(path, ["QEMU"])
        assert bad.value.function == f"vir{kind}LookupByUUIDString"
    uuid_ = "6695eb01-f6a4-8304-79aa-97f2502e193f"
    for element, name in [("_6695eb01_f6a4_8304_79aa_97f2502e193f", ""), ("_6695eb01_f6a4_8304_79aa_97f2502e193f_", ""),
                          ("_6695eb01_f6a4_8304_79aa_97f2502e193fxa", "a")]:
        assert paths.parse(f"/org/libvirt/QEMU/domainsnapshot/{element}", ["QEMU"]).ident == (uuid_, name)


def test_conventions_examples_round_trip() -> None:
    """The example paths of the conventions file decode and encode back unchanged."""
    readme = LIBVIRT_DBUS / "README.md"
    if not readme.exists():
        pytest.skip(f"{readme} not found")
    import re

    examples = re.findall(r"`(/org/libvirt/\w+/\w+/[\w]+)`", readme.read_text())
    assert len(examples) >= 3
    for example in examples:
        target = paths.parse(example, ["QEMU", "Test"])
        assert paths.object_path(target.conn_path, target.kind, target.ident[0]) == example


def test_dbus_face_never_imports_the_daemon_or_the_qemu_driver() -> None:
    for source in SRC.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("pyvirt.daemon", "pyvirt.qemu")), f"{source.name} imports {name}"
    code = ("import sys, pyvirt.dbus.main, pyvirt.dbus.service, pyvirt.client.remote, pyvirt.testdriver;"
            "print([m for m in sys.modules if m.startswith(('pyvirt.daemon', 'pyvirt.qemu'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------- on a bus
@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    folder = tmp_path_factory.mktemp("dbus")
    with running_service(folder, folder / "state") as (_bus, service, client):
        client.service = service  # type: ignore[attr-defined]
        yield client
        assert service.alive(), service.log.read_text()[-3000:]


def _define(client: Client, name: str) -> str:
    return client.one(TEST, CONNECT, "DomainDefineXML", "s", SAMPLE_DOMAIN.format(name=name))


def _zero(code: str) -> Any:
    """A harmless value of a D-Bus type."""
    tree = SignatureTree(code).types[0]

    def value(t: Any) -> Any:
        token = t.token
        if token == "a":
            return {} if t.children[0].token == "{" else b"" if t.children[0].token == "y" else []
        if token == "(":
            return [value(c) for c in t.children]
        if token == "v":
            return Variant("s", "")
        return {"s": "", "o": "/", "g": "", "b": False, "d": 0.0}.get(token, 0)

    return value(tree)


def _reference_members() -> dict[str, dict[str, str]]:
    """interface -> {"M name": in+out signature, "P name": type+access, "S name": signature},
    from the reference files themselves (parsed here, not by the service's code)."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(LIBVIRT_DBUS.glob("org.libvirt.*.xml")):
        iface = ET.parse(path).getroot().find("interface")
        assert iface is not None
        table = out.setdefault(iface.get("name", ""), {})
        for m in iface:
            args = "".join(f"{a.get('direction', 'in')}:{a.get('type')};" for a in m.findall("arg"))
            if m.tag == "method":
                table[f"M {m.get('name')}"] = args
            elif m.tag == "signal":
                table[f"S {m.get('name')}"] = "".join(a.get("type", "") for a in m.findall("arg"))
            elif m.tag == "property":
                table[f"P {m.get('name')}"] = f"{m.get('type')} {m.get('access')}"
    return out


def _exported_members(client: Client, path: str, name: str) -> dict[str, str]:
    node = Node.parse(client.one(path, "org.freedesktop.DBus.Introspectable", "Introspect"))
    (iface,) = [i for i in node.interfaces if i.name == name]
    table = {f"M {m.name}": "".join(f"in:{a.signature};" for a in m.in_args)
             + "".join(f"out:{a.signature};" for a in m.out_args) for m in iface.methods}
    table.update({f"S {s.name}": s.signature for s in iface.signals})
    table.update({f"P {p.name}": f"{p.signature} {p.access.value}" for p in iface.properties})
    return table


def _snapshot(dom: str, element: str) -> str:
    """The path of domain path `dom`'s snapshot whose encoded name is `element`."""
    return f"{TEST}/domainsnapshot/{dom.rsplit('/', 1)[1]}_{element}"


def _sample_paths(client: Client) -> dict[str, str]:
    dom = client.one(TEST, CONNECT, "DomainLookupByName", "s", "test")
    uid = "_" + "0" * 8 + "_0000_0000_0000_" + "0" * 12
    return {"Connect": TEST, "Domain": dom, "DomainSnapshot": _snapshot(dom, "none"),
            "Network": client.one(TEST, CONNECT, "NetworkLookupByName", "s", "default"),
            "StoragePool": client.one(TEST, CONNECT, "StoragePoolLookupByName", "s", "default-pool"),
            "StorageVol": f"{TEST}/storagevol/x", "NodeDevice": f"{TEST}/nodedev/x",
            "Interface": f"{TEST}/interface/x", "Secret": f"{TEST}/secret/{uid}", "NWFilter": f"{TEST}/nwfilter/{uid}"}


def test_exported_signatures_equal_the_introspection_files(client: Client) -> None:
    """Every member of every interface, as the running service exports it, against the files."""
    reference = _reference_members()
    assert sum(1 for t in reference.values() for k in t if k[0] == "M") == 194
    for kind, path in _sample_paths(client).items():
        name = interfaces.PREFIX + kind
        assert _exported_members(client, path, name) == reference[name], kind


def test_every_method_answers_its_own_signature(client: Client) -> None:
    """Each of the 194 methods called with harmless values of exactly its signature is served:
    a reply or a libvirt error, never "unknown method" or "invalid arguments"."""
    dom = _define(client, "every-method")
    targets = _sample_paths(client)
    targets["Domain"] = dom
    targets["Network"] = f"{TEST}/network/_{'1' * 8}_1111_1111_1111_{'1' * 12}"   # none such: no changes
    targets["StoragePool"] = f"{TEST}/storagepool/_{'1' * 8}_1111_1111_1111_{'1' * 12}"
    served = 0
    for kind, iface in interfaces.interfaces().items():  # dbus-fast's parse: each argument's signature
        for method in iface.methods:
            if kind == "Connect" and method.name in ("DomainRestore", "DomainSaveImageDefineXML"):
                args = ["/nonexistent"] + [_zero(a.signature) for a in method.in_args[1:]]
            else:
                args = [_zero(a.signature) for a in method.in_args]
            try:
                client.call(targets[kind], interfaces.PREFIX + kind, method.name, method.in_signature, *args)
            except DBusError as exc:
                assert exc.name == "org.libvirt.Error", f"{kind}.{method.name}: {exc}"
            served += 1
    assert served == 194
    assert client.service.alive()  # type: ignore[attr-defined]
    names = [client.get(p, DOMAIN, "Name") for p in client.one(TEST, CONNECT, "ListDomains", "u", 0)]
    assert "test" in names


def test_connect_properties_and_lookups(client: Client) -> None:
    props = client.get_all(TEST, CONNECT)
    assert props["Encrypted"] is False and props["Secure"] is True
    assert props["LibVersion"] >= 1000 and props["Hostname"]
    dom = client.one(TEST, CONNECT, "DomainLookupByName", "s", "test")
    assert dom == client.one(TEST, CONNECT, "DomainLookupByUUID", "s", client.get(dom, DOMAIN, "UUID"))
    assert dom in client.one(TEST, CONNECT, "ListDomains", "u", 0)
    assert dom in client.one(TEST, CONNECT, "ListDomains", "u", 1)       # ACTIVE
    assert dom not in client.one(TEST, CONNECT, "ListDomains", "u", 2)   # INACTIVE
    with pytest.raises(DBusError, match="Domain not found$") as err:  # testDomainLookupByName's words
        client.call(TEST, CONNECT, "DomainLookupByName", "s", "nope")
    assert err.value.name == "org.libvirt.Error"


def test_all_domain_stats_flags(client: Client) -> None:
    """GetAllDomainStats takes ENFORCE_STATS (1<<31) and BACKING (1<<30) as libvirt-dbus passes
    them to virConnectGetAllDomainStats: the test driver answers state and iothread only, so
    under enforce perf (0x40) is refused by its bit, as virsh -c test:///default shows."""
    stats = client.one(TEST, CONNECT, "GetAllDomainStats", "uu", 1, (1 << 31) | (1 << 30))
    assert [name for name, _ in stats] == ["test"] and "state.state" in stats[0][1]
    with pytest.raises(DBusError, match=r"Stats types bits 0x40 are not supported by this daemon$") as err:
        client.call(TEST, CONNECT, "GetAllDomainStats", "uu", 65, 1 << 31)
    assert err.value.name == "org.libvirt.Error"


def test_cpu_baseline_and_compare_on_the_test_object(client: Client) -> None:
    """BaselineCPU as libvirt's test driver answers it (its flags as virConnectBaselineCPUFlags:
    EXPAND_FEATURES 1, MIGRATABLE refused); CompareCPU, which that driver lacks, not supported."""
    cpus = [f"<cpu><arch>x86_64</arch><model>{m}</model><vendor>Intel</vendor></cpu>" for m in ("Nehalem", "Westmere")]
    cpu = client.one(TEST, CONNECT, "BaselineCPU", "asu", cpus, 0)
    assert "<model fallback='allow'>Nehalem</model>" in cpu and "<feature" not in cpu
    expanded = client.one(TEST, CONNECT, "BaselineCPU", "asu", cpus, 1)
    assert "<feature policy='require' name='sse4.2'/>" in expanded
    with pytest.raises(DBusError, match=r"unsupported flags \(0x2\) in function testConnectBaselineCPU"):
        client.call(TEST, CONNECT, "BaselineCPU", "asu", cpus, 2)
    with pytest.raises(DBusError, match="CPU vendors do not match"):
        client.call(TEST, CONNECT, "BaselineCPU", "asu", [cpus[0], "<cpu><arch>x86_64</arch><model>qemu64</model>"
                                                          "<vendor>AMD</vendor></cpu>"], 0)
    with pytest.raises(DBusError, match="not supported by the connection driver: virConnectCompareCPU"):
        client.call(TEST, CONNECT, "CompareCPU", "su", cpus[0], 0)


def test_getall_and_typed_parameters_send_variants_of_variants(client: Client) -> None:
    """GetAll's values and every typed parameter (GetStats, Get*Parameters) are variants holding
    the value's variant, as libvirt-dbus 1.4.1 sends them and Cockpit Machines reads them
    (``props.Active.v.v``, ``stats["state.state"].v.v``); Get answers the variant itself."""
    dom = _define(client, "nested")
    props = client.one(dom, PROPS, "GetAll", "s", DOMAIN)
    assert props["Active"].signature == "v" and props["Active"].value == Variant("b", False)
    assert props["Name"].value == Variant("s", "nested")
    (single,) = client.call(dom, PROPS, "Get", "ss", DOMAIN, "Active")
    assert single == Variant("b", False)
    client.call(dom, DOMAIN, "Create", "u", 0)
    stats = client.one(dom, DOMAIN, "GetStats", "uu", 1, 0)
    assert stats["state.state"] == Variant("v", Variant("i", 1))
    memory = client.one(dom, DOMAIN, "GetMemoryParameters", "u", 0)
    assert {v.signature for v in memory.values()} == {"v"}
    assert {v.value.signature for v in memory.values()} == {"t"}
    client.call(dom, DOMAIN, "Destroy", "u", 0)
    client.call(dom, DOMAIN, "Undefine", "u", 0)


def test_domain_properties_getall_and_autostart(client: Client) -> None:
    dom = _define(client, "props")
    props = client.get_all(dom, DOMAIN)
    assert props["Name"] == "props" and props["Active"] is False and props["Persistent"] is True
    assert props["Id"] == 0 and props["OSType"] == "linux"  # inactive: 0, as virtDBusDomainGetId; linux: the test driver
    assert props["Updated"] is False  # virDomainIsUpdated: 0 on libvirt's test driver, even after live changes
    assert dom.endswith(paths.encode_uuid(props["UUID"]))
    client.call(dom, PROPS, "Set", "ssv", DOMAIN, "Autostart", Variant("b", True))
    assert client.get(dom, DOMAIN, "Autostart") is True
    with pytest.raises(DBusError) as err:
        client.call(dom, PROPS, "Set", "ssv", DOMAIN, "Name", Variant("s", "other"))
    assert err.value.name == "org.freedesktop.DBus.Error.PropertyReadOnly"
    with pytest.raises(DBusError) as err:
        client.call(dom, PROPS, "Set", "ssv", DOMAIN, "Autostart", Variant("s", "yes"))
    assert err.value.name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert client.get(dom, DOMAIN, "Autostart") is True and client.get(dom, DOMAIN, "Name") == "props"


def test_iothread_info_as_booleans_per_host_cpu(client: Client) -> None:
    """GetIOThreadInfo: a(uab), each IOThread's affinity as one boolean per host CPU counted as
    NodeGetCPUMap counts them; a pinned thread has its cpuset, the other the default (all)."""
    xml = SAMPLE_DOMAIN.format(name="iothreads").replace(
        "<os>", "<iothreads>2</iothreads><cputune><iothreadpin iothread='1' cpuset='1'/></cputune><os>")
    dom = client.one(TEST, CONNECT, "DomainDefineXML", "s", xml)
    count = len(client.one(TEST, CONNECT, "NodeGetCPUMap", "u", 0))
    threads = [list(t) for t in client.one(dom, DOMAIN, "GetIOThreadInfo", "u", 2)]  # VIR_DOMAIN_AFFECT_CONFIG
    assert [t[0] for t in threads] == [1, 2]
    assert threads[0][1] == [cpu == 1 for cpu in range(count)]
    assert len(threads[1][1]) == count and threads[1][1][0] is True
    with pytest.raises(DBusError, match=r"unsupported flags \(0x4\)"):
        client.call(dom, DOMAIN, "GetIOThreadInfo", "u", 4)
    client.call(dom, DOMAIN, "Undefine", "u", 64)  # VIR_DOMAIN_UNDEFINE_KEEP_TPM: a plain undefine here
    assert dom not in client.one(TEST, CONNECT, "ListDomains", "u", 0)


# Cockpit's members, with the arguments it passes (flags as it does); `None` marks members the
# test driver does not implement, as libvirt's test driver does not (libvirt's "not supported").
def _cockpit_calls(client: Client, dom: str) -> list[tuple[str, str, str, list[Any]]]:
    net = client.one(TEST, CONNECT, "NetworkLookupByName", "s", "default")
    pool = client.one(TEST, CONNECT, "StoragePoolLookupByName", "s", "default-pool")
    return [
        (TEST, CONNECT, "LibVersion", []), (TEST, CONNECT, "ListDomains", [0]),
        (TEST, CONNECT, "ListNetworks", [0]), (TEST, CONNECT, "ListStoragePools", [0]),
        (TEST, CONNECT, "DomainLookupByName", ["cockpit"]), (TEST, CONNECT, "NetworkLookupByName", ["default"]),
        (TEST, CONNECT, "StoragePoolLookupByName", ["default-pool"]),
        (TEST, CONNECT, "NodeGetMemoryStats", [-1, 0]),
        (dom, DOMAIN, "GetXMLDesc", [0]), (dom, DOMAIN, "GetState", [0]), (dom, DOMAIN, "GetStats", [1, 0]),
        (dom, DOMAIN, "SetMemory", [131072, 2]), (dom, DOMAIN, "Suspend", []), (dom, DOMAIN, "Resume", []),
        (dom, DOMAIN, "InterfaceAddresses", [0, 0]), (dom, DOMAIN, "InjectNMI", [0]), (dom, DOMAIN, "SendKey", [0, 0, [29, 56, 59], 0]),
        (dom, DOMAIN, "SnapshotCreateXML", ["<domainsnapshot><name>s1</name></domainsnapshot>", 0]),
        (dom, DOMAIN, "ListDomainSnapshots", [0]), (dom, DOMAIN, "SnapshotCurrent", [0]),
        (dom, DOMAIN, "SnapshotLookupByName", ["s1", 0]),
        (_snapshot(dom, "s1"), "org.libvirt.DomainSnapshot", "GetXMLDesc", [0]),
        (_snapshot(dom, "s1"), "org.libvirt.DomainSnapshot", "IsCurrent", [0]),
        (_snapshot(dom, "s1"), "org.libvirt.DomainSnapshot", "Revert", [0]),
        (_snapshot(dom, "s1"), "org.libvirt.DomainSnapshot", "Delete", [0]),
        (dom, DOMAIN, "Reboot", [0]), (dom, DOMAIN, "Reset", [0]), (dom, DOMAIN, "Shutdown", [0]),
        (dom, DOMAIN, "Create", [0]), (dom, DOMAIN, "Destroy", [0]), (dom, DOMAIN, "Rename", ["cockpit2", 0]),
        (net, "org.libvirt.Network", "GetXMLDesc", [0]), (pool, "org.libvirt.StoragePool", "GetXMLDesc", [0]),
        (pool, "org.libvirt.StoragePool", "ListStorageVolumes", [0]), (pool, "org.libvirt.StoragePool", "Refresh", [0]),
        (dom, DOMAIN, "Undefine", [0]),
    ]


#: what pyvirt's test driver answers "not supported" (as libvirt's test driver)
TEST_DRIVER_LACKS = {"Connect.NodeGetMemoryStats", "StoragePool.Refresh"}


def test_cockpit_members_on_the_test_object(client: Client) -> None:
    dom = _define(client, "cockpit")
    client.call(dom, DOMAIN, "Create", "u", 0)
    done, failed = set(), []
    for path, iface, member, args in _cockpit_calls(client, dom):
        kind = iface.rsplit(".", 1)[1]
        try:
            if member in interfaces.properties(kind):
                client.get(path, iface, member)
            else:
                sig = interfaces.methods(kind)[member].in_signature
                client.call(path, iface, member, sig, *args)
        except DBusError as exc:
            assert exc.name == "org.libvirt.Error", exc
            if f"{kind}.{member}" not in TEST_DRIVER_LACKS or "not supported" not in exc.text:
                failed.append(f"{kind}.{member}: {exc.text}")
        done.add(f"{kind}.{member}")
    assert not failed
    assert client.one(TEST, CONNECT, "ListDomains", "u", 0).count(dom) == 0  # undefined at the end
    assert len(done) >= 30


def test_lifecycle_signals(client: Client) -> None:
    with client.signals() as q:
        dom = _define(client, "signals")
        wait_signal(q, "DomainEvent", lambda b: b == [dom, EventType.DEFINED, DefinedDetail.ADDED])
        client.call(dom, DOMAIN, "Create", "u", 0)
        wait_signal(q, "DomainEvent", lambda b: b == [dom, EventType.STARTED, StartedDetail.BOOTED])
        client.call(dom, DOMAIN, "Suspend")
        wait_signal(q, "DomainEvent", lambda b: b[:2] == [dom, EventType.SUSPENDED])
        client.call(dom, DOMAIN, "Resume")
        wait_signal(q, "DomainEvent", lambda b: b[:2] == [dom, EventType.RESUMED])
        client.call(dom, DOMAIN, "Destroy", "u", 0)
        msg = wait_signal(q, "DomainEvent", lambda b: b == [dom, EventType.STOPPED, StoppedDetail.DESTROYED])
        assert (msg.path, msg.interface, msg.signature) == (TEST, CONNECT, "oii")
        client.call(dom, DOMAIN, "Undefine", "u", 0)
        wait_signal(q, "DomainEvent", lambda b: b[:2] == [dom, EventType.UNDEFINED])
        net = client.one(TEST, CONNECT, "NetworkDefineXML", "s",
                         "<network><name>signet</name><bridge name='virbr9'/></network>")
        msg = wait_signal(q, "NetworkEvent", lambda b: b == [net, 0])
        assert msg.signature == "oi"
        pool = client.one(TEST, CONNECT, "StoragePoolDefineXML", "su",
                          "<pool type='dir'><name>sigpool</name><target><path>/tmp/sigpool</path></target></pool>", 0)
        wait_signal(q, "StoragePoolEvent", lambda b: b == [pool, 0, 0])
        default = client.one(TEST, CONNECT, "StoragePoolLookupByName", "s", "default-pool")
        client.call(default, "org.libvirt.StoragePool", "Refresh", "u", 0)
        msg = wait_signal(q, "Refresh", lambda b: b == [])  # the pool object's own signal
        assert (msg.path, msg.interface) == (default, "org.libvirt.StoragePool")


def test_node_device_signals_name_the_device_by_its_path(client: Client) -> None:
    """A node device has no UUID: NodeDeviceEvent (o, event, detail) names it by the path its
    lookup answers (virNodeDeviceEventLifecycleType: 0 created, 1 deleted)."""
    nodedev = "org.libvirt.NodeDevice"
    vhba = ("<device><parent>scsi_host2</parent><capability type='scsi_host'>"
            "<capability type='fc_host'><wwnn>20000000c0ffee01</wwnn><wwpn>10000000c0ffee01</wwpn>"
            "</capability></capability></device>")
    with client.signals() as q:
        created = client.one(TEST, CONNECT, "NodeDeviceCreateXML", "su", vhba, 0)
        msg = wait_signal(q, "NodeDeviceEvent", lambda b: b == [created, 0, 0])
        assert (msg.path, msg.interface, msg.signature) == (TEST, CONNECT, "oii")
        name = client.get(created, nodedev, "Name")
        assert client.one(TEST, CONNECT, "NodeDeviceLookupByName", "s", name) == created
        client.call(created, nodedev, "Destroy")
        wait_signal(q, "NodeDeviceEvent", lambda b: b == [created, 1, 0])


def test_bad_input_gets_errors_and_changes_nothing(client: Client) -> None:
    before = client.one(TEST, CONNECT, "ListDomains", "u", 0)

    def error(path: str, iface: str | None, member: str, sig: str = "", *args: Any) -> DBusError:
        with pytest.raises(DBusError) as err:
            client.call(path, iface, member, sig, *args)
        return err.value

    assert error(TEST, CONNECT, "DomainDefineXML", "s", "<domain><name>x").name == "org.libvirt.Error"
    assert error(TEST, CONNECT, "DomainDefineXML", "s", "<domain type='test'/>").name == "org.libvirt.Error"
    huge = "<domain type='test'><name>" + "x" * (8 << 20) + "</name></domain>"
    assert error(TEST, CONNECT, "DomainDefineXML", "s", huge).name == "org.libvirt.Error"
    assert error(TEST, CONNECT, "DomainLookupByName", "s", "y" * (1 << 20)).name == "org.libvirt.Error"
    assert error(TEST, CONNECT, "ListDomains", "s", "0").name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert error(TEST, CONNECT, "ListDomains", "").name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert error(TEST, CONNECT, "NoSuchMember", "").name == "org.freedesktop.DBus.Error.UnknownMethod"
    assert error(TEST, "org.libvirt.Nope", "ListDomains", "u", 0).name == \
        "org.freedesktop.DBus.Error.UnknownInterface"
    err = error(f"{TEST}/domain/notauuid", DOMAIN, "GetState", "u", 0)  # as libvirt-dbus: the lookup's refusal
    assert (err.name, err.text) == ("org.libvirt.Error", "uuidstr in virDomainLookupByUUIDString must be a valid UUID")
    # each kind's object named in a path that holds none is not found by what the path holds
    zero = paths.encode_uuid(str(uuid.UUID(int=0)))
    for segment, iface, text in [("network", "Network", f"no network with matching uuid '{uuid.UUID(int=0)}'"),
                                 ("storagepool", "StoragePool", f"no storage pool with matching uuid '{uuid.UUID(int=0)}'"),
                                 ("storagevol", "StorageVol", "no storage vol with matching key '/nowhere'"),
                                 ("nodedev", "NodeDevice", "no node device with matching name 'a'")]:
        element = {"storagevol": paths.encode_name("/nowhere"), "nodedev": "a_00b"}.get(segment, zero)
        err = error(f"{TEST}/{segment}/{element}", f"org.libvirt.{iface}", "GetXMLDesc", "u", 0)
        assert err.name == "org.libvirt.Error" and err.text.endswith(text), err.text
    assert error("/org/libvirt/Elsewhere", CONNECT, "ListDomains", "u", 0).name == \
        "org.freedesktop.DBus.Error.UnknownObject"
    gone = f"{TEST}/domain/{paths.encode_uuid(str(uuid.uuid4()))}"
    err = error(gone, DOMAIN, "Create", "u", 0)
    assert err.name == "org.libvirt.Error" and "no domain with matching uuid" in err.text
    dom = before[0]
    err = error(dom, DOMAIN, "Destroy", "u", 0x100)
    assert "unsupported flags (0x100)" in err.text
    assert "only sending a signal to pid 1" in error(dom, DOMAIN, "SendProcessSignal", "xuu", 2, 0, 0).text
    assert "coredump: failed to open /tmp: Is a directory" in error(dom, DOMAIN, "CoreDump", "suu", "/tmp", 0, 0).text
    assert "dumpformat '9' is not supported" in error(dom, DOMAIN, "CoreDump", "suu", "/tmp/x", 9, 0).text
    assert "unsupported flags (0x20)" in error(dom, DOMAIN, "CoreDump", "suu", "/tmp/x", 0, 0x20).text
    assert error(dom, PROPS, "Get", "ss", DOMAIN, "Nope").name == "org.freedesktop.DBus.Error.InvalidArgs"
    err = error(dom, DOMAIN, "SetMemoryParameters", "a{sv}u", {"hard_limit": Variant("s", "1")}, 0)
    assert "invalid type 'string' for parameter 'hard_limit', expected 'ullong'" in err.text
    err = error(dom, DOMAIN, "SetMemoryParameters", "a{sv}u", {"min_guarantee": Variant("t", 1)}, 0)
    assert "parameter 'min_guarantee' not supported" in err.text
    time.sleep(0.1)
    assert client.service.alive()  # type: ignore[attr-defined]
    assert client.one(TEST, CONNECT, "ListDomains", "u", 0) == before
    assert client.get(dom, DOMAIN, "Active") is True


def test_peek_signal_and_files_members_answer_as_libvirts_test_driver(client: Client) -> None:
    """libvirt 9.0's test driver through the real libvirt-dbus answers these (its messages):
    MemoryPeek gives each address's low byte after virDomainMemoryPeek's flag checks,
    SendProcessSignal accepts pid 1 and does nothing, the *WithFiles starts ignore the files and
    take what testDomainCreateXML / testDomainCreateWithFlags take; the rest are not supported."""
    dom = client.one(TEST, CONNECT, "DomainLookupByName", "s", "test")

    def error(path: str, member: str, sig: str, *args: Any) -> str:
        iface = CONNECT if path == TEST else DOMAIN
        with pytest.raises(DBusError) as err:
            client.call(path, iface, member, sig, *args)
        assert err.value.name == "org.libvirt.Error"
        return err.value.text

    assert client.one(dom, DOMAIN, "MemoryPeek", "ttu", 300, 4, 1) == bytes([44, 45, 46, 47])
    assert client.one(dom, DOMAIN, "MemoryPeek", "ttu", 0, 0, 2) == b""
    assert error(dom, "MemoryPeek", "ttu", 0, 1, 0) == \
        "invalid argument: flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL"
    assert error(dom, "MemoryPeek", "ttu", 0, 1, 3) == \
        "Flags 'VIR_MEMORY_VIRTUAL' and 'VIR_MEMORY_PHYSICAL' are mutually exclusive"
    assert "unsupported flags (0x4)" in error(dom, "MemoryPeek", "ttu", 0, 1, 4)
    client.call(dom, DOMAIN, "SendProcessSignal", "xuu", 1, 9, 0)
    client.call(dom, DOMAIN, "SendProcessSignal", "xuu", 1, 64, 0)
    assert error(dom, "SendProcessSignal", "xuu", -1, 9, 0) == "invalid argument: only sending a signal to pid 1 is supported"
    assert error(dom, "SendProcessSignal", "xuu", 1, 65, 0) == "invalid argument: signum value 65 is out of range"
    assert "unsupported flags (0x1)" in error(dom, "SendProcessSignal", "xuu", 1, 9, 1)
    for member, sig, args, function in (("BlockPeek", "sttu", ("vda", 0, 1, 0), "virDomainBlockPeek"),
                                        ("BlockRebase", "sstu", ("vda", "", 0, 0), "virDomainBlockRebase"),
                                        ("OpenGraphicsFD", "uu", (0, 0), "virDomainOpenGraphicsFD")):
        assert error(dom, member, sig, *args) == f"this function is not supported by the connection driver: {function}"
    # the test driver has fc_host SCSI hosts (scsi_host1: 2000000012341234/1000000012341234) but no lookup
    assert error(TEST, "NodeDeviceLookupSCSIHostByWWN", "ssu", "2000000012341234", "1000000012341234", 0) == \
        "this function is not supported by the connection driver: virNodeDeviceLookupSCSIHostByWWN"

    stopped = _define(client, "with-files")
    assert "unsupported flags (0x1) in function testDomainCreateWithFlags" in \
        error(stopped, "CreateWithFiles", "ahu", [], 1)
    assert client.get(stopped, DOMAIN, "Active") is False
    with open(os.devnull) as handle:  # a descriptor travels (the bus negotiates them) and is let go
        client.call_fds(stopped, DOMAIN, "CreateWithFiles", "ahu", [0], 0, fds=[handle.fileno()])
    assert client.get(stopped, DOMAIN, "Active") is True
    assert error(stopped, "CreateWithFiles", "ahu", [], 0) == "internal error: Domain 'with-files' is already running"
    xml = SAMPLE_DOMAIN.format(name="with-files-transient")
    assert "unsupported flags (0x1) in function testDomainCreateXML" in \
        error(TEST, "DomainCreateXMLWithFiles", "sahu", xml, [], 1)
    path = client.one(TEST, CONNECT, "DomainCreateXMLWithFiles", "sahu", xml, [], 0)
    assert client.get(path, DOMAIN, "Active") is True and client.get(path, DOMAIN, "Persistent") is False
    assert client.service.alive()  # type: ignore[attr-defined]


def test_tuning_members(client: Client) -> None:
    """The tuning and pinning members over the test driver: typed parameters with libvirt's
    types, cpumaps as wide as NodeGetCPUMap, changes visible in the XML."""
    dom = _define(client, "tuned")
    client.call(dom, DOMAIN, "Create", "u", 0)
    count = len(client.one(TEST, CONNECT, "NodeGetCPUMap", "u", 0))
    client.call(dom, DOMAIN, "SetMemoryParameters", "a{sv}u", {"hard_limit": Variant("t", 1048576)}, 0)
    mem = unwrap_params(client.one(dom, DOMAIN, "GetMemoryParameters", "u", 0))
    assert mem["hard_limit"] == Variant("t", 1048576) and mem["soft_limit"].signature == "t"
    client.call(dom, DOMAIN, "SetBlockIOParameters", "a{sv}u", {"weight": Variant("u", 300)}, 0)
    assert unwrap_params(client.one(dom, DOMAIN, "GetBlockIOParameters", "u", 0))["weight"] == Variant("u", 300)
    client.call(dom, DOMAIN, "SetNumaParameters", "a{sv}u", {"numa_nodeset": Variant("s", "0")}, 0)
    numa = unwrap_params(client.one(dom, DOMAIN, "GetNumaParameters", "u", 0))
    assert numa == {"numa_mode": Variant("i", 0), "numa_nodeset": Variant("s", "0")}
    client.call(dom, DOMAIN, "SetPerfEvents", "a{sv}u", {"cmt": Variant("b", True)}, 0)
    assert unwrap_params(client.one(dom, DOMAIN, "GetPerfEvents", "u", 0))["cmt"] == Variant("b", True)
    assert list(client.get(dom, DOMAIN, "SchedulerType")) == ["fair", 1]
    with pytest.raises(DBusError, match=r"unsupported flags \(0x4\) in function testDomainGetSchedulerParametersFlags"):
        client.call(dom, DOMAIN, "GetSchedulerParameters", "u", 0)  # libvirt's test driver refuses the Flags call
    pins = client.one(dom, DOMAIN, "GetVcpuPinInfo", "u", 0)
    width = len(pins[0])
    assert width == count and all(pins[0])
    client.call(dom, DOMAIN, "PinVcpu", "uabu", 0, [n == 1 for n in range(width)], 0)
    assert client.one(dom, DOMAIN, "GetVcpuPinInfo", "u", 0)[0] == [n == 1 for n in range(width)]
    client.call(dom, DOMAIN, "PinEmulator", "abu", [n < 2 for n in range(width)], 0)
    assert client.one(dom, DOMAIN, "GetEmulatorPinInfo", "u", 0) == [n < 2 for n in range(width)]
    client.call(dom, DOMAIN, "AddIOThread", "uu", 4, 0)
    client.call(dom, DOMAIN, "PinIOThread", "uabu", 4, [n == 0 for n in range(width)], 0)
    assert [list(t) for t in client.one(dom, DOMAIN, "GetIOThreadInfo", "u", 0)] == \
        [[4, [n == 0 for n in range(width)]]]
    client.call(dom, DOMAIN, "DelIOThread", "uu", 4, 0)
    with client.signals() as q:
        client.call(dom, DOMAIN, "SetMetadata", "isssu", 2, "<app version='2'/>", "app", "http://example.org/app", 0)
        msg = wait_signal(q, "MetadataChange", lambda b: b == [2, "http://example.org/app"])
        assert (msg.path, msg.signature) == (dom, "is")
    assert client.one(dom, DOMAIN, "GetMetadata", "isu", 2, "http://example.org/app", 0) == '<app version="2"/>'
    xml = client.one(dom, DOMAIN, "GetXMLDesc", "u", 0)
    for part in ("<hard_limit unit='KiB'>1048576</hard_limit>", "<weight>300</weight>",
                 "<memory mode='strict' nodeset='0'/>", "<vcpupin vcpu='0' cpuset='1'/>",
                 '<app:app xmlns:app="http://example.org/app" version="2"/>', "<event name='cmt' enabled='yes'/>"):
        assert part in xml, part
    assert "iothread" not in xml
    with pytest.raises(DBusError, match="disk 'vdz' was not found in the domain config"):
        client.call(dom, DOMAIN, "GetBlockIOTune", "su", "vdz", 0)
    client.call(dom, DOMAIN, "Destroy", "u", 0)
    client.call(dom, DOMAIN, "Undefine", "u", 0)


def test_connection_introspection_lists_every_object_subtree(client: Client) -> None:
    """busctl tree walks from the connection object: it names a node for each kind's subtree,
    snapshots' included, as libvirt-dbus 1.4.1 does, and the domain subtree lists the domains."""
    node = Node.parse(client.one(TEST, "org.freedesktop.DBus.Introspectable", "Introspect"))
    assert {n.name for n in node.nodes} == {"domain", "network", "storagepool", "storagevol", "nodedev",
                                            "interface", "secret", "nwfilter", "domainsnapshot"}
    domains = Node.parse(client.one(f"{TEST}/domain", "org.freedesktop.DBus.Introspectable", "Introspect"))
    dom = client.one(TEST, CONNECT, "DomainLookupByName", "s", "test")
    assert dom.rsplit("/", 1)[1] in {n.name for n in domains.nodes}


def _subtree(client: Client, path: str) -> tuple[list[str], set[str]]:
    """(org.libvirt interfaces, child node paths) of an introspected node."""
    node = Node.parse(client.one(path, "org.freedesktop.DBus.Introspectable", "Introspect"))
    return ([i.name for i in node.interfaces if i.name.startswith("org.libvirt.")],
            {f"{path}/{n.name}" for n in node.nodes})


def test_every_subtree_lists_its_objects(client: Client) -> None:
    """Each kind's subtree names its objects as child nodes, as libvirt-dbus 1.4.1 enumerates them:
    node devices and interfaces as listed, the volumes of every pool, the snapshots of every domain;
    secrets and nwfilters, which the test driver cannot list, none.  A subtree's node and any
    element under it introspect with the kind's interface (GDBus subtrees: libvirt-dbus answers so)."""
    ifaces, nodedevs = _subtree(client, f"{TEST}/nodedev")
    assert ifaces == ["org.libvirt.NodeDevice"]
    assert nodedevs == set(client.one(TEST, CONNECT, "ListNodeDevices", "u", 0)) and nodedevs
    assert _subtree(client, f"{TEST}/interface")[1] == set(client.one(TEST, CONNECT, "ListInterfaces", "u", 0))
    for kind in ("secret", "nwfilter"):
        assert _subtree(client, f"{TEST}/{kind}") == ([f"org.libvirt.{'NWFilter' if kind == 'nwfilter' else 'Secret'}"],
                                                      set())
    pool = client.one(TEST, CONNECT, "StoragePoolLookupByName", "s", "default-pool")
    vol = client.one(pool, "org.libvirt.StoragePool", "StorageVolCreateXML", "su",
                     "<volume><name>subtree.img</name><capacity>1024</capacity></volume>", 0)
    dom = _define(client, "subtree")
    snap = client.one(dom, DOMAIN, "SnapshotCreateXML", "su", "<domainsnapshot><name>s_1</name></domainsnapshot>", 0)
    try:
        assert vol in _subtree(client, f"{TEST}/storagevol")[1]
        assert _subtree(client, f"{TEST}/domainsnapshot") == (["org.libvirt.DomainSnapshot"], {snap})
        assert _subtree(client, f"{TEST}/domain/notauuid") == (["org.libvirt.Domain"], set())
        assert _subtree(client, f"{TEST}/domain/x/y") == ([], set())
    finally:
        client.call(vol, "org.libvirt.StorageVol", "Delete", "u", 0)
        client.call(dom, DOMAIN, "Undefine", "u", 2)  # SNAPSHOTS_METADATA
    assert vol not in _subtree(client, f"{TEST}/storagevol")[1]
    assert _subtree(client, f"{TEST}/domainsnapshot")[1] == set()


def test_node_device_without_parent_has_no_parent_property(client: Client) -> None:
    """The root device: Get Parent fails (virNodeDeviceGetParent's error), GetAll leaves it out."""
    root, child = (client.one(TEST, CONNECT, "NodeDeviceLookupByName", "s", n) for n in ("computer", "scsi_host1"))
    assert client.get_all(root, "org.libvirt.NodeDevice") == {"Name": "computer"}
    with pytest.raises(DBusError, match="no parent for this device"):
        client.get(root, "org.libvirt.NodeDevice", "Parent")
    assert client.get(child, "org.libvirt.NodeDevice", "Parent") == "computer"


def test_snapshot_tree_over_dbus(client: Client) -> None:
    dom = _define(client, "snaps")
    snap = "org.libvirt.DomainSnapshot"
    a = client.one(dom, DOMAIN, "SnapshotCreateXML", "su", "<domainsnapshot><name>a</name></domainsnapshot>", 0)
    b = client.one(dom, DOMAIN, "SnapshotCreateXML", "su", "<domainsnapshot><name>b c</name></domainsnapshot>", 0)
    assert b == _snapshot(dom, "b_20c")  # names encoded as libvirt-dbus does
    assert client.one(dom, DOMAIN, "ListDomainSnapshots", "u", 1) == [a]          # ROOTS
    assert client.one(dom, DOMAIN, "ListDomainSnapshots", "u", 4) == [b]          # LEAVES
    assert client.one(dom, DOMAIN, "ListDomainSnapshots", "u", 1024) == [a, b]    # TOPOLOGICAL
    assert client.one(a, snap, "ListChildren", "u", 0) == [b]
    assert client.one(b, snap, "GetParent", "u", 0) == a
    assert client.one(b, snap, "IsCurrent", "u", 0) is True
    assert client.one(dom, DOMAIN, "SnapshotCurrent", "u", 0) == b
    assert "<name>b c</name>" in client.one(b, snap, "GetXMLDesc", "u", 0)
    with pytest.raises(DBusError, match="does not have a parent"):
        client.call(a, snap, "GetParent", "u", 0)
    client.call(a, snap, "Delete", "u", 1)  # with its children
    assert client.one(dom, DOMAIN, "ListDomainSnapshots", "u", 0) == []
    with pytest.raises(DBusError, match="no domain snapshot with matching name"):
        client.call(b, snap, "IsCurrent", "u", 0)


def test_guest_agent_members_on_the_test_object(client: Client) -> None:
    """The test driver's pretend agent: two filesystems of the first disk that freeze and thaw,
    passwords accepted; what libvirt's test driver lacks is "not supported", its flags refused."""
    dom = client.one(TEST, CONNECT, "DomainLookupByName", "s", "test")
    fs = [[f[0], f[1], f[2], list(f[3])] for f in client.one(dom, DOMAIN, "GetFSInfo", "u", 0)]
    assert fs == [["/", "vda1", "ext4", ["vda"]], ["/boot", "vda2", "ext4", ["vda"]]]
    assert client.one(dom, DOMAIN, "FSFreeze", "asu", ["/boot"], 0) == 1
    assert client.one(dom, DOMAIN, "FSFreeze", "asu", [], 0) == 1
    assert client.one(dom, DOMAIN, "FSThaw", "asu", [], 0) == 2
    with pytest.raises(DBusError, match="mount point not found: /nope"):
        client.call(dom, DOMAIN, "FSFreeze", "asu", ["/nope"], 0)
    client.call(dom, DOMAIN, "FSTrim", "stu", "", 0, 0)
    client.call(dom, DOMAIN, "SetUserPassword", "ssu", "root", "pw", 1)
    with pytest.raises(DBusError, match="virDomainGetGuestVcpus"):
        client.call(dom, DOMAIN, "GetGuestVcpus", "u", 0)
    with pytest.raises(DBusError, match=r"unsupported flags \(0x8\) in function testDomainGetVcpusFlags"):
        client.call(dom, DOMAIN, "GetVcpus", "u", 8)
    with pytest.raises(DBusError, match=r"unsupported flags \(0x2\)"):
        client.call(dom, DOMAIN, "SetUserPassword", "ssu", "root", "pw", 2)


def test_find_storage_pool_sources(client: Client) -> None:
    """Connect.FindStoragePoolSources: the test driver's sources; "" passes no source spec."""
    logical = client.one(TEST, CONNECT, "FindStoragePoolSources", "ssu", "logical", "", 0)
    assert logical.startswith("<sources>\n  <source>\n") and "<name>testvg1</name>" in logical
    netfs = client.one(TEST, CONNECT, "FindStoragePoolSources", "ssu", "netfs", "<source><host name='nas'/></source>", 0)
    assert "<host name='nas'/>" in netfs
