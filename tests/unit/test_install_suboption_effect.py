"""Every sub-option pyvirt install accepts must change the XML (virt-install's test suite
has the same guard): a name that parses but is dropped is the bug this test catches.

For each option, a base option string builds the element; each table-driven sub-option
name (optmap) is then added with a value of its kind, and the guest XML must differ from
the base.  Runs the option parsers on a Guest connected to virt-manager's test driver
(no daemon), so it is fast enough to cover all ~1200 names.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from pyvirt.install import pathset
from pyvirt.install.optmap import PATHS
from pyvirt.install.subopts import SubOptError
from tests.conformance_data import CONFORMANCE

TREE = CONFORMANCE / "virt-manager-4.1.0" / "tree" / "tests" / "data"

# A base option string per option: it builds the element the sub-options then change.
BASE = {
    "--disk": "path=/pool-dir/testvol1.img", "--network": "network=default",
    "--graphics": "vnc", "--controller": "type=scsi", "--input": "tablet",
    "--serial": "pty", "--parallel": "pty", "--console": "pty", "--channel": "pty",
    "--hostdev": "eth9,type=net", "--filesystem": "/src,/dst", "--sound": "ich9",
    "--audio": "id=1", "--watchdog": "i6300esb", "--video": "virtio",
    "--smartcard": "passthrough", "--redirdev": "usb", "--memballoon": "virtio",
    "--tpm": "emulator", "--rng": "random", "--panic": "isa", "--shmem": "s0",
    "--memdev": "dimm", "--vsock": "model=virtio", "--iommu": "model=intel",
    "--iothreads": "2", "--seclabel": "type=dynamic", "--launchSecurity": "sev",
}
# Names the handler gives a meaning beyond their path, where the generic value is refused.
REFUSED_OK = {
    # source.pool/source.volume name a volume together (<disk type='volume'>); virtinst too
    # fails to look up a volume from one of them alone.
    **{("--disk", n): "source.pool/source.volume name a volume together"
       for n in ("source_volume", "source_pool", "source.volume", "source.pool")},
    ("--hostdev", "type"): "type=T changes how NAME is looked up (net: an interface)",
}
# Names that only mean something together with others (checked in other tests).
ALONE_OK = {
    ("--disk", "source_pool"): "source_pool=P,source_volume=V names a volume to resolve",
}
# Names whose effect needs a companion value (documented, not silently ignored).
NEEDS = {
    ("--sysinfo", r"(bios|system|baseBoard|chassis)[._].*"): "type=smbios",
}


def _value(kind: str) -> str:
    kind = kind.rstrip("!~")
    # yes/no and on/off attributes: "off", since defaults tend to be "on"
    return {"i": "7", "b": "on", "YN": "off", "OO": "off"}.get(kind, "x7")


@pytest.fixture(scope="module")
def conn_info(monkeypatch_module: pytest.MonkeyPatch):
    from pyvirt.install.flow import _connect
    return _connect("qemu:///system")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(TREE / "testdriver" / "testdriver.xml"))
    mp.setenv("VIRTCOMPAT_FAKEURI", "qemu:///system")
    mp.setenv("VIRTCOMPAT_CAPS", str(TREE / "capabilities" / "kvm-x86_64.xml"))
    mp.setenv("VIRTCOMPAT_DOMCAPS", str(TREE / "capabilities" / "kvm-x86_64-domcaps-latest.xml"))
    mp.setenv("VIRTINST_TEST_SUITE", "1")
    yield mp
    mp.undo()


def _xml(ci, apply, flag: str, optstr: str) -> str:
    from pyvirt.install.guest import Guest
    g = Guest(ci)
    apply[flag](g, optstr)
    return etree.tostring(g.root, encoding="unicode")


def _concrete(name: str) -> str:
    return name.replace("[0-9]*", "1")


@pytest.mark.skipif(not TREE.exists(), reason="shared conformance data not present")
def test_every_table_suboption_changes_the_xml(conn_info) -> None:
    from pyvirt.install.opts import registry
    _, apply = registry()
    dropped, refused = [], []
    for flag in PATHS:
        if flag not in apply:
            continue
        base = BASE.get(flag, "")
        before = _xml(conn_info, apply, flag, base)
        for name in pathset.names(flag):
            row = pathset.lookup(flag, _concrete(name))
            assert row is not None, (flag, name)
            prefix = next((v for (f, pat), v in NEEDS.items()
                           if f == flag and re.fullmatch(pat, name)), "")
            parts = [p for p in (base, prefix, f"{_concrete(name)}={_value(row[1])}") if p]
            try:
                after = _xml(conn_info, apply, flag, ",".join(parts))
            except SubOptError as exc:
                if (flag, name) not in REFUSED_OK:
                    refused.append(f"{flag} {name}: {exc}")
                continue
            reference = _xml(conn_info, apply, flag, ",".join(p for p in (base, prefix) if p)) \
                if prefix else before
            if after == reference and (flag, name) not in ALONE_OK:
                dropped.append(f"{flag} {name}")
    assert not refused and not dropped, "\n".join(["refused:", *refused, "accepted but no effect on the XML:", *dropped])


def test_option_spec_knows_every_table_name() -> None:
    """Parsing never refuses a name the table writes (the two lists cannot drift)."""
    from pyvirt.install.opts import generic, registry
    specs, _ = registry()
    for flag in PATHS:
        spec = specs[flag]
        for name in pathset.names(generic.table_flag(flag)):
            assert spec.known(_concrete(name)), (flag, name)


@pytest.mark.skipif(not TREE.exists(), reason="shared conformance data not present")
def test_disk_source_pool_volume_is_a_volume_disk(conn_info) -> None:
    """source.pool=,source.volume= name the volume in the XML (virtinst's DeviceDisk source),
    where vol=POOL/VOL resolves it to a path; a block pool's volume is raw to QEMU."""
    from pyvirt.install.opts import registry
    _, apply = registry()
    disk = etree.fromstring(_xml(conn_info, apply, "--disk",
                                 "source.pool=pool-disk,source.volume=sdfg1")).find("devices/disk")
    assert disk.get("type") == "volume"
    assert list(disk.find("source").attrib.items()) == [("volume", "sdfg1"), ("pool", "pool-disk")]
    assert disk.find("driver").get("type") == "raw"
    by_path = etree.fromstring(_xml(conn_info, apply, "--disk",
                                    "vol=pool-disk/sdfg1")).find("devices/disk")
    assert by_path.get("type") == "block" and by_path.find("source").get("dev")
    with pytest.raises(SubOptError, match="together"):
        _xml(conn_info, apply, "--disk", "source.pool=pool-disk")


def _state(ci, apply, flag: str, optstr: str) -> str:
    """What an option leaves behind: the guest XML (with its queued --xml edits done) and
    the choices it records for later steps (storage to create, UEFI to set up...)."""
    from pyvirt.install.guest import Guest
    g = Guest(ci)
    apply[flag](g, optstr)
    for act in g.flags.extra.get("xml_actions", []):
        act(g.root)
    flags = {k: v for k, v in vars(g.flags).items() if k != "extra"}
    extra = {k: v for k, v in g.flags.extra.items() if k not in ("xml_actions", "built")}
    return etree.tostring(g.root, encoding="unicode") + repr(flags) + repr(extra)


# The sub-options option handlers declare themselves (not optmap rows): (option, declared
# name or pattern) -> (the options it is given with, the sub-option given).  A name not
# listed is given as NAME=x7 after the option's BASE string.
HANDLED = {
 ("--boot","bootmenu"): ("", "bootmenu=on"), ("--boot","bootmenu.enable"): ("", "bootmenu.enable=on"),
 ("--boot","loader.readonly"): ("loader=/l.fd", "loader.readonly=yes"), ("--boot","loader.secure"): ("loader=/l.fd", "loader.secure=yes"),
 ("--boot","loader.type"): ("loader=/l.fd", "loader.type=pflash"),
 ("--boot","uefi"): ("", "uefi"), ("--boot","hd"): ("", "hd"), ("--boot","cdrom"): ("", "cdrom"), ("--boot","fd"): ("", "fd"), ("--boot","network"): ("", "network"),
 ("--clock", r"timer[0-9]*\.(name|present|tickpolicy|track|frequency|mode)"): ("", "timer0.name=rtc"),
 ("--clock", r"timer[0-9]*\.catchup\.(threshold|slew|limit)"): ("timer0.name=rtc", "timer0.catchup.slew=3"),
 ("--clock", r"(pit|rtc)_tickpolicy"): ("", "rtc_tickpolicy=catchup"),
 ("--clock", r"(platform|pit|rtc|hpet|tsc|kvmclock|hypervclock)_present"): ("", "hpet_present=no"),
 ("--controller","address"): ("type=scsi", "address=0000:00:05.0"), ("--controller","num_pcie_root_ports"): ("", "num_pcie_root_ports=3"),
 ("--cpu","secure"): ("Penryn", "secure=off"), ("--cpu", r"(force|require|optional|disable|forbid)"): ("", "require=vmx"),
 ("--disk","path"): ("device=cdrom", "path=/pool-dir/testvol1.img"), ("--disk","pool"): ("size=1", "pool=pool-dir"),
 ("--disk","vol"): ("device=cdrom", "vol=pool-dir/testvol1.img"), ("--disk","size"): ("/pool-dir/new9.img,size=1", "size=2"),
 ("--disk","format"): ("/pool-dir/new9.img,size=1", "format=raw"), ("--disk","sparse"): ("/pool-dir/new9.img,size=1", "sparse=no"),
 ("--disk","backing_store"): ("/pool-dir/new9.img,size=1", "backing_store=/pool-dir/testvol1.img"),
 ("--disk","backing_format"): ("/pool-dir/new9.img,size=1,backing_store=/pool-dir/testvol1.img", "backing_format=qcow2"),
 ("--disk","boot.order"): ("path=/pool-dir/testvol1.img", "boot.order=2"), ("--disk","boot_order"): ("path=/pool-dir/testvol1.img", "boot_order=2"),
 ("--disk","bootorder"): ("path=/pool-dir/testvol1.img", "bootorder=2"),
 ("--disk","source.pool"): ("device=cdrom", "source.pool=pool-dir,source.volume=testvol1.img"), ("--disk","source.volume"): ("device=cdrom", "source.volume=testvol1.img,source.pool=pool-dir"),
 ("--disk","perms"): ("path=/pool-dir/testvol1.img", "perms=ro"),
 ("--filesystem","target"): ("source=/src", "target=/t"),
 ("--graphics","port"): ("vnc", "port=5907"), ("--graphics","tlsPort"): ("spice", "tlsPort=5908"),
 ("--hostdev","boot.order"): ("eth9,type=net", "boot.order=2"), ("--hostdev","boot_order"): ("eth9,type=net", "boot_order=2"),
 ("--memdev","target.size"): ("dimm", "target.size=512"), ("--memdev","target_size"): ("dimm", "target_size=512"),
 ("--memdev","target.label_size"): ("nvdimm", "target.label_size=1"), ("--memdev","target_label_size"): ("nvdimm", "target_label_size=1"),
 ("--memdev","source.alignsize"): ("nvdimm", "source.alignsize=2048"),
 **{("--memory", k): ("", f"{k}=512") for k in ("memory","currentMemory","maxmemory","maxMemory","hotplugmemorymax")},
 ("--memory","maxMemory.slots"): ("maxMemory=2048", "maxMemory.slots=4"), ("--memory","hotplugmemoryslots"): ("hotplugmemorymax=2048", "hotplugmemoryslots=4"),
 ("--memory","hugepages"): ("", "hugepages=on"),
 ("--metadata","genid_enable"): ("", "genid_enable=yes"), ("--metadata","os_name"): ("", "os_name=fedora20"), ("--metadata","os_full_id"): ("", "os_full_id=http://fedoraproject.org/fedora/20"),
 ("--network","bridge"): ("", "bridge=br9"), ("--network","source"): ("type=direct", "source=eth9"),
 **{("--network", k): ("network=default", f"{k}=2") for k in ("boot.order","boot_order")},
 ("--qemu-commandline","env"): ("", "env=A=b"),
 **{("--redirdev", k): ("usb,type=tcp,server=localhost:4000", f"{k}=2") for k in ("boot.order","boot_order")},
 ("--rng","type"): ("", "type=egd,backend.source.host=h,backend.source.service=1"),
 ("--sysinfo", r"(bios|system|baseBoard|chassis)[._].*"): ("type=smbios", "bios.vendor=v"),
 **{("--vcpus", k): ("", f"{k}=2") for k in ("vcpu","vcpus","maxvcpus","sockets","dies","cores","threads")},
 ("--vcpus","vcpu.current"): ("4", "vcpu.current=2"),
}


# Names every XML option takes that change nothing on a fresh guest by design: clearxml (a
# new object has nothing to clear, in virt-install too) and refresh-machine-type, which acts
# on the machine --machine chose (test_install_virtinst_rules.py tests both).
NO_EFFECT_ON_A_NEW_GUEST = ("clearxml", "refresh-machine-type")


def _handler_names(spec, flag: str) -> list[str]:
    from pyvirt.install.opts import generic
    table = set(generic.table_keys(flag))
    return [k for k in spec.keys if k not in table and not k.startswith("xpath")
            and k not in NO_EFFECT_ON_A_NEW_GUEST]


@pytest.mark.skipif(not TREE.exists(), reason="shared conformance data not present")
def test_every_handler_suboption_changes_the_guest(conn_info) -> None:
    """virt-manager's test_cli.py "must change" check, for the names the option handlers
    declare: given with its companions, each changes the XML or a recorded choice."""
    from pyvirt.install.opts import registry
    specs, apply = registry()
    unchanged, checked = [], 0
    for flag, spec in sorted(specs.items()):
        if flag not in apply:  # a spec other code reads sub-options with (--cloud-init)
            continue
        for key in _handler_names(spec, flag):
            context, given = HANDLED.get((flag, key), (BASE.get(flag, ""),
                                                       f"{key.replace(chr(92), '')}=x7"))
            name = given.split("=", 1)[0]
            assert re.fullmatch(key, name) or key == name, (flag, key, given)
            before = _state(conn_info, apply, flag, context)
            after = _state(conn_info, apply, flag, ",".join(p for p in (context, given) if p))
            checked += 1
            if after == before:
                unchanged.append(f"{flag} {given} (with {context!r})")
    assert not unchanged, "accepted but no effect:\n" + "\n".join(unchanged)
    assert checked >= 180, checked


@pytest.mark.skipif(not TREE.exists(), reason="shared conformance data not present")
def test_backing_store_makes_the_new_volume_an_overlay(conn_info) -> None:
    """--disk size=,backing_store=,backing_format= create the new volume over the backing
    image (virtinst's StorageVolume backingStore), the format looked up when not given."""
    from pyvirt.install.guest import Guest
    from pyvirt.install.installer import Installer
    from pyvirt.install.opts import registry
    from pyvirt.xml.volume import VolumeDef
    _, apply = registry()
    g = Guest(conn_info)
    apply["--disk"](g, "/pool-dir/overlay9.qcow2,size=1,backing_store=/pool-dir/testvol1.img,"
                       "backing_format=raw")
    apply["--disk"](g, "/pool-dir/overlay10.qcow2,size=1,backing_store=/pool-dir/testvol1.img")
    sent: list[tuple[str, str]] = []
    real = g.ci.conn

    class Recorder:
        def __getattr__(self, name: str):
            return getattr(real, name)

        def create_volume_xml(self, pool: str, xml: str) -> None:
            sent.append((pool, xml))

    g.ci.conn = Recorder()
    try:
        Installer().build_storage(g)
    finally:
        g.ci.conn = real
    docs = [VolumeDef.from_xml(xml) for _pool, xml in sent]
    assert [(d.name, d.format, d.backing.path, d.backing.format) for d in docs] == [
        ("overlay9.qcow2", "qcow2", "/pool-dir/testvol1.img", "raw"),
        ("overlay10.qcow2", "qcow2", "/pool-dir/testvol1.img",
         _format_of(conn_info.conn, "/pool-dir/testvol1.img"))]
    assert docs[0].capacity == 1 << 30


def _format_of(conn, path: str) -> str | None:
    from pyvirt.install.opts.disk import _find_volume, _volume_format
    pool, vol = _find_volume(conn, path)
    return _volume_format(conn, pool, vol)


@pytest.mark.skipif(not TREE.exists(), reason="shared conformance data not present")
def test_disk_and_nic_rows_come_out_in_virtinst_order(conn_info) -> None:
    """--disk and --network rows go through the model and come out as virt-install 4.1
    writes this very line (checked against it): DeviceDisk's and DeviceInterface's property
    orders, the virtio driver options after the disk driver's listed ones."""
    from pyvirt.install.opts import registry
    _, apply = registry()
    root = etree.fromstring(_xml(conn_info, apply, "--disk",
                                 "/pool-dir/testvol1.img,driver.copy_on_read=on,driver.queues=2,"
                                 "driver.io=native,snapshot=no,rawio=yes,sgio=filtered,driver.ats=on,"
                                 "startup_policy=optional,boot.loadparm=3,transient=on"))
    disk = root.find("devices/disk")
    assert list(disk.attrib) == ["type", "device", "snapshot", "sgio", "rawio"]
    assert list(disk.find("driver").attrib) == ["name", "type", "io", "queues", "ats", "copy_on_read"]
    assert dict(disk.find("source").attrib) == {"file": "/pool-dir/testvol1.img",
                                                "startupPolicy": "optional"}
    kids = [k.tag for k in disk]
    assert kids.index("transient") < kids.index("boot") and disk.find("boot").get("loadparm") == "3"
    nic = etree.fromstring(_xml(conn_info, apply, "--network",
                                "network=default,source.portgroup=pg,source.path=/p,rom.file=/r,"
                                "rom.bar=off,virtualport.type=openvswitch,trustGuestRxFilters=yes"))
    nic = nic.find("devices/interface")
    assert list(nic.attrib) == ["type", "trustGuestRxFilters"]
    assert list(nic.find("source").attrib) == ["network", "path", "portgroup"]
    assert list(nic.find("rom").attrib) == ["bar", "file"]
    assert nic.find("virtualport").get("type") == "openvswitch"
