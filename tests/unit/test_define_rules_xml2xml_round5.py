"""The fifth xml2xml round's define-time rules (issue 14), each first seen on a probe defined in
the real libvirt 9.0 (``virsh define`` + ``dumpxml --inactive``): how tunables, security
labels and a few devices are kept, and the refusals libvirt makes at define, in its words.
Documents written here (format_rules.py, define_rules_more.py)."""

from __future__ import annotations

import pytest
from lxml import etree

from pyvirt.xml import XMLError, fill_defaults, parse_domain
from pyvirt.xml.generic_defaults import fill_generic_defaults

HEAD = ("<domain type='qemu'><name>g</name><memory>65536</memory>{vcpu}{extra}"
        "<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{features}<devices>{devices}</devices></domain>")


def text(devices: str = "", extra: str = "", vcpu: str = "<vcpu>4</vcpu>", machine: str = "pc",
         features: str = "") -> str:
    return HEAD.format(vcpu=vcpu, extra=extra, machine=machine, features=features, devices=devices)


def define(devices: str = "", extra: str = "", **kw: str) -> etree._Element:
    """The inactive XML pyvirt writes after define, as an element tree."""
    dom = fill_defaults(parse_domain(text(devices, extra, **kw)))
    return etree.fromstring(dom.to_xml(inactive=True, security_info=True).encode())


def refused(devices: str = "", extra: str = "", **kw: str) -> str:
    with pytest.raises(XMLError) as err:
        parse_domain(text(devices, extra, **kw))
    return str(err.value)


# ----------------------------------------------------------------------------- kept forms

def test_pins_and_scheduling_are_written_thread_by_thread_in_thread_order() -> None:
    root = define(extra="<iothreads>3</iothreads><iothreadids><iothread id='3'/><iothread id='1'/>"
                  "<iothread id='2'/></iothreadids><cputune><vcpupin vcpu='3' cpuset='1'/>"
                  "<vcpupin vcpu='0' cpuset='0'/><iothreadpin iothread='1' cpuset='0'/>"
                  "<iothreadpin iothread='3' cpuset='1'/><vcpusched vcpus='2-3' scheduler='batch'/>"
                  "<vcpusched vcpus='0' scheduler='rr' priority='3'/>"
                  "<iothreadsched iothreads='1,3' scheduler='idle'/></cputune>")
    tune = root.find("cputune")
    assert [p.get("vcpu") for p in tune.findall("vcpupin")] == ["0", "3"]
    assert [p.get("iothread") for p in tune.findall("iothreadpin")] == ["3", "1"]
    assert [(s.get("vcpus"), s.get("scheduler")) for s in tune.findall("vcpusched")] == [
        ("0", "rr"), ("2", "batch"), ("3", "batch")]
    assert [s.get("iothreads") for s in tune.findall("iothreadsched")] == ["3", "1"]


def test_bare_hyperv_is_kept_as_custom_mode() -> None:
    hv = define(features="<features><hyperv/></features>").find("features/hyperv")
    assert hv is not None and hv.get("mode") == "custom" and len(hv) == 0


def test_unlimited_memory_limit_is_not_written_and_larger_is_refused() -> None:
    root = define(extra="<memtune><hard_limit>9007199254740991</hard_limit></memtune>")
    assert root.find("memtune") is None
    kept = define(extra="<memtune><hard_limit>9007199254740991</hard_limit><soft_limit>1024</soft_limit></memtune>")
    assert kept.find("memtune/hard_limit") is None and kept.find("memtune/soft_limit").text == "1024"
    assert "value too large" in refused(extra="<memtune><swap_hard_limit>9007199254740992</swap_hard_limit></memtune>")


@pytest.mark.parametrize(("label", "expected"), [
    ("<seclabel type='dynamic' model='dac'><label>1:1</label></seclabel>", ("dynamic", "yes", None)),
    ("<seclabel type='static' model='dac'><label>1:1</label><imagelabel>2:2</imagelabel></seclabel>",
     ("static", "no", "1:1")),
    ("<seclabel model='dac'><label>1:1</label></seclabel>", None),  # no type: the driver's default
    ("<seclabel model='dac' relabel='no'/>", None),
    ("<seclabel type='none' model='dac'/>", ("none", None, None)),
])
def test_domain_seclabel_as_an_inactive_parse_keeps_it(label: str, expected: tuple | None) -> None:
    for root in (define(extra=label), _generic(label)):
        got = root.find("seclabel")
        if expected is None:
            assert got is None
            continue
        assert (got.get("type"), got.get("relabel"), got.findtext("label")) == expected
        assert got.find("imagelabel") is None


def _generic(extra: str) -> etree._Element:
    dom = parse_domain(text(extra=extra), keep_unknown=True)
    fill_generic_defaults(dom)
    return etree.fromstring(dom.to_xml(inactive=True, security_info=True).encode())


def test_autoport_drops_the_written_ports() -> None:
    vnc = define("<graphics type='vnc' port='5901' autoport='yes'/>").find("devices/graphics")
    assert vnc.get("port") == "-1"
    spice = define("<graphics type='spice' port='5905' autoport='yes'/>").find("devices/graphics")
    assert spice.get("port") is None and spice.get("autoport") == "yes"
    fixed = define("<graphics type='vnc' port='5905' autoport='no'/>").find("devices/graphics")
    assert fixed.get("port") == "5905"


def test_tpm_passthrough_defaults_to_dev_tpm0() -> None:
    root = define("<tpm model='tpm-tis'><backend type='passthrough'/></tpm>")
    assert root.find("devices/tpm/backend/device").get("path") == "/dev/tpm0"


def test_shmem_size_is_written_in_whole_mib() -> None:
    sizes = [define(f"<shmem name='s'><model type='ivshmem-plain'/><size unit='K'>{k}</size></shmem>")
             .find("devices/shmem/size") for k in (2048, 3)]
    assert [(s.get("unit"), s.text) for s in sizes] == [("M", "2"), ("M", "0")]


def test_fixed_audio_settings_are_written_even_empty() -> None:
    io = define("<audio id='1' type='none'><input mixingEngine='yes' fixedSettings='yes'/></audio>")
    assert io.find("devices/audio/input/settings") is not None


def test_video_memory_is_rounded_up_to_a_power_of_two() -> None:
    for model, attrs in (("vga", ("vram",)), ("virtio", ("vram",)), ("qxl", ("vram", "ram"))):
        for att in attrs:
            m = define(f"<video><model type='{model}' {att}='10000'/></video>").find("devices/video/model")
            assert m.get(att) == "16384", (model, att)


# ----------------------------------------------------------------------------- refusals

@pytest.mark.parametrize(("kw", "message"), [
    ({"extra": "<title>a\nb</title>"}, "Domain title can't contain newlines"),
    ({"devices": "<audio type='none'/>"}, "Missing required attribute 'id' in element 'audio'"),
    ({"devices": "<audio id='1' type='none'><input><settings/></input></audio>"},
     "audio settings specified without fixed settings flag"),
    ({"devices": "<audio id='1' type='file'><output fixedSettings='yes'/></audio>"},
     "fixed audio settings requires mixing engine"),
    ({"devices": "<audio id='1' type='spice'/>"}, "Spice audio is not supported without spice graphics"),
    ({"devices": "<filesystem><source dir='/a'/></filesystem>"}, "missing target information for device /a"),
    ({"devices": "<filesystem fmode='644'><source dir='/a'/><target dir='b'/></filesystem>"},
     "fmode and dmode must be used with accessmode=mapped"),
    ({"devices": "<shmem name='s'/>"}, "ivshmem device is not supported with this QEMU binary"),
    ({"devices": "<shmem name='s'><model type='ivshmem-plain'/><msi/></shmem>"},
     "msi option is only supported with a server"),
    ({"devices": "<shmem name='s'><model type='ivshmem-plain'/><server path='/x'/></shmem>"},
     "shmem model 'ivshmem-plain' is supported only with server option disabled"),
    ({"devices": "<shmem name='s'><model type='ivshmem-doorbell'/></shmem>"},
     "shmem model 'ivshmem-doorbell' is supported only with server option enabled"),
    ({"devices": "<input type='evdev' bus='virtio'><source dev='/dev/input/event1'/></input>"},
     "input evdev doesn't support bus element"),
    ({"devices": "<tpm model='tpm-crb'><backend type='emulator' version='1.2'/></tpm>", "machine": "q35"},
     "Unsupported interface 'tpm-crb' for TPM 1.2"),
    ({"devices": "<video><model type='qxl' vgamem='10000'/></video>"}, "value for 'vgamem' must be power of two"),
    ({"extra": "<cpu><topology sockets='2' cores='2' threads='2'/></cpu>"},
     "CPU topology doesn't match maximum vcpu count"),
    ({"extra": "<sysinfo type='fwcfg'><entry name='etc/x'>v</entry></sysinfo>"}, "Invalid firmware name"),
    ({"extra": "<on_crash>rename-restart</on_crash>"}, "doesn't support the 'rename-restart' action"),
    ({"extra": "<on_poweroff>restart</on_poweroff><on_reboot>destroy</on_reboot>"},
     "doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to 'reboot'"),
    ({"extra": "<clock offset='utc'><timer name='platform'/></clock>"}, "unsupported timer type (name) 'platform'"),
    ({"extra": "<clock offset='utc'><timer name='rtc' track='boot'/></clock>"}, "unsupported rtc timer track 'boot'"),
    ({"extra": "<clock offset='utc'><timer name='rtc' tickpolicy='merge'/></clock>"},
     "unsupported rtc timer tickpolicy 'merge'"),
    ({"extra": "<clock offset='utc'><timer name='pit' tickpolicy='merge'/></clock>"},
     "unsupported pit tickpolicy 'merge'"),
    ({"extra": "<clock offset='utc'><timer name='kvmclock' tickpolicy='delay'/></clock>"},
     "timer kvmclock doesn't support setting of timer tickpolicy"),
    ({"extra": "<clock offset='utc'><timer name='hpet' track='guest'/></clock>"},
     "timer hpet doesn't support setting of timer track"),
    ({"extra": "<clock offset='utc'><timer name='rtc' frequency='100'/></clock>"},
     "timer rtc doesn't support setting of timer frequency"),
    ({"extra": "<clock offset='utc'><timer name='rtc' tickpolicy='delay'><catchup threshold='1'/></timer></clock>"},
     "setting of timer catchup policies is only supported with tickpolicy='catchup'"),
])
def test_refused_at_define_in_libvirts_words(kw: dict, message: str) -> None:
    assert message in refused(**kw)


def test_image_seclabels_that_say_nothing_are_not_kept() -> None:
    disk = ("<disk type='file'><driver name='qemu' type='qcow2'/><source file='/a.qcow2'>{}</source>"
            "<backingStore type='file'><format type='raw'/><source file='/b.img'>{}</source></backingStore>"
            "<target dev='vda' bus='virtio'/></disk>")
    root = define(disk.format("<seclabel model='dac'/><seclabel model='selinux' labelskip='yes'>"
                              "<label>x</label></seclabel>", "<seclabel model='dac' relabel='yes'/>"))
    top = root.findall("devices/disk/source/seclabel")
    assert [(s.get("model"), s.get("relabel"), s.get("labelskip")) for s in top] == [("selinux", "yes", None)]
    assert root.find("devices/disk/backingStore/source/seclabel") is None
    kept = define(disk.format("<seclabel model='dac' relabel='no'/>", "")).find("devices/disk/source/seclabel")
    assert kept.get("relabel") == "no"


def test_memory_dump_core_is_kept_and_reaches_the_machine_option() -> None:
    from pyvirt.qemu.argv import build_argv

    for value, expected in (("on", "dump-guest-core=on"), ("off", "dump-guest-core=off"), (None, "dump-guest-core=off")):
        attr = f" dumpCore='{value}'" if value else ""
        dom = fill_defaults(parse_domain(text().replace("<memory>", f"<memory{attr}>")))
        assert dom.memory_dump_core == ({"on": True, "off": False}.get(value or ""))
        assert (f"dumpCore='{value}'" in dom.to_xml(inactive=True)) == bool(value)
        argv = build_argv(dom)
        assert expected in argv[argv.index("-machine") + 1]


# ----------------------------------------------------------------------------- second batch

def test_what_the_parser_reads_only_where_it_acts_is_dropped() -> None:
    root = define(extra="<cputune><vcpupin vcpu='9' cpuset='0'/></cputune>"
                  "<sysinfo type='fwcfg'><entry name='opt/x' file='/a'>v</entry></sysinfo>",
                  features="<features><hyperv><stimer state='off'><direct state='on'/></stimer></hyperv>"
                  "</features>",
                  devices="<memballoon model='none'><address type='pci' domain='0x0000' bus='0x00' slot='0x07' "
                  "function='0x0'/></memballoon>")
    assert root.find("cputune") is None  # its only pin named a vCPU that does not exist
    assert root.find("sysinfo/entry").text is None and root.find("sysinfo/entry").get("file") == "/a"
    assert root.find("features/hyperv/stimer/direct") is None
    assert root.find("devices/memballoon/address") is None
    menu = define(extra="").find("os")
    assert menu.find("bootmenu") is None
    off = fill_defaults(parse_domain(text().replace("</os>", "<bootmenu enable='no' timeout='100'/></os>")))
    assert "timeout" not in off.to_xml(inactive=True)
    cpu = define(extra="<cpu mode='host-passthrough'><model>Haswell</model></cpu>").find("cpu")
    assert cpu.find("model") is None
    assert define(extra="<cpu mode='host-model' match='exact'/>").find("cpu").get("match") is None
    assert define(features="<features><tcg><tb-cache unit='MiB'>0</tb-cache></tcg></features>").find(
        "features") is None
    assert define(extra="<cputune><shares>0</shares></cputune>").findtext("cputune/shares") == "0"


@pytest.mark.parametrize(("kw", "message"), [
    ({"extra": "<blkiotune><device><weight>100</weight></device></blkiotune>"}, "missing per-device path"),
    ({"extra": "<blkiotune><device><path>/dev/sda</path><weight>1</weight></device><device><path>/dev/sda</path>"
               "<weight>2</weight></device></blkiotune>"}, "duplicate blkio device path '/dev/sda'"),
    ({"extra": "<clock offset='absolute'/>"}, "missing 'start' attribute for clock with offset='absolute'"),
    ({"extra": "<clock offset='timezone'/>"}, "missing 'timezone' attribute for clock with offset='timezone'"),
    ({"extra": "<clock offset='utc'><timer present='no'/></clock>"},
     "Missing required attribute 'name' in element 'timer'"),
    ({"extra": "<cpu><model>qemu64</model><feature policy='require'/></cpu>"}, "Invalid CPU feature name"),
    ({"extra": "<cpu><topology sockets='4'/></cpu>"}, "Missing required attribute 'cores' in element 'topology'"),
    ({"extra": "<cpu><numa><cell id='0' cpus='0-3' memory='65536'><distances><sibling id='0' value='20'/>"
               "</distances></cell></numa></cpu>"}, "'value 20' is invalid for 'sibling id 0' under NUMA 'cell id 0'"),
    ({"features": "<features><hyperv><spinlocks state='on' retries='100'/></hyperv></features>"},
     "HyperV spinlock retry count must be at least 4095"),
    ({"features": "<features><hyperv><vendor_id state='on' value='0123456789abcdef'/></hyperv></features>"},
     "HyperV vendor_id value must not be more than 12 characters."),
    ({"features": "<features><kvm><dirty-ring state='on' size='100'/></kvm></features>"},
     "dirty ring must be power of 2 and ranges [1024, 65536]"),
    ({"features": "<features><kvm><dirty-ring state='on'/></kvm></features>"},
     "Missing required attribute 'size' in element 'dirty-ring'"),
    ({"devices": "<memballoon/>"}, "Missing required attribute 'model' in element 'memballoon'"),
    ({"extra": "<iothreads>1</iothreads>", "devices": "<disk type='file'><driver name='qemu' type='raw' iothread='1'/>"
               "<source file='/a'/><target dev='hda'/></disk>"}, "IOThreads not available for bus ide target hda"),
    ({"extra": "<iothreads>1</iothreads>", "devices": "<disk type='file'><driver name='qemu' type='raw' iothread='3'/>"
               "<source file='/a'/><target dev='vda'/></disk>"}, "Disk iothread '3' not defined in iothreadid"),
    ({"extra": "<defaultiothread thread_pool_min='5' thread_pool_max='2'/>"},
     "thread_pool_min must be smaller or equal to thread_pool_max"),
    ({"extra": "<iothreads>2</iothreads><iothreadids><iothread id='1'/><iothread id='1'/></iothreadids>"},
     "duplicate iothread id '1' found"),
])
def test_refused_at_define_in_libvirts_words_second_batch(kw: dict, message: str) -> None:
    assert message in refused(**kw)


# ----------------------------------------------------------------------------- third batch: devices

_VD = "<disk type='file'>{drv}<source file='/a'/><target dev='{dev}'/>{extra}</disk>"


def _disk(dev: str = "vda", drv: str = "<driver name='qemu' type='raw'/>", extra: str = "", attrs: str = "") -> str:
    return _VD.format(dev=dev, drv=drv, extra=extra).replace("<disk type='file'", f"<disk type='file'{attrs}")


def test_an_incomplete_disk_geometry_is_not_written() -> None:
    assert define(_disk(extra="<geometry cyls='16383'/>")).find("devices/disk/geometry") is None
    full = define(_disk(extra="<geometry cyls='16383' heads='16' secs='63'/>")).find("devices/disk/geometry")
    assert full is not None and full.get("heads") == "16"


@pytest.mark.parametrize(("kw", "message"), [
    ({"devices": _disk("hda", "<driver name='qemu' type='raw' ioeventfd='on'/>")},
     "disk ioeventfd mode supported only for virtio bus"),
    ({"devices": _disk("hda", attrs=" model='virtio'")}, "disk model 'virtio' not supported for bus 'ide'"),
    ({"devices": _disk("sda", attrs=" rawio='yes'")}, "rawio can be used only with device='lun'"),
    ({"devices": _disk("sda", attrs=" sgio='unfiltered'")}, "unfiltered sgio is no longer supported"),
    ({"devices": _disk(extra="<geometry cyls='1' heads='1' secs='1' trans='lba'/>")},
     "CHS translation mode can only be set for 'ide' bus not 'virtio'"),
    ({"devices": _disk(extra="<iotune><group_name>g</group_name></iotune>")},
     "group_name can be configured only together with settings"),
    ({"devices": _disk(drv="<driver name='qemu' type='raw'><metadata_cache><max_size unit='KiB'>1</max_size>"
                           "</metadata_cache></driver>")},
     "metadata cache max size control is supported only with qcow2 images"),
    ({"devices": "<disk type='vhostuser' device='disk'><driver name='qemu' type='raw'/><source type='unix' "
                 "path='/tmp/v.sock'/><target dev='vda' bus='virtio'/></disk>"}, "'vhostuser' requires shared memory"),
    ({"devices": "<interface type='bridge'><source/></interface>"},
     "Missing required attribute 'bridge' in element 'source'"),
    ({"devices": "<interface type='network'><source/></interface>"},
     "Missing required attribute 'network' in element 'source'"),
    ({"devices": "<interface type='server'><source address='127.0.0.1'/></interface>"},
     "Missing required attribute 'port' in element 'source'"),
    ({"devices": "<interface type='vhostuser'><source type='unix' path='/tmp/v' mode='client'/><model type='e1000'/>"
                 "</interface>"}, "vhostuser requires the virtio-net* frontend"),
    ({"devices": "<graphics type='spice'/><serial type='spicevmc'/>"}, "spicevmc device type only supports virtio"),
    ({"devices": "<serial type='pty'><target type='isa-serial'><model name='pci-serial'/></target></serial>"},
     "Target model 'pci-serial' requires target type 'pci-serial'"),
    ({"devices": "<console type='pty'><target type='sclp'/></console>"},
     "sclpconsole is not supported in this QEMU binary"),
])
def test_refused_at_define_in_libvirts_words_devices(kw: dict, message: str) -> None:
    assert message in refused(**kw)


@pytest.mark.parametrize(("kw", "message"), [
    # virDomainDiskDefValidate: unfiltered first, then what only a LUN takes, in this order
    ({"devices": _disk("sda", attrs=" sgio='filtered'")}, "sgio can be used only with device='lun'"),
    ({"devices": _disk("sda", attrs=" rawio='no' sgio='unfiltered'")}, "unfiltered sgio is no longer supported"),
    ({"devices": _disk("sda", attrs=" rawio='no' sgio='filtered'")}, "rawio can be used only with device='lun'"),
    ({"devices": "<disk type='block'><driver name='qemu' type='raw'/><source dev='/dev/sdz'>"
                 "<reservations managed='yes'/></source><target dev='sda' bus='scsi'/></disk>"},
     "<reservations/> allowed only for lun devices"),
])
def test_what_only_a_lun_takes_is_refused_at_define(kw: dict, message: str) -> None:
    assert message in refused(**kw)


# ----------------------------------------------------------------------------- fourth batch: more devices

_PCIHOST = ("<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x06' "
            "slot='0x12' function='0x{f}'/></source>{extra}</hostdev>")


def test_device_parts_libvirt_reads_only_for_some_models_are_dropped() -> None:
    root = define("<controller type='pci' index='1' model='pci-bridge'><pcihole64>1024</pcihole64></controller>"
                  + _PCIHOST.format(f="5", extra="<readonly/><shareable/>")
                  + "<sound model='ac97'><codec type='duplex'/></sound><sound model='ich6'><codec type='micro'/></sound>"
                  + "<graphics type='spice'><channel name='record' mode='secure'/><channel name='main' mode='insecure'/>"
                  "<channel name='main' mode='secure'/></graphics>")
    assert root.find("devices/controller[@model='pci-bridge']/pcihole64") is None
    assert root.find("devices/hostdev/readonly") is None and root.find("devices/hostdev/shareable") is None
    assert [len(s.findall("codec")) for s in root.findall("devices/sound")] == [0, 1]
    assert [(c.get("name"), c.get("mode")) for c in root.findall("devices/graphics/channel")] == [
        ("main", "secure"), ("record", "secure")]


@pytest.mark.parametrize(("kw", "message"), [
    ({"devices": "<controller type='pci' index='1' model='pci-root'/>"},
     "pci-root and pcie-root controllers should have index 0"),
    ({"devices": "<controller type='scsi' model='lsilogic'><driver iothread='1'/></controller>",
      "extra": "<iothreads>1</iothreads>"}, "'iothread' attribute only supported for virtio scsi controllers"),
    ({"devices": "<controller type='scsi' model='lsilogic'><driver queues='4'/></controller>"},
     "'queues' is only supported by virtio-scsi controller"),
    ({"devices": "<controller type='scsi' model='virtio-scsi'><driver iothread='2'/></controller>"},
     "controller iothread '2' not defined in iothreadid"),
    ({"devices": "<audio id='1' type='none'/><graphics type='vnc'><audio id='2'/></graphics>"},
     "no audio device with ID 2"),
    ({"devices": "<hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on'><source><address "
                 "uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>"},
     "graphics device is needed for attribute value 'display=on' in <hostdev>"),
    ({"devices": _PCIHOST.format(f="9", extra="")}, "Invalid PCI address function=0x9, must be <= 7"),
    ({"devices": "<hostdev mode='subsystem' type='scsi'><source><address bus='0' target='0' unit='0'/></source>"
                 "</hostdev>"}, "'adapter' name must be specified for scsi hostdev source"),
    ({"devices": "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost'/></hostdev>"},
     "missing vhost-scsi hostdev source wwpn"),
    ({"devices": "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='xyz'/></hostdev>"},
     "malformed 'wwpn' value"),
    ({"devices": "<rng model='virtio'/>"}, "only one RNG backend is supported"),
])
def test_refused_at_define_in_libvirts_words_more_devices(kw: dict, message: str) -> None:
    assert message in refused(**kw)
