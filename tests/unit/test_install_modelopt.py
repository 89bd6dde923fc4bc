"""Options built through the pyvirt.xml model (install/modelopt): --numatune, --memorybacking.

Every sub-option names a model field (none accepted and dropped); the element comes out in
virt-install's order with attributes in the model's (virtinst's property) order, whatever
order the user typed; what the model does not declare in an element that is already there
is kept; values the model's types refuse are written as given, as virt-install does.
"""

from __future__ import annotations

import pytest
from lxml import etree

from pyvirt.install import modelopt, pathset
from pyvirt.install.guest import Guest
from pyvirt.install.optmap import PATHS
from pyvirt.xml.domain import Domain, NumaTune


def _guest(xml: str = "<domain/>") -> Guest:
    g = Guest(None)  # type: ignore[arg-type]  # the rows need no connection
    g.root = etree.fromstring(xml)
    return g


def _apply(g: Guest, flag: str, optstr: str) -> etree._Element:
    from pyvirt.install.opts import registry
    registry()[1][flag](g, optstr)
    where, _tag = pathset.where(flag) or ("", "")
    return g.root.find(where) if where else g.root


# Every option with table rows is built through the model: one the model loses a row of
# would have no writer left (pathset's table writer is gone), which this catches.
MODEL_BUILT = sorted(f for f, (_where, _tag, rows) in PATHS.items() if rows)


def test_every_option_with_rows_is_built_through_the_model() -> None:
    assert len(MODEL_BUILT) == 43 and "--qemu-commandline" not in MODEL_BUILT


@pytest.mark.parametrize("flag", MODEL_BUILT)
def test_every_row_names_a_model_field(flag: str) -> None:
    assert modelopt.unresolved(flag) == []
    assert modelopt.model(flag) is not None


def test_the_model_class_is_found_at_the_options_location() -> None:
    from pyvirt.xml.domain import Hostdev, NumaTune
    assert modelopt.element_class("numatune") is NumaTune
    assert modelopt.element_class("devices/hostdev") is Hostdev
    assert modelopt.element_class("devices/nosuch") is None
    assert modelopt.model("--iothreads") is Domain  # <domain>'s own children


def test_a_path_the_model_lacks_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(LookupError, match="NumaTune declares no field at 'memory/@bogus'"):
        modelopt.resolve(NumaTune, "memory/@bogus")
    with pytest.raises(LookupError):  # memnode is a list: a row must index it
        modelopt.resolve(NumaTune, "memnode/@cellid")


def test_attributes_in_the_models_order_not_the_users() -> None:
    a = _apply(_guest(), "--numatune", "nodeset=1,mode=strict,memnode1.nodeset=2,memnode1.cellid=1")
    assert etree.tostring(a, encoding="unicode") == (
        '<numatune><memory mode="strict" nodeset="1"/><memnode/>'
        '<memnode cellid="1" nodeset="2"/></numatune>')


def test_children_in_virt_install_order_and_values_as_given() -> None:
    mb = _apply(_guest(), "--memorybacking",
                "source.type=memfd,access.mode=shared,size=bogus,allocation.threads=0x10,locked=on")
    # a <hugepages> holding pages sits at virtinst's pages property, after locked (checked
    # against virt-install 4.1); an empty one (hugepages=on) comes first
    assert [k.tag for k in mb] == ["locked", "hugepages", "access", "source", "allocation"]
    assert mb.find("hugepages/page").get("size") == "bogus"  # libvirt judges it at define
    assert mb.find("allocation").get("threads") == "16"


def test_an_empty_hugepages_comes_first() -> None:
    mb = _apply(_guest(), "--memorybacking", "locked=on,hugepages=on,nosharepages=on")
    assert [k.tag for k in mb] == ["hugepages", "nosharepages", "locked"]
    # set as a boolean it stays first even with pages in it (virt-install 4.1)
    mb = _apply(_guest(), "--memorybacking", "hugepages=on,hugepages.page0.size=1,locked=on")
    assert [k.tag for k in mb] == ["hugepages", "locked"]


def test_an_existing_element_keeps_what_the_model_does_not_declare() -> None:
    g = _guest("<domain><numatune><memory mode='strict' future='x'/><later a='1'/></numatune>"
               "<memoryBacking><hugepages><page size='2' unit='M'/></hugepages></memoryBacking></domain>")
    nt = _apply(g, "--numatune", "memory.nodeset=0-1")
    assert etree.tostring(nt, encoding="unicode") == (
        '<numatune><memory mode="strict" nodeset="0-1" future="x"/><later a="1"/></numatune>')
    assert nt is g.root.find("numatune")  # edited in place, not replaced
    mb = _apply(g, "--memorybacking", "hugepages=off,locked=on")
    assert [k.tag for k in mb] == ["locked"]  # <hugepages> goes with its pages, as in virtinst


def test_memory_hugepages_alias_uses_the_same_model() -> None:
    g = _guest()
    _apply(g, "--memorybacking", "access.mode=shared")
    from pyvirt.install.opts.domain import apply_memory
    apply_memory(g, "64,hugepages=on")
    assert [k.tag for k in g.root.find("memoryBacking")] == ["hugepages", "access"]


def test_device_options_add_a_device_each_in_virtinsts_attribute_order() -> None:
    g = _guest()
    _apply(g, "--audio", "id=1,type=spice")
    _apply(g, "--iommu", "driver.iotlb=off,model=intel,driver.aw_bits=48")
    _apply(g, "--audio", "id=2,type=pulseaudio")
    audios = g.root.findall("devices/audio")
    assert [list(a.attrib.items()) for a in audios] == [[("type", "spice"), ("id", "1")],
                                                         [("type", "pulseaudio"), ("id", "2")]]
    assert list(g.root.find("devices/iommu/driver").attrib) == ["aw_bits", "iotlb"]


def test_sysinfo_tables_each_get_their_own_rows() -> None:
    """--sysinfo's handler merges tables of one type; the table rows of a second --sysinfo go
    into the table that option made (they went into the first one before)."""
    g = _guest("<domain><os/></domain>")
    _apply(g, "--sysinfo", "chassis.asset=A1,system.serial=S1,oemStrings.entry1=two,oemStrings.entry0=one")
    _apply(g, "--sysinfo", "type=fwcfg,entry0.name=opt/x,entry0=val,entry1.file=/f,entry1.name=opt/y")
    _apply(g, "--sysinfo", "bios.vendor=V")
    smbios, fwcfg = g.root.findall("sysinfo")
    assert [k.tag for k in smbios] == ["bios", "system", "chassis", "oemStrings"]
    assert [e.text for e in smbios.findall("oemStrings/entry")] == ["one", "two"]
    assert [list(e.attrib.items()) for e in fwcfg] == [[("name", "opt/x")],
                                                       [("name", "opt/y"), ("file", "/f")]]


def test_seclabel_is_a_model_object() -> None:
    g = _guest()
    _apply(g, "--seclabel", "imagelabel=i,baselabel=b,label=l,relabel=yes,model=dac,type=static")
    sl = g.root.find("seclabel")
    assert list(sl.attrib.items()) == [("type", "static"), ("model", "dac"), ("relabel", "yes")]
    assert [(k.tag, k.text) for k in sl] == [("label", "l"), ("baselabel", "b"), ("imagelabel", "i")]


def test_clone_sets_the_smbios_uuid_through_the_model() -> None:
    from pyvirt.install.clone import Cloner
    cl = Cloner.__new__(Cloner)
    cl.new = etree.fromstring(
        "<domain><uuid>1</uuid><sysinfo type='smbios'><system><entry name='uuid'>1</entry>"
        "<entry name='serial'>s</entry></system><processor/></sysinfo></domain>")
    cl.set_uuid("00000000-1111-2222-3333-444444444444")
    assert cl.new.findtext("sysinfo/system/entry[@name='uuid']") == "00000000-1111-2222-3333-444444444444"
    assert cl.new.find("sysinfo/processor") is not None  # not in the model: kept


def test_blkiotune_devices_in_virt_install_order() -> None:
    """<blkiotune> joined the model (BlkioTune): virt-install writes a device's throttles
    bytes before IOPS, where libvirt's order (the model's) is the other way round."""
    bt = _apply(_guest(), "--blkiotune", "device0.write_iops_sec=5,device0.path=/dev/sda,"
                                          "device0.read_bytes_sec=0x10,weight=7")
    assert [(k.tag, k.text) for k in bt.find("device")] == [
        ("path", "/dev/sda"), ("read_bytes_sec", "16"), ("write_iops_sec", "5")]
    assert bt.findtext("weight") == "7"


def test_device_rows_in_virtinst_property_order_with_its_numbers() -> None:
    """Checked against virt-install 4.1: an address's attributes in DeviceAddress's order
    whatever order they were typed in, numbers as typed (decimal, not libvirt's hex); a
    controller's own attributes and <driver> in DeviceController's order."""
    for order in ("address.multifunction=on,address.function=7,address.slot=7,address.bus=0,"
                  "address.type=pci", "address.type=pci,address.bus=0,address.slot=7,"
                  "address.function=7,address.multifunction=on"):
        g = _guest("<domain><devices/></domain>")
        _apply(g, "--watchdog", "model=i6300esb," + order)
        assert etree.tostring(g.root.find("devices/watchdog/address"), encoding="unicode") == (
            '<address type="pci" bus="0" slot="7" function="7" multifunction="on"/>')
    g = _guest("<domain><devices/></domain>")
    _apply(g, "--controller", "type=scsi,model=virtio-scsi,driver.iothread=2,driver.queues=3,"
                              "address.unit=1,address.controller=2,address.target=4,index=3")
    ctl = g.root.find("devices/controller")
    assert list(ctl.attrib) == ["type", "index", "model"]
    assert etree.tostring(ctl.find("driver"), encoding="unicode") == '<driver queues="3" iothread="2"/>'
    assert list(ctl.find("address").attrib) == ["controller", "target", "unit"]


def test_an_element_the_model_holds_once_is_kept_when_repeated() -> None:
    """A UDP character device has two <source> (bind and connect); the model holds one, and
    the second is kept where it was, not dropped, when the device is rewritten."""
    g = _guest("<domain><devices><serial type='udp'><source mode='bind' host='a' service='1'/>"
               "<source mode='connect' host='b' service='2'/></serial></devices></domain>")
    el = g.root.find("devices/serial")
    modelopt.apply_to("--serial", el, {"log.file": "/l"})
    assert [dict(s.attrib) for s in el.findall("source")] == [
        {"mode": "bind", "host": "a", "service": "1"}, {"mode": "connect", "host": "b", "service": "2"}]
    assert el.find("log").get("file") == "/l"


def test_a_field_declared_unsupported_is_refused_by_a_driver_and_kept_for_virt_install() -> None:
    """Address's ccw numbers: a driver's read refuses them as it refuses anything
    undeclared (same message), virt-install's option parsers hold them as fields."""
    from pyvirt.xml import parse_domain
    from pyvirt.xml.domain import Address
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.fields import keeping_unknown
    from pyvirt.xml.mapping import parse_obj
    xml = ("<domain type='qemu'><name>a</name><memory>1024</memory><os><type>hvm</type></os>"
           "<devices><watchdog model='i6300esb'><address type='pci' cssid='0xfe'/></watchdog>"
           "</devices></domain>")
    with pytest.raises(XMLError, match="unsupported attribute 'cssid' of <watchdog/address>"):
        parse_domain(xml)
    with keeping_unknown(verbatim=True):
        addr = parse_obj(etree.fromstring("<address type='pci' cssid='0xfe'/>"), Address)
    assert addr.cssid == "0xfe"
    assert modelopt.resolve(Address, "@cssid")[0][0] == "cssid"


def test_domain_children_options_touch_only_their_own_elements() -> None:
    """--iothreads writes <domain>'s own children through Domain: only its elements are
    read and rewritten (each in its place), the rest of the document is left as it is."""
    g = _guest("<domain><name>n</name><iothreads>2</iothreads><os/><unknown a='1'/></domain>")
    _apply(g, "--iothreads", "4,iothreadids.iothread0.thread_pool_max=8,iothreadids.iothread0.id=1,"
                             "defaultiothread.thread_pool_max=3,defaultiothread.thread_pool_min=1")
    assert [k.tag for k in g.root] == ["name", "iothreads", "iothreadids", "defaultiothread", "os", "unknown"]
    assert g.root.find("unknown").get("a") == "1"
    assert g.root.findtext("iothreads") == "4"
    assert list(g.root.find("iothreadids/iothread").attrib.items()) == [("id", "1"), ("thread_pool_max", "8")]
    assert list(g.root.find("defaultiothread").attrib) == ["thread_pool_min", "thread_pool_max"]


def test_a_size_keeps_its_unit_and_a_bare_tristate_stays_bare() -> None:
    """virtinst sets a size's text and leaves the element's unit; a boolean row on a
    tristate feature writes it bare (<hap/>), and a bare one read is written bare again."""
    g = _guest("<domain><memtune><hard_limit unit='MiB'>5</hard_limit><soft_limit>1</soft_limit>"
               "</memtune><features><pmu/></features></domain>")
    mt = _apply(g, "--memtune", "hard_limit=0x10,min_guarantee=3")
    assert [(k.tag, k.text, k.get("unit")) for k in mt] == [
        ("hard_limit", "16", "MiB"), ("soft_limit", "1", None), ("min_guarantee", "3", None)]
    ft = _apply(g, "--features", "hap=on,smm=off")
    assert etree.tostring(ft, encoding="unicode") == '<features><hap/><pmu/><smm state="off"/></features>'
    ft = _apply(g, "--features", "hap=off")
    assert ft.find("hap") is None


def test_rows_index_a_list_of_mixed_elements_by_tag() -> None:
    """CPU.numa_interconnects holds <latency> and <bandwidth> in one list: latencyN and
    bandwidthN pick the Nth of their own tag."""
    cpu = _apply(_guest(), "--cpu", "numa.interconnects.bandwidth0.value=9,numa.interconnects.latency1.value=2,"
                                    "numa.interconnects.latency0.value=1")
    assert [(k.tag, k.get("value")) for k in cpu.find("numa/interconnects")] == [
        ("latency", "1"), ("latency", "2"), ("bandwidth", "9")]
    os_ = _apply(_guest(), "--boot", "boot1.dev=hd,boot0.dev=network")
    assert [b.get("dev") for b in os_.findall("boot")] == ["network", "hd"]


def test_rows_libvirt_has_no_element_for_are_written_as_plain_paths() -> None:
    """virt-install 4.1 writes a <graphics> alias/address and a <tpm>'s own <active_pcr_banks>,
    which libvirt's XML (so the model) has not: written next to the model's object, not
    dropped, in virt-install's order."""
    g = _guest("<domain><devices/></domain>")
    _apply(g, "--graphics", "vnc,alias.name=ua-g,address.type=pci,password=pw,image.compression=off")
    gr = g.root.find("devices/graphics")
    assert gr.get("passwd") == "pw"  # the user's own secret is written as given
    assert gr.find("alias").get("name") == "ua-g" and gr.find("address").get("type") == "pci"
    _apply(g, "--tpm", "/dev/tpm0,active_pcr_banks.sha256=on")
    assert g.root.find("devices/tpm/active_pcr_banks/sha256") is not None
    _apply(g, "--filesystem", "/a,/b,driver.queue=3,driver.name=n,driver.type=virtiofs")
    assert list(g.root.find("devices/filesystem/driver").attrib) == ["name", "queue", "type"]


def test_qemu_commandline_is_written_through_the_model_with_its_prefix() -> None:
    """--qemu-commandline adds QemuArg/QemuEnv objects to the Domain's own element (args
    before envs, as virtinst keeps them), written with the qemu: prefix virt-install uses."""
    from pyvirt.install.opts import registry
    from pyvirt.xml.profiles import VIRTINST
    g = _guest("<domain><name>n</name><devices/></domain>")
    registry()[1]["--qemu-commandline"](g, "env=A=1")
    registry()[1]["--qemu-commandline"](g, "-foo 'bar baz'")
    text = VIRTINST.to_text(g.root)
    assert '<qemu:commandline xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">' in text
    assert text.index('<qemu:arg value="-foo"/>') < text.index('<qemu:arg value="bar baz"/>') \
        < text.index('<qemu:env name="A" value="1"/>')


def test_vcpus_per_vcpu_state_is_built_through_the_model() -> None:
    """--vcpus vcpus.vcpuN.*: table rows on the Domain's <vcpus> list, each <vcpu> with its
    attributes in virtinst's property order (id, enabled, hotpluggable, order), whatever
    order they were typed in; yes/no values in virtinst's spelling."""
    g = _guest("<domain><vcpu>2</vcpu><os/></domain>")
    root = _apply(g, "--vcpus", "2,vcpus.vcpu1.order=2,vcpus.vcpu1.hotpluggable=off,vcpus.vcpu1.enabled=on,"
                                "vcpus.vcpu1.id=1,vcpus.vcpu0.id=0,vcpus.vcpu0.enabled=yes")
    vcpus = root.findall("vcpus/vcpu")
    assert [list(v.attrib.items()) for v in vcpus] == [
        [("id", "0"), ("enabled", "yes")],
        [("id", "1"), ("enabled", "yes"), ("hotpluggable", "no"), ("order", "2")]]
    assert [c.tag for c in root] == ["vcpu", "vcpus", "os"]


def test_vcpus_unknown_per_vcpu_name_is_refused() -> None:
    from pyvirt.install.subopts import SubOptError
    with pytest.raises(SubOptError, match="vcpus.vcpu0.bogus"):
        _apply(_guest(), "--vcpus", "2,vcpus.vcpu0.bogus=1")


def test_domain_level_handlers_edit_only_their_elements_through_the_model() -> None:
    """--vcpus, --events, --boot and --clock edit <domain>'s children through a Domain
    (modelopt.domain_part): each element in virt-install's place, its attributes in
    virtinst's order whatever the order typed, values as given, the rest of the document
    (elements the model does not declare) left as it was."""
    g = _guest("<domain><name>n</name><bootloader>/b</bootloader><os><type>hvm</type></os>"
               "<unknown a='1'/></domain>")
    _apply(g, "--vcpus", "placement=static,cpuset=1-2,vcpu.current=1,vcpus=2,cores=2")
    _apply(g, "--events", "on_lockfailure=pause,on_poweroff=destroy")
    _apply(g, "--boot", "kernel=/k,boot1.dev=cdrom,boot0.dev=hd,loader.secure=on,loader=/l,initargs=a b")
    _apply(g, "--clock", "offset=utc,timer1.name=pit,rtc_tickpolicy=catchup,timer0.catchup.slew=5")
    root = g.root
    assert [k.tag for k in root] == ["name", "vcpu", "bootloader", "os", "unknown", "cpu", "clock",
                                     "on_poweroff", "on_lockfailure"]
    assert root.findtext("bootloader") == "/b" and root.find("unknown").get("a") == "1"
    assert list(root.find("vcpu").attrib.items()) == [("current", "1"), ("cpuset", "1-2"),
                                                      ("placement", "static")]
    assert root.findtext("vcpu") == "2" and root.find("cpu/topology").get("cores") == "2"
    os_ = root.find("os")
    assert [c.tag for c in os_] == ["type", "loader", "initarg", "initarg", "kernel", "boot", "boot"]
    assert [b.get("dev") for b in os_.findall("boot")] == ["hd", "cdrom"]
    assert [a.text for a in os_.findall("initarg")] == ["a", "b"]
    assert (os_.findtext("loader"), os_.find("loader").get("secure")) == ("/l", "yes")
    timers = root.findall("clock/timer")
    # the NAME_attr shorthands first (virtinst's registration order), then timerN.*
    assert [list(t.attrib.items()) for t in timers] == [[("name", "rtc"), ("tickpolicy", "catchup")],
                                                        [("name", "pit")]]
    assert timers[0].find("catchup").get("slew") == "5"


def test_set_value_and_get_value_name_a_field_by_its_xml_path() -> None:
    """A handler's object is set by XML paths (the text as given, None removes it); reading
    through an element that is not there gives None without creating it."""
    from pyvirt.xml.domain import Disk
    disk = Disk()
    assert modelopt.get_value(disk, "auth/secret/@uuid") is None and disk.auth is None
    modelopt.set_value(disk, "driver/@type", "qcow2")
    modelopt.set_value(disk, "source/host[]/@name", "h1")
    assert (disk.driver_type, disk.source_hosts[0].name) == ("qcow2", "h1")
    assert modelopt.get_value(disk, "driver/@type") == "qcow2"
    modelopt.set_value(disk, "driver/@type", None)
    assert disk.driver_type is None


def test_disk_is_built_through_the_model() -> None:
    """--disk's handler builds a Disk object: a URL path becomes a network source, its
    host, port and transport a <host> (with a transport, the path is the host's socket)."""
    from pyvirt.install.opts.disk import _source_from_url
    from pyvirt.xml.domain import Disk
    disk = Disk(type="network", device="disk")
    _source_from_url(disk, "nbd+unix:///export?socket=/tmp/s")
    assert (disk.source_protocol, disk.source_name, disk.source_query) == ("nbd", None, "socket=/tmp/s")
    assert [(h.transport, h.socket) for h in disk.source_hosts] == [("unix", "/export")]
    _source_from_url(disk := Disk(), "gluster://[fe80::1]:24007/vol/img")
    assert [(h.name, h.port) for h in disk.source_hosts] == [("fe80::1", "24007")]
    assert disk.source_name == "vol/img"


def test_hostdev_capabilities_mode_is_a_model_object_a_driver_refuses() -> None:
    """--hostdev NAME,type=net|misc|storage: <hostdev mode='capabilities'> built through the
    model (its source's interface/char/block are declared unsupported): virt-install's
    parsers write it, pyvirtd's read refuses it by name as before."""
    from pyvirt.xml import parse_domain
    from pyvirt.xml.errors import XMLError
    g = _guest("<domain/>")
    g.ci = type("CI", (), {"is_xen": staticmethod(lambda: False)})()
    from pyvirt.install.opts.devices import apply_hostdev
    apply_hostdev(g, "eth9,type=net")
    el = g.root.find("devices/hostdev")
    assert list(el.attrib.items()) == [("mode", "capabilities"), ("type", "net"), ("managed", "yes")]
    assert el.findtext("source/interface") == "eth9"
    with pytest.raises(XMLError, match="unsupported element <source/interface>"):
        parse_domain("<domain type='qemu'><name>a</name><memory>1024</memory><os><type>hvm</type></os>"
                     "<devices>" + etree.tostring(el, encoding="unicode") + "</devices></domain>")


def test_install_defaults_go_through_the_model_where_virtinst_orders_them() -> None:
    """The domain-level defaults (clock timers, CPU mode, topology) are set through the
    model; <pm>, which virtinst gives no property order, keeps --pm's element first."""
    from pyvirt.install import defaults
    g = _guest("<domain><vcpu>4</vcpu><os><type arch='x86_64'>hvm</type></os>"
               "<cpu><topology cores='2'/></cpu><pm><suspend-to-disk enabled='yes'/></pm></domain>")
    g.ci = type("CI", (), {"is_qemu": staticmethod(lambda: True), "is_test": staticmethod(lambda: False)})()
    defaults.sync_vcpus(g, 1)
    assert list(g.root.find("cpu/topology").attrib.items()) == [
        ("sockets", "2"), ("dies", "1"), ("cores", "2"), ("threads", "1")]
    defaults._pm(g)
    assert [(e.tag, e.get("enabled")) for e in g.root.find("pm")] == [
        ("suspend-to-disk", "yes"), ("suspend-to-mem", "no")]
    defaults._clock(g)
    assert [list(t.attrib.items()) for t in g.root.findall("clock/timer")] == [
        [("name", "rtc"), ("tickpolicy", "catchup")], [("name", "pit"), ("tickpolicy", "delay")],
        [("name", "hpet"), ("present", "no")]]
    assert g.root.find("clock").get("offset") == "utc"


def test_set_domain_value_edits_one_child_of_domain_in_place() -> None:
    """--name/--uuid/--memory's defaults set one field of <domain> through the model: the
    element goes to virt-install's place, an existing one keeps its attributes."""
    g = _guest("<domain><vcpu cpuset='1'>0</vcpu><os/></domain>")
    modelopt.set_domain_value(g, "vcpu", 4)
    modelopt.set_domain_value(g, "name", "vm1")
    assert [c.tag for c in g.root] == ["name", "vcpu", "os"]
    assert (g.root.findtext("vcpu"), g.root.find("vcpu").get("cpuset")) == ("4", "1")
