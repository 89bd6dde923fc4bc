"""More libvirt 9.0 rules found on qemuxml2argv cases pyvirt was not handed (issue 14), one small
domain of our own each; every expectation is libvirt 9.0's behaviour (its source, and real
``virsh domxml-to-native`` 9.0 where the host allows)."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>{top}
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{after_os}<devices>{devices}</devices></domain>"""


def _argv(devices: str = "", machine: str = "pc", top: str = "", after_os: str = "") -> list[str]:
    xml = BASE.format(devices=devices, machine=machine, top=top, after_os=after_os)
    return build_argv(fill_defaults(parse_domain(xml)))


def _json_opts(argv: list[str], opt: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == opt and argv[i + 1].startswith("{")]


def _opts(argv: list[str], opt: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]


def test_writable_shareable_disk_defaults_to_cache_none() -> None:
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/img/a'/>"
            "<target dev='vda' bus='virtio'/><shareable/>{ro}</disk>")
    argv = _argv(disk.format(ro=""))
    nodes = _json_opts(argv, "-blockdev")
    assert all(n["cache"] == {"direct": True, "no-flush": False} for n in nodes)
    dev = next(d for d in _json_opts(argv, "-device") if d["driver"] == "virtio-blk-pci")
    assert dev["write-cache"] == "on" and dev["share-rw"] is True
    # read-only shared disks keep QEMU's default cache
    argv = _argv(disk.format(ro="<readonly/>"))
    assert not any("cache" in n for n in _json_opts(argv, "-blockdev"))


def _serial_ports(argv: list[str]) -> dict[str, tuple[str, int]]:
    return {d["name"]: (d["bus"], d["nr"]) for d in _json_opts(argv, "-device") if d["driver"] == "virtserialport"}


def test_virtio_serial_ports_fill_controllers_in_order_then_add_one() -> None:
    chan = "<channel type='pty'><target type='virtio' name='{}'/>{}</channel>"
    devices = ("<controller type='virtio-serial' index='0' ports='3'/>"
               + chan.format("a", "") + chan.format("b", "<address type='virtio-serial' controller='0' bus='2'/>")
               + chan.format("c", "") + chan.format("d", ""))
    argv = _argv(devices)
    # ports 1..2 on controller 0 (port 0 is the console's), the partial address gets bus 0
    assert _serial_ports(argv) == {"a": ("virtio-serial0.0", 1), "b": ("virtio-serial0.0", 2),
                                   "c": ("virtio-serial1.0", 1), "d": ("virtio-serial1.0", 2)}
    assert sum(d["driver"] == "virtio-serial-pci" for d in _json_opts(argv, "-device")) == 2


def test_virtio_serial_channel_on_a_full_controller_is_refused() -> None:
    chan = "<channel type='pty'><target type='virtio' name='{}'/>{}</channel>"
    devices = ("<controller type='virtio-serial' index='0' ports='2'/>" + chan.format("a", "")
               + chan.format("b", "<address type='virtio-serial' controller='0'/>"))
    with pytest.raises(XMLError, match="Unable to find a free port on virtio-serial controller 0"):
        _argv(devices)


@pytest.mark.parametrize("sched, message", [
    ("<vcpusched vcpus='5' scheduler='batch'/>", "vCPU '5' is not present in domain definition"),
    ("<vcpusched vcpus='0' scheduler='batch'/><vcpusched vcpus='0' scheduler='idle'/>",
     "'vcpusched' attributes 'vcpus' must not overlap"),
    ("<iothreadsched iothreads='2' scheduler='batch'/>", "Cannot find 'iothread' : 2"),
    ("<iothreadsched iothreads='1' scheduler='batch'/><iothreadsched iothreads='1' scheduler='idle'/>",
     "'iothreadsched' attributes 'iothreads' must not overlap"),
])
def test_thread_schedulers_name_existing_threads_once(sched: str, message: str) -> None:
    top = f"<iothreads>1</iothreads><cputune>{sched}</cputune>"
    with pytest.raises(XMLError, match=message):
        _argv(top=top)


def test_thread_schedulers_within_range_are_kept() -> None:
    _argv(top="<iothreads>1</iothreads><cputune><vcpusched vcpus='0' scheduler='batch'/>"
              "<iothreadsched iothreads='1' scheduler='idle'/></cputune>")


@pytest.mark.parametrize("source", [
    "<hostdev mode='subsystem' type='usb'><source><address bus='14' device='6'/></source></hostdev>",
    "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product id='0xbeef'/></source></hostdev>",
    "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x06' slot='0x12' "
    "function='0x5'/></source></hostdev>",
])
def test_one_host_device_given_twice_is_refused(source: str) -> None:
    with pytest.raises(XMLError, match="Hostdev already exists in the domain configuration"):
        _argv(source + source)


def test_distinct_host_devices_are_kept() -> None:
    a = "<hostdev mode='subsystem' type='usb'><source><address bus='14' device='{}'/></source></hostdev>"
    _argv(a.format(6) + a.format(7))


def test_egl_headless_alone_is_a_display_of_its_own() -> None:
    argv = _argv("<graphics type='egl-headless'><gl rendernode='/dev/dri/foo'/></graphics>")
    assert _opts(argv, "-display") == ["egl-headless,rendernode=/dev/dri/foo"]
    argv = _argv("<graphics type='vnc'/><graphics type='egl-headless'/>")
    assert "egl-headless" in _opts(argv, "-display")[0]


def test_evdev_input_is_an_input_linux_object() -> None:
    argv = _argv("<input type='evdev'><source dev='/dev/input/event7' grab='all' grabToggle='alt-alt' "
                 "repeat='on'/></input>")
    obj = next(o for o in _json_opts(argv, "-object") if o["qom-type"] == "input-linux")
    assert obj == {"qom-type": "input-linux", "id": "input0", "evdev": "/dev/input/event7", "repeat": True,
                   "grab_all": True, "grab-toggle": "alt-alt"}
    dom = fill_defaults(parse_domain(BASE.format(devices="<input type='evdev'><source dev='/dev/input/event7'/>"
                                                          "</input>", machine="pc", top="", after_os="")))
    xml = dom.to_xml(inactive=True)
    assert "<input type='evdev'>" in xml and "<source dev='/dev/input/event7'/>" in xml
    with pytest.raises(XMLError, match="Missing evdev path"):
        _argv("<input type='evdev'/>")


def test_evdev_input_node_is_given_to_qemu() -> None:
    from pyvirt.daemon.qemuuser import guest_files

    dom = parse_domain(BASE.format(devices="<input type='evdev'><source dev='/dev/input/event7'/></input>",
                                   machine="pc", top="", after_os=""))
    assert any(f.path == "/dev/input/event7" for f in guest_files(dom))


def test_vnc_share_policy() -> None:
    argv = _argv("<graphics type='vnc' port='5901' autoport='no' sharePolicy='force-shared'/>")
    assert _opts(argv, "-vnc")[0].startswith("127.0.0.1:1,share=force-shared")


def test_hostdev_vfio_driver_is_read_and_kept() -> None:
    src = ("<hostdev mode='subsystem' type='pci' managed='no'><driver name='vfio'/><source>"
           "<address domain='0x0000' bus='0x06' slot='0x12' function='0x1'/></source></hostdev>")
    dom = fill_defaults(parse_domain(BASE.format(devices=src, machine="pc", top="", after_os="")))
    assert "<driver name='vfio'/>" in dom.to_xml(inactive=True)
    assert any(d["driver"] == "vfio-pci" for d in _json_opts(build_argv(dom), "-device"))
    with pytest.raises(XMLError, match="kvm"):
        parse_domain(BASE.format(devices=src.replace("vfio'/>", "kvm'/>"), machine="pc", top="", after_os=""))


def test_sdl_display_and_audio() -> None:
    from pyvirt.qemu.argv import build_env

    xml = BASE.format(devices="<graphics type='sdl' display=':0.1' xauth='/root/.Xauthority' fullscreen='yes'/>"
                              "<audio id='1' type='sdl' driver='pulseaudio'><input bufferCount='40'/></audio>",
                      machine="pc", top="", after_os="")
    dom = fill_defaults(parse_domain(xml))
    argv = build_argv(dom)
    assert "-full-screen" in argv and _opts(argv, "-display") == ["sdl"]
    assert _json_opts(argv, "-audiodev")[0] == {"id": "audio1", "driver": "sdl", "in": {"buffer-count": 40}}
    env = build_env(dom)
    assert (env["DISPLAY"], env["XAUTHORITY"], env["SDL_AUDIODRIVER"]) == (":0.1", "/root/.Xauthority", "pulseaudio")


@pytest.mark.parametrize("graphics, audio", [
    ("", "none"), ("<graphics type='vnc'/>", "none"), ("<graphics type='vnc'/><graphics type='spice'/>", "spice"),
    ("<graphics type='spice'/><graphics type='vnc'/>", "none"), ("<graphics type='sdl'/>", None),
    ("<graphics type='spice'/><graphics type='sdl'/>", None), ("<graphics type='egl-headless'/>", None),
])
def test_default_audio_backend_follows_the_last_display(graphics: str, audio: str | None) -> None:
    dom = fill_defaults(parse_domain(BASE.format(devices=graphics, machine="pc", top="", after_os="")))
    assert [a.type for a in dom.devices.audios] == ([audio] if audio else [])


def test_sound_device_without_audio_backend_is_refused() -> None:
    with pytest.raises(XMLError, match="unable to find audio backend for sound device"):
        _argv("<graphics type='sdl'/><sound model='ich6'/>")


def test_file_backed_guest_ram_goes_to_memory_backing_dir() -> None:
    top = ("<memoryBacking><source type='file'/><access mode='shared'/><allocation mode='immediate'/>"
           "</memoryBacking>")
    argv = _argv(top=top)
    ram = next(o for o in _json_opts(argv, "-object") if o["id"] == "pc.ram")
    assert ram["qom-type"] == "memory-backend-file" and ram["mem-path"] == "/var/lib/libvirt/qemu/ram/-1-g/pc.ram"
    assert ram["share"] is True and ram["prealloc"] is True
    numa = "<cpu><numa><cell id='0' cpus='0' memory='262144' unit='KiB' memAccess='private'/></numa></cpu>"
    cell = next(o for o in _json_opts(_argv(after_os=numa), "-object") if o["id"] == "ram-node0")
    assert cell["mem-path"].endswith("/ram-node0") and cell["share"] is False


def test_file_backed_guest_ram_lives_in_the_guests_private_directory(tmp_path) -> None:
    from pyvirt.daemon.model import build_command_line

    dom = fill_defaults(parse_domain(BASE.format(devices="", machine="pc", after_os="",
                                                 top="<memoryBacking><source type='file'/></memoryBacking>")))
    argv = build_command_line(dom, None, 3, str(tmp_path / "pid"), str(tmp_path))
    ram = next(o for o in _json_opts(argv, "-object") if o["id"] == "pc.ram")
    assert ram["mem-path"] == f"{tmp_path}/pc.ram"


def test_mdev_display_defaults_to_off() -> None:
    src = ("<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
           "<address uuid='53764d0e-85a0-42b4-af5c-2046b460b1dc'/></source></hostdev>")
    dom = fill_defaults(parse_domain(BASE.format(devices=src, machine="pc", top="", after_os="")))
    assert "display='off'" in dom.to_xml(inactive=True)
    dev = next(d for d in _json_opts(build_argv(dom), "-device") if d["driver"] == "vfio-pci")
    assert dev["display"] == "off"


def test_timer_catchup_tuning_is_kept_and_builds_the_plain_catchup() -> None:
    clock = ("<clock offset='utc'><timer name='rtc' tickpolicy='catchup'><catchup slew='4636' threshold='1' "
             "limit='2'/></timer></clock>")
    dom = fill_defaults(parse_domain(BASE.format(devices="", machine="pc", top="", after_os=clock)))
    assert "<catchup threshold='1' slew='4636' limit='2'/>" in dom.to_xml(inactive=True)
    assert _opts(build_argv(dom), "-rtc") == ["base=utc,driftfix=slew"]


def test_parser_defaults_on_define() -> None:
    xml = BASE.format(devices="<channel type='pty'><target type='virtio' name='a'/><address type='virtio-serial' "
                              "controller='0' port='2'/></channel>", machine="pc", top="",
                      after_os="<features></features><cpu><topology sockets='1' cores='1' threads='1'/></cpu>")
    out = fill_defaults(parse_domain(xml.replace("</os>", "<loader>/usr/share/seabios/bios.bin</loader></os>")))
    text = out.to_xml(inactive=True)
    assert "<loader type='rom'>/usr/share/seabios/bios.bin</loader>" in text
    assert "<topology sockets='1' dies='1' cores='1' threads='1'/>" in text
    assert "<address type='virtio-serial' controller='0' bus='0' port='2'/>" in text
    assert "<features" not in text


def test_event_idx_on_virtio_disks_and_nics_and_disk_snapshot_kept() -> None:
    devices = ("<disk type='file' device='disk' snapshot='external'><driver name='qemu' type='qcow2' "
               "event_idx='on'/><source file='/img/a'/><target dev='vda' bus='virtio'/></disk>"
               "<interface type='user'><model type='virtio'/><driver name='vhost' event_idx='off'/></interface>")
    dom = fill_defaults(parse_domain(BASE.format(devices=devices, machine="pc", top="", after_os="")))
    devs = {d["driver"]: d for d in _json_opts(build_argv(dom), "-device")}
    assert devs["virtio-blk-pci"]["event_idx"] is True and devs["virtio-net-pci"]["event_idx"] is False
    xml = dom.to_xml(inactive=True)
    assert "snapshot='external'" in xml and "event_idx='on'" in xml and "event_idx='off'" in xml
    with pytest.raises(XMLError, match="event_idx"):
        _argv("<disk type='file' device='disk'><driver name='qemu' event_idx='on'/><source file='/img/a'/>"
              "<target dev='hda' bus='ide'/></disk>")


def test_unassigned_pci_hostdev_gets_no_device_or_slot() -> None:
    hd = ("<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x06' "
          "slot='0x12' function='{}'/></source>{}</hostdev>")
    dom = fill_defaults(parse_domain(BASE.format(devices=hd.format("0x1", "<address type='unassigned'/>")
                                                 + hd.format("0x2", ""), machine="pc", top="", after_os="")))
    assert "<address type='unassigned'/>" in dom.to_xml(inactive=True)
    vfio = [d for d in _json_opts(build_argv(dom), "-device") if d["driver"] == "vfio-pci"]
    assert [d["host"] for d in vfio] == ["0000:06:12.2"]
    with pytest.raises(XMLError, match="only PCI host devices"):
        _argv("<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source>"
              "<address type='unassigned'/></hostdev>")


def test_channels_without_address_get_controller_zero_beside_another_index() -> None:
    devices = ("<controller type='virtio-serial' index='1'/><channel type='pty'><target type='virtio' name='a'/>"
               "</channel>")
    dom = fill_defaults(parse_domain(BASE.format(devices=devices, machine="pc", top="", after_os="")))
    assert sorted(c.index for c in dom.devices.controllers if c.type == "virtio-serial") == [0, 1]
    assert _serial_ports(build_argv(dom)) == {"a": ("virtio-serial0.0", 1)}


def test_reconnect_on_redirdev_and_egd_rng_sockets() -> None:
    argv = _argv("<redirdev bus='usb' type='tcp'><source mode='connect' host='localhost' service='3456'>"
                 "<reconnect enabled='yes' timeout='15'/></source></redirdev>"
                 "<rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' host='localhost' "
                 "service='2345'><reconnect enabled='yes' timeout='5'/></source></backend></rng>")
    chardevs = _opts(argv, "-chardev")
    assert any(c.startswith("socket,id=charredir0,") and c.endswith("reconnect=15") for c in chardevs)
    assert any(c.startswith("socket,id=charrng0,") and c.endswith("reconnect=5") for c in chardevs)


def test_scsi_persistent_reservations_managers() -> None:
    lun = ("<disk type='block' device='lun'><driver name='qemu' type='raw'/><source dev='/dev/sd{0}'>"
           "<reservations managed='{1}'>{2}</reservations></source><target dev='sd{0}' bus='scsi'/></disk>")
    mine = "<source type='unix' path='/run/pr.sock' mode='client'/>"
    dom = fill_defaults(parse_domain(BASE.format(devices=lun.format("a", "yes", "") + lun.format("b", "yes", "")
                                                 + lun.format("c", "no", mine), machine="pc", top="", after_os="")))
    argv = build_argv(dom)
    helpers = {o["id"]: o["path"] for o in _json_opts(argv, "-object") if o["qom-type"] == "pr-manager-helper"}
    assert helpers == {"pr-helper0": "/tmp/lib/domain--1-g/pr-helper0.sock",
                       "pr-helper-libvirt-1-storage": "/run/pr.sock"}
    managers = [n["pr-manager"] for n in _json_opts(argv, "-blockdev") if "pr-manager" in n]
    assert managers == ["pr-helper0", "pr-helper0", "pr-helper-libvirt-1-storage"]
    assert "<reservations managed='no'>" in dom.to_xml(inactive=True)

    from pyvirt.api import PyvirtError
    from pyvirt.daemon import prhelper

    with pytest.raises(PyvirtError, match="qemu-pr-helper a system daemon runs as root"):
        prhelper.check(dom, privileged=False)  # the managed helper: system daemons only
    prhelper.check(dom, privileged=True)


def test_qcow2_metadata_cache_sizes_per_layer() -> None:
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'><metadata_cache><max_size>12345"
            "</max_size></metadata_cache></driver><source file='/img/top.qcow2'/><backingStore type='file'>"
            "<format type='qcow2'><metadata_cache><max_size unit='KiB'>1024</max_size></metadata_cache></format>"
            "<source file='/img/base.qcow2'/><backingStore/></backingStore><target dev='vda' bus='virtio'/></disk>")
    dom = fill_defaults(parse_domain(BASE.format(devices=disk, machine="pc", top="", after_os="")))
    sizes = {n["node-name"]: n.get("cache-size") for n in _json_opts(build_argv(dom), "-blockdev")
             if n.get("node-name", "").endswith("-format")}
    assert sorted(v for v in sizes.values() if v) == [12345, 1048576]
    assert "<max_size unit='bytes'>1048576</max_size>" in dom.to_xml(inactive=True)
    with pytest.raises(XMLError, match="metadata cache max size control is supported only with qcow2 images"):
        _argv(disk.replace("type='qcow2'><metadata_cache><max_size>12345", "type='raw'><metadata_cache><max_size>1"))


def test_storage_slices_on_raw_and_qcow2_layers() -> None:
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/img/raw'><slices>"
            "<slice type='storage' offset='1234' size='321'/></slices></source><target dev='vda' bus='virtio'/>"
            "</disk><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/q'/>"
            "<backingStore type='file'><format type='qcow2'/><source file='/img/raw'><slices><slice type='storage' "
            "offset='9876' size='4096'/></slices></source><backingStore/></backingStore>"
            "<target dev='vdb' bus='virtio'/></disk>")
    dom = fill_defaults(parse_domain(BASE.format(devices=disk, machine="pc", top="", after_os="")))
    nodes = {n["node-name"]: n for n in _json_opts(build_argv(dom), "-blockdev")}
    raw_fmt = next(n for n in nodes.values() if n.get("driver") == "raw" and n.get("size") == 321)
    assert raw_fmt["offset"] == 1234 and raw_fmt["file"].endswith("-storage")
    slice_node = next(n for name, n in nodes.items() if name.endswith("-slice-sto"))
    assert (slice_node["offset"], slice_node["size"], slice_node["driver"]) == (9876, 4096, "raw")
    assert any(n.get("file") == slice_node["node-name"] and n["driver"] == "qcow2" for n in nodes.values())
    assert dom.to_xml(inactive=True).count("<slice type='storage'") == 2


def test_http_disk_cookies_ssl_and_curl_tuning() -> None:
    disk = ("<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='https' "
            "name='t.img'><host name='example.org' port='1234'/><ssl verify='no'/><cookies><cookie name='a'>1"
            "</cookie><cookie name='b'>two</cookie></cookies><readahead size='65536'/><timeout seconds='10'/>"
            "</source><target dev='vda' bus='virtio'/></disk>")
    dom = fill_defaults(parse_domain(BASE.format(devices=disk, machine="pc", top="", after_os="")))
    argv = build_argv(dom)
    proto = next(n for n in _json_opts(argv, "-blockdev") if n.get("driver") == "https")
    assert (proto["sslverify"], proto["readahead"], proto["timeout"]) == (False, 65536, 10)
    secret = next(o for o in _json_opts(argv, "-object") if o["id"] == proto["cookie-secret"])
    assert secret["qom-type"] == "secret" and "a=1" not in " ".join(argv)  # never on the command line
    from pyvirt.qemu.argv_disks import cookie_string

    assert cookie_string(dom.devices.disks[0]) == "a=1; b=two"
    assert "<cookie name='b'>two</cookie>" in dom.to_xml(inactive=True)
    # libvirt's parser reads <ssl verify> for https/ftps only: on http it is dropped, not refused
    plain = fill_defaults(parse_domain(BASE.format(devices=disk.replace("https", "http"), machine="pc", top="",
                                                    after_os="")))
    proto = next(n for n in _json_opts(build_argv(plain), "-blockdev") if n.get("driver") == "http")
    assert "sslverify" not in proto and (proto["timeout"], proto["readahead"]) == (10, 65536)
    assert list(proto)[:5] == ["driver", "url", "cookie-secret", "timeout", "readahead"]  # libvirt's order
    assert "<ssl " not in plain.to_xml(inactive=True)


def test_http_cookies_are_written_for_qemu_at_start(tmp_path) -> None:
    from pyvirt.daemon.disksecrets import DiskSecretsMixin

    disk = ("<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='http' "
            "name='t.img'><host name='example.org'/><cookies><cookie name='s'>v</cookie></cookies></source>"
            "<target dev='vda' bus='virtio'/></disk>")
    dom = fill_defaults(parse_domain(BASE.format(devices=disk, machine="pc", top="", after_os="")))
    holder = DiskSecretsMixin()
    holder.secrets = None
    found = holder._resolve_disk_secrets(dom)
    found.write(tmp_path)
    assert (tmp_path / "secret-vda-httpcookie").read_text() == "s=v"
    assert oct((tmp_path / "secret-vda-httpcookie").stat().st_mode & 0o777) == "0o600"
    found.forget()
    assert not (tmp_path / "secret-vda-httpcookie").exists()


def test_define_fills_network_disk_defaults_and_tcp_chardev_protocol() -> None:
    devices = ("<disk type='network' device='disk'><driver name='qemu'/><source protocol='nbd' name='b'>"
               "<host name='example.org'/></source><target dev='vda' bus='virtio'/></disk>"
               "<disk type='block' device='cdrom' snapshot='no'><source dev='/dev/sr0'/><target dev='hdc' "
               "bus='ide'/></disk>"
               "<channel type='tcp'><source mode='connect' host='localhost' service='2'/>"
               "<target type='virtio' name='x'/></channel>")
    xml = fill_defaults(parse_domain(BASE.format(devices=devices, machine="pc", top="", after_os=""))).to_xml()
    assert "<driver name='qemu' type='raw'/>" in xml and "<host name='example.org' port='10809'/>" in xml
    assert "snapshot=" not in xml
    assert "<protocol type='raw'/>" in xml


def test_file_backed_guest_ram_that_does_not_fit_is_refused_at_start(tmp_path) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon.model import build_command_line

    dom = fill_defaults(parse_domain(BASE.format(devices="", machine="pc", after_os="",
                                                 top="<memoryBacking><source type='file'/></memoryBacking>")
                                     .replace("<memory unit='MiB'>256</memory>", "<memory unit='TiB'>64</memory>")))
    with pytest.raises(PyvirtError, match="file-backed guest RAM needs"):
        build_command_line(dom, None, 3, str(tmp_path / "pid"), str(tmp_path))
