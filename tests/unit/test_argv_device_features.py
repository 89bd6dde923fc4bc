"""Device features libvirt's qemuxml2argv suite exercises beyond the basics: external TPMs and
persistent TPM state, virtio options on a virtio GPU.  Each asserts libvirt 9.0's behaviour
(parse, validation naming the element, dumpxml round trip, argv)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pyvirt.daemon.firmware import tpm_state_dir
from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.xml import XMLError, fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError

BASE = """<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>"""


def _dom(devices: str):
    return fill_defaults(parse_domain(BASE.format(devices=devices)))


def _argv(devices: str, runtime: RuntimePaths | None = None) -> list[str]:
    return build_argv(_dom(devices), runtime=runtime)


def _values(argv: list[str], opt: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]


EXTERNAL = "<tpm model='tpm-crb'><backend type='external'><source type='unix' path='/run/tpm.sock'/></backend></tpm>"


def test_external_tpm_connects_qemu_to_the_given_socket() -> None:
    argv = _argv(EXTERNAL)
    assert "socket,id=chrtpm,path=/run/tpm.sock" in _values(argv, "-chardev")
    assert _values(argv, "-tpmdev") == ["emulator,id=tpm-tpm0,chardev=chrtpm"]
    tpm = next(json.loads(d) for d in _values(argv, "-device") if "tpmdev" in d)
    assert tpm == {"driver": "tpm-crb", "tpmdev": "tpm-tpm0", "id": "tpm0"}


def test_external_tpm_round_trips_with_libvirts_connect_mode() -> None:
    xml = _dom(EXTERNAL).to_xml(inactive=True)
    assert "<source type='unix' mode='connect' path='/run/tpm.sock'/>" in xml


def test_external_socket_path_is_escaped_in_the_one_place() -> None:
    argv = _argv(EXTERNAL.replace("/run/tpm.sock", "/run/a,b.sock"))
    assert "socket,id=chrtpm,path=/run/a,,b.sock" in _values(argv, "-chardev")


@pytest.mark.parametrize("backend, message", [
    ("<backend type='external'><source path='/s'/></backend>", "source type"),
    ("<backend type='external'><source type='unix'/></backend>", "socket path"),
    ("<backend type='external'><source type='tcp' path='/s'/></backend>", "tcp"),
    ("<backend type='emulator'><source type='unix' path='/s'/></backend>", "<tpm><backend><source>"),
    ("<backend type='external' persistent_state='yes'><source type='unix' path='/s'/></backend>",
     "persistent_state"),
])
def test_bad_tpm_backends_are_refused_naming_the_element(backend: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(f"<tpm model='tpm-tis'>{backend}</tpm>")


def test_persistent_state_is_kept_on_undefine_unless_forced(tmp_path: Path) -> None:
    dom = _dom("<tpm><backend type='emulator' version='2.0' persistent_state='yes'/></tpm>")
    assert "persistent_state='yes'" in dom.to_xml(inactive=True)
    assert tpm_state_dir(dom, tmp_path) is None
    assert tpm_state_dir(dom, tmp_path, force=True) == tmp_path / dom.uuid
    plain = _dom("<tpm><backend type='emulator' version='2.0'/></tpm>")
    assert tpm_state_dir(plain, tmp_path) == tmp_path / plain.uuid


def test_emulated_tpm_socket_is_libvirts_mock_only_in_test_mode() -> None:
    tpm = "<tpm><backend type='emulator' version='2.0'/></tpm>"
    assert "socket,id=chrtpm,path=/dev/test" in _values(_argv(tpm), "-chardev")
    rt = RuntimePaths(domain_dir="/run/pyvirt/g")
    assert "socket,id=chrtpm,path=/run/pyvirt/g/tpm0-swtpm.sock" in _values(_argv(tpm, rt), "-chardev")


def test_virtio_gpus_take_virtio_options_primary_and_secondary() -> None:
    """libvirt's qemuDeviceVideoGetModel marks QEMU's virtio-vga primary virtio too (only a
    vhost-user-vga primary takes none): real libvirt 9.0 writes iommu_platform on both."""
    argv = _argv("<video><driver iommu='on'/><model type='virtio' heads='1'/></video>"
                 "<video><driver iommu='on' ats='off' packed='on'/><model type='virtio' heads='1'/></video>")
    vga = next(json.loads(d) for d in _values(argv, "-device") if "virtio-vga" in d)
    gpu = next(json.loads(d) for d in _values(argv, "-device") if "virtio-gpu-pci" in d)
    assert vga["iommu_platform"] is True and "ats" not in vga
    assert (gpu["iommu_platform"], gpu["ats"], gpu["packed"]) == (True, False, True)


def test_vhost_user_gpus_on_their_socket_pairs() -> None:
    rt = RuntimePaths(vhost_user_gpu_fds={"video0": 11, "video1": 12})
    argv = _argv("<video><driver name='vhostuser'/><model type='virtio' heads='1'>"
                 "<acceleration accel3d='yes' rendernode='/dev/dri/renderD128'/></model></video>"
                 "<video><driver name='vhostuser' ats='off'/><model type='virtio' heads='2'/></video>", rt)
    assert _values(argv, "-chardev")[-2:] == ["socket,id=chr-vu-video0,fd=11", "socket,id=chr-vu-video1,fd=12"]
    assert _device(argv, "vhost-user-vga") == {"driver": "vhost-user-vga", "id": "video0", "max_outputs": 1,
                                               "chardev": "chr-vu-video0", "bus": "pci.0", "addr": "0x2"}
    second = _device(argv, "vhost-user-gpu-pci")
    assert second["ats"] is False and second["max_outputs"] == 2 and second["chardev"] == "chr-vu-video1"


@pytest.mark.parametrize("video, message", [
    ("<video><driver name='vhostuser'/><model type='vga'/></video>", "only supported with 'virtio'"),
    ("<video><model type='vga'><acceleration accel3d='yes'/></model></video>",
     "3d acceleration is supported only with 'virtio' video device"),  # libvirt 9.0's words
])
def test_bad_gpus_are_refused_naming_the_element(video: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _argv(video, RuntimePaths(vhost_user_gpu_fds={"video0": 3}))


def test_vhost_user_gpu_binary_from_qemu_descriptors(tmp_path: Path) -> None:
    from pyvirt.daemon import vhost_user_gpu

    usr, etc = tmp_path / "usr", tmp_path / "etc"
    usr.mkdir()
    (usr / "50-qemu-gpu.json").write_text('{"type": "gpu", "binary": "/usr/lib/qemu/vhost-user-gpu"}')
    (usr / "50-qemu-virtiofsd.json").write_text('{"type": "fs", "binary": "/usr/lib/qemu/virtiofsd"}')
    assert vhost_user_gpu.gpu_binary((etc, usr)) == "/usr/lib/qemu/vhost-user-gpu"
    etc.mkdir()
    (etc / "50-qemu-gpu.json").write_text('{"type": "gpu", "binary": "/opt/gpu"}')
    assert vhost_user_gpu.gpu_binary((etc, usr)) == "/opt/gpu"
    assert vhost_user_gpu.gpu_binary((tmp_path / "none",)) is None


def test_virtio_gpu_options_round_trip_before_the_model() -> None:
    xml = _dom("<video><driver iommu='on' ats='off'/><model type='virtio' heads='1'/></video>").to_xml()
    assert "<driver iommu='on' ats='off'/>\n      <model type='virtio'" in xml


def test_virtio_options_on_a_non_virtio_video_are_refused() -> None:
    with pytest.raises(XMLError, match="iommu driver option is only supported for virtio devices"):
        _argv("<video><driver iommu='on'/><model type='vga'/></video>")


SPICE = ("<graphics type='spice' port='5903' tlsPort='5904' autoport='no' listen='127.0.0.1'{mode}>"
         "{children}</graphics>")


def _spice_arg(graphics: str, runtime: RuntimePaths | None = None) -> str:
    return _values(_argv(graphics, runtime or RuntimePaths(spice_tls_x509_dir="/etc/pki/spice")), "-spice")[0]


def test_spice_tls_port_defaultmode_and_channels() -> None:
    children = "<channel name='main' mode='secure'/><channel name='inputs' mode='insecure'/>"
    arg = _spice_arg(SPICE.format(mode=" defaultMode='secure'", children=children))
    # libvirt 9.0 with spice_tls = 1 and no spice_password: ticketing off, before the certificates
    assert arg.startswith("port=5903,tls-port=5904,addr=127.0.0.1,disable-ticketing=on,x509-dir=/etc/pki/spice,"
                          "tls-channel=default,tls-channel=main,plaintext-channel=inputs,")


def test_spice_channels_round_trip_in_libvirts_order() -> None:
    xml = _dom(SPICE.format(mode=" defaultMode='secure'", children="<channel name='main' mode='secure'/>"
                            "<image compression='auto_glz'/>")).to_xml(inactive=True)
    assert "defaultMode='secure'" in xml
    assert "<channel name='main' mode='secure'/>\n      <image compression='auto_glz'/>" in xml


def test_spice_tls_needs_qemu_conf() -> None:
    with pytest.raises(XMLError, match="TLS is disabled in qemu.conf"):
        _spice_arg(SPICE.format(mode="", children=""), RuntimePaths())


@pytest.mark.parametrize("graphics, message", [
    ("<graphics type='spice' port='5903' autoport='no' defaultMode='secure'/>", "TLS connection is not available"),
    ("<graphics type='spice' autoport='no'><channel name='main' mode='insecure'/></graphics>",
     "plaintext connection is not available"),
    ("<graphics type='spice'><channel name='main'/></graphics>", "spice channel missing mode"),
    ("<graphics type='spice'><channel name='bogus' mode='secure'/></graphics>", "bogus"),
    ("<graphics type='vnc' defaultMode='secure'/>", "defaultMode is only valid"),
    ("<graphics type='spice'><gl rendernode='/dev/dri/x'/></graphics>", "spice gl element missing enable"),
])
def test_bad_spice_tls_and_gl_are_refused_naming_the_element(graphics: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _spice_arg(graphics)


def test_spice_gl_and_egl_headless_use_the_render_node() -> None:
    rt = RuntimePaths(render_node="/dev/dri/renderD128")
    # the two are separate guests: SPICE OpenGL beside egl-headless is two OpenGL displays, which
    # libvirt 9.0 refuses at define ("multiple OpenGL displays are not supported by QEMU")
    argv = _argv("<graphics type='spice' autoport='no'><gl enable='yes'/></graphics>", rt)
    assert _values(argv, "-spice") == ["port=0,disable-ticketing=on,gl=on,rendernode=/dev/dri/renderD128,"
                                       "seamless-migration=on"]
    argv = _argv("<graphics type='spice' autoport='no'/>"
                 "<graphics type='egl-headless'><gl rendernode='/dev/dri/renderD129'/></graphics>", rt)
    assert _values(argv, "-display") == ["egl-headless,rendernode=/dev/dri/renderD129"]
    with pytest.raises(XMLError, match="multiple OpenGL displays are not supported by QEMU"):
        _argv("<graphics type='spice' autoport='no'><gl enable='yes'/></graphics><graphics type='egl-headless'/>", rt)


def test_opengl_without_a_render_node_is_refused() -> None:
    with pytest.raises(XMLError, match="no DRM render node"):
        _argv("<graphics type='vnc'/><graphics type='egl-headless'/>", RuntimePaths())


def test_qemu_conf_spice_tls(tmp_path: Path) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon import qemuconf

    assert qemuconf.spice_tls_x509_dir(tmp_path) is None  # no qemu.conf: TLS off, as libvirt
    (tmp_path / "qemu.conf").write_text(f'spice_tls = 1\nspice_tls_x509_cert_dir = "{tmp_path}"\nuser = "root"\n')
    assert qemuconf.spice_tls_x509_dir(tmp_path) == str(tmp_path)
    (tmp_path / "qemu.conf").write_text('spice_tls = 1\nspice_tls_x509_cert_dir = "/nonexistent/pki"\n')
    with pytest.raises(PyvirtError, match="/nonexistent/pki"):
        qemuconf.spice_tls_x509_dir(tmp_path)
    (tmp_path / "qemu.conf").write_text("spice_tls_typo = 1\n")
    with pytest.raises(PyvirtError, match="spice_tls_typo"):
        qemuconf.spice_tls_x509_dir(tmp_path)


def _device(argv: list[str], driver_part: str) -> dict:
    return next(json.loads(d) for d in _values(argv, "-device") if driver_part in d)


def test_usb_hostdev_by_bus_and_device() -> None:
    argv = _argv("<hostdev mode='subsystem' type='usb'><source guestReset='uninitialized'>"
                 "<address bus='14' device='6'/></source><boot order='1'/></hostdev>")
    dev = _device(argv, "usb-host")
    assert dev == {"driver": "usb-host", "hostdevice": "/dev/bus/usb/014/006", "id": "hostdev0",
                   "guest-reset": True, "guest-resets-all": False, "bootindex": 1, "bus": "usb.0", "port": "1"}


def test_usb_hostdev_round_trips_in_decimal_with_managed_no() -> None:
    xml = _dom("<hostdev mode='subsystem' type='usb'><source><address bus='14' device='6'/></source>"
               "</hostdev>").to_xml(inactive=True)
    assert "<hostdev mode='subsystem' type='usb' managed='no'>" in xml
    assert "<address bus='14' device='6'/>" in xml


def test_usb_hostdev_by_vendor_uses_the_runtime_lookup() -> None:
    hostdev = ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product id='0xbeef'/>"
               "</source></hostdev>")
    with pytest.raises(XMLError, match="1234:0xbeef: not found"):
        _argv(hostdev)
    argv = _argv(hostdev, RuntimePaths(usb_hostdevs={"hostdev0": (3, 12)}))
    assert _device(argv, "usb-host")["hostdevice"] == "/dev/bus/usb/003/012"


def test_pci_hostdev_is_vfio_pci_with_the_host_address() -> None:
    argv = _argv("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                 "<address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>")
    dev = _device(argv, "vfio-pci")
    assert dev["host"] == "0000:06:12.5" and dev["bus"] == "pci.0" and "addr" in dev


FAILOVER_NIC = ("<interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
                "<teaming type='persistent'/><alias name='ua-net0'/></interface>")
PCI_SOURCE = "<source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source>"


def test_pci_hostdev_teaming_is_the_transient_half_of_a_failover_pair() -> None:
    """A plain <hostdev> may be the transient half (libvirt 9.0's hostdev <teaming>): kept in the
    inactive XML after <source> and before <boot>, and QEMU's vfio-pci gets failover_pair_id
    naming the persistent virtio NIC, which gets failover=on."""
    devices = (FAILOVER_NIC + "<hostdev mode='subsystem' type='pci' managed='yes'>" + PCI_SOURCE +
               "<boot order='1'/><teaming type='transient' persistent='ua-net0'/></hostdev>")
    xml = _dom(devices).to_xml(inactive=True)
    hostdev = xml[xml.index("<hostdev"):xml.index("</hostdev>")]
    assert hostdev.index("</source>") < hostdev.index("<teaming type='transient' persistent='ua-net0'/>") \
        < hostdev.index("<boot order='1'/>")
    argv = _argv(devices)
    assert _device(argv, "vfio-pci")["failover_pair_id"] == "ua-net0"
    assert _device(argv, "virtio-net-pci")["failover"] is True


@pytest.mark.parametrize("hostdev, message", [
    ("<hostdev mode='subsystem' type='pci'>" + PCI_SOURCE + "<teaming type='persistent'/></hostdev>",
     "teaming hostdev devices must have type='transient'"),
    ("<hostdev mode='subsystem' type='pci'>" + PCI_SOURCE + "<teaming type='transient'/></hostdev>",
     "missing required persistent attribute in hostdev teaming element"),
    ("<hostdev mode='subsystem' type='pci'>" + PCI_SOURCE + "<teaming persistent='ua-net0'/></hostdev>",
     "unknown teaming type '(null)'"),
    ("<hostdev mode='subsystem' type='pci'>" + PCI_SOURCE + "<teaming type='sometimes'/></hostdev>",
     "unknown teaming type 'sometimes'"),
    ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/><product id='0x2'/></source>"
     "<teaming type='transient' persistent='ua-net0'/></hostdev>", "teaming is only supported for pci hostdev"),
])
def test_bad_hostdev_teaming_is_refused_in_libvirts_words(hostdev: str, message: str) -> None:
    """virDomainHostdevDefValidate's refusals, for every driver (unsupported configuration)."""
    with pytest.raises(XMLConfigError, match=re.escape(message)):
        _dom(FAILOVER_NIC + hostdev)


def test_mdev_display_and_ramfb() -> None:
    argv = _argv("<graphics type='vnc'/><hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on' "
                 "ramfb='on'><source><address uuid='53764d0e-85a0-42b4-af5c-2046b460b1dc'/></source></hostdev>")
    dev = _device(argv, "sysfsdev")
    assert dev["driver"] == "vfio-pci-nohotplug" and dev["display"] == "on" and dev["ramfb"] is True
    assert dev["sysfsdev"] == "/sys/bus/mdev/devices/53764d0e-85a0-42b4-af5c-2046b460b1dc"


@pytest.mark.parametrize("hostdev, message", [
    ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/></source></hostdev>", "missing product"),
    ("<hostdev mode='subsystem' type='usb'><source><address bus='1'/></source></hostdev>", "missing device"),
    ("<hostdev mode='subsystem' type='usb'><source/></hostdev>", "USB host device is missing bus/device information"),
    ("<hostdev mode='subsystem' type='pci'><source><address bus='1' slot='2'/></source></hostdev>",
     "needs domain, bus, slot and function"),
    ("<hostdev mode='subsystem' type='mdev'><source><address uuid='x'/></source></hostdev>", "'model'"),
    ("<hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on'><source>"
     "<address uuid='53764d0e-85a0-42b4-af5c-2046b460b1dc'/></source></hostdev>", "graphics device is needed"),
    ("<hostdev mode='subsystem' type='pci' display='on'><source>"
     "<address domain='0' bus='1' slot='2' function='0'/></source></hostdev>", "only valid for mdev"),
])
def test_bad_hostdevs_are_refused_naming_the_element(hostdev: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _argv(hostdev)


def test_host_usb_lookup_and_pci_readiness(tmp_path: Path) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon import hostdev_prep

    usb = tmp_path / "usb"
    for name, vendor, bus, dev in (("1-1", "1234", 1, 5), ("2-1", "abcd", 2, 9)):
        (usb / name).mkdir(parents=True)
        for f, v in (("idVendor", vendor), ("idProduct", "beef"), ("busnum", bus), ("devnum", dev)):
            (usb / name / f).write_text(f"{v}\n")
    dom = _dom("<hostdev mode='subsystem' type='usb'><source><vendor id='0xabcd'/><product id='0xbeef'/>"
               "</source></hostdev>")
    dom.devices.hostdevs[0].alias = "hostdev0"
    assert hostdev_prep.resolve_usb(dom, usb) == {"hostdev0": (2, 9)}
    (usb / "1-1" / "idVendor").write_text("abcd\n")
    with pytest.raises(PyvirtError, match="multiple USB devices"):
        hostdev_prep.resolve_usb(dom, usb)

    pci = tmp_path / "pci"
    (pci / "0000:06:12.5").mkdir(parents=True)
    src = "<source><address domain='0' bus='6' slot='0x12' function='5'/></source>"
    with pytest.raises(PyvirtError, match="does not detach host PCI devices"):
        hostdev_prep.check_pci(_dom(f"<hostdev mode='subsystem' type='pci' managed='yes'>{src}</hostdev>"), pci)
    unmanaged = _dom(f"<hostdev mode='subsystem' type='pci'>{src}</hostdev>")
    with pytest.raises(PyvirtError, match="not bound to vfio-pci"):
        hostdev_prep.check_pci(unmanaged, pci)
    (tmp_path / "drivers" / "vfio-pci").mkdir(parents=True)
    (pci / "0000:06:12.5" / "driver").symlink_to(tmp_path / "drivers" / "vfio-pci")
    hostdev_prep.check_pci(unmanaged, pci)


def test_vsock_auto_cid_round_trip_and_argv() -> None:
    dom = _dom("<vsock><cid auto='yes'/></vsock>")
    xml = dom.to_xml(inactive=True)
    assert "<vsock model='virtio'>\n      <cid auto='yes'/>\n      <address type='pci'" in xml
    argv = build_argv(dom, runtime=RuntimePaths(vsock_fd=7, vsock_cid=5))
    dev = _device(argv, "vhost-vsock")
    assert (dev["driver"], dev["guest-cid"], dev["vhostfd"], dev["id"]) == ("vhost-vsock-pci", 5, "7", "vsock0")


def test_vsock_fixed_cid_model_and_virtio_options() -> None:
    dom = _dom("<vsock model='virtio-transitional'><cid address='4'/><driver iommu='on'/></vsock>")
    assert "<cid auto='no' address='4'/>\n      <driver iommu='on'/>" in dom.to_xml(inactive=True)
    dev = _device(build_argv(dom, runtime=RuntimePaths()), "vhost-vsock")
    assert dev["driver"] == "vhost-vsock-pci-transitional" and dev["guest-cid"] == 4
    assert dev["iommu_platform"] is True and "vhostfd" not in dev


def test_vsock_auto_without_a_claimed_cid_is_refused() -> None:
    with pytest.raises(XMLError, match="<vsock><cid auto='yes'>"):
        build_argv(_dom("<vsock><cid auto='yes'/></vsock>"), runtime=RuntimePaths())


def test_vsock_claim_without_the_device_names_the_module(tmp_path: Path) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon import vsock

    assert vsock.claim(_dom("")) is None
    with pytest.raises(PyvirtError, match="vhost_vsock"):
        vsock.claim(_dom("<vsock><cid auto='yes'/></vsock>"), str(tmp_path / "vhost-vsock"))


CPUTUNE_BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>4</vcpu>
<iothreads>2</iothreads>{tune}<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>"""


def _tuned(tune: str):
    return fill_defaults(parse_domain(CPUTUNE_BASE.format(tune=tune)))


def test_cputune_round_trips_canonically_in_libvirts_order() -> None:
    dom = _tuned("<cputune><vcpusched vcpus='0-1,1' scheduler='fifo' priority='5'/><emulatorpin cpuset='3,1-2'/>"
                 "<vcpupin vcpu='1' cpuset='0,1,2'/><shares>2048</shares><iothreadpin iothread='2' cpuset='1'/>"
                 "<period>1000000</period><quota>-1</quota></cputune>")
    xml = dom.to_xml(inactive=True)
    body = xml[xml.index("<cputune>"):xml.index("</cputune>")]
    order = [body.index(t) for t in ("<shares>2048", "<period>1000000", "<quota>-1",
                                     "<vcpupin vcpu='1' cpuset='0-2'/>", "<emulatorpin cpuset='1-3'/>",
                                     "<iothreadpin iothread='2' cpuset='1'/>",
                                     "<vcpusched vcpus='0' scheduler='fifo' priority='5'/>",
                                     "<vcpusched vcpus='1' scheduler='fifo' priority='5'/>")]
    assert order == sorted(order)
    assert "cputune" not in " ".join(build_argv(dom))  # pinning is applied to threads, not on argv


@pytest.mark.parametrize("tune, message", [
    ("<vcpupin vcpu='1' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/>", "duplicate vcpupin"),
    ("<vcpupin vcpu='1'/>", "missing cpuset for vcpupin"),
    ("<iothreadpin iothread='3' cpuset='0'/>", "Cannot find 'iothread' : 3"),
    ("<period>10</period>", "'period' must be in range"),
    ("<quota>10</quota>", "'quota' must be in range"),
    ("<vcpusched vcpus='0' scheduler='rr'/>", "Missing required attribute 'priority' in element 'vcpusched'"),
    ("<vcpusched vcpus='0' scheduler='deadline'/>", "deadline"),
])
def test_bad_cputune_is_refused_naming_the_element(tune: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _tuned(f"<cputune>{tune}</cputune>")


def test_cputune_runtime_refuses_bandwidth_and_pins_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon import cputune

    with pytest.raises(PyvirtError, match="<period>, <emulator_quota>"):
        cputune.check(_tuned("<cputune><shares>1</shares><period>1000</period>"
                             "<emulator_quota>-1</emulator_quota></cputune>"), None)
    cputune.check(_tuned("<cputune><shares>1</shares><global_quota>-1</global_quota></cputune>"), None)  # cgroups.py's
    dom = _tuned("<cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='0'/>"
                 "<iothreadpin iothread='1' cpuset='0-1'/><vcpusched vcpus='0' scheduler='batch'/></cputune>")
    cputune.check(dom, None)
    assert cputune.needed(dom) and not cputune.needed(_tuned(""))
    pinned, sched = {}, {}
    monkeypatch.setattr(cputune.os, "sched_setaffinity", lambda tid, cpus: pinned.__setitem__(tid, set(cpus)))
    monkeypatch.setattr(cputune.os, "sched_setscheduler", lambda tid, policy, param: sched.__setitem__(tid, policy))
    monkeypatch.setattr(cputune.os, "listdir", lambda path: ["100", "101", "102", "103"])
    cputune.apply(100, dom, {0: 101}, {1: 102})
    assert pinned == {101: {1}, 102: {0, 1}, 100: {0}, 103: {0}}
    assert sched == {101: cputune.os.SCHED_BATCH}


@pytest.mark.parametrize("protocol, source, expected", [
    ("iscsi", "<source protocol='iscsi' name='iqn.1992-01.com.example:storage/1'><host name='h'/></source>",
     {"user": "myname", "password-secret": "libvirt-1-storage-auth-secret0"}),
    ("rbd", "<source protocol='rbd' name='pool/image'><host name='h'/></source>",
     {"user": "myname", "auth-client-required": ["cephx", "none"], "key-secret": "libvirt-1-storage-auth-secret0"}),
    ("https", "<source protocol='https' name='/p.iso'><host name='h'/></source>",
     {"username": "myname", "password-secret": "libvirt-1-storage-auth-secret0"}),
])
def test_network_disk_auth_names_a_secret_object(protocol: str, source: str, expected: dict) -> None:
    usage = "ceph" if protocol == "rbd" else "iscsi"
    disk = (f"<disk type='network' device='disk'><driver name='qemu' type='raw'/><auth username='myname'>"
            f"<secret type='{usage}' usage='u'/></auth>{source}<target dev='vda' bus='virtio'/></disk>")
    argv = _argv(disk, RuntimePaths(domain_dir="/run/g"))
    objects = [json.loads(v) for v in _values(argv, "-object") if "auth-secret" in v]
    assert objects == [{"qom-type": "secret", "id": "libvirt-1-storage-auth-secret0", "format": "raw",
                        "file": "/run/g/secret-vda-auth"}]
    node = next(json.loads(v) for v in _values(argv, "-blockdev") if protocol in v)
    assert {k: node[k] for k in expected} == expected
    assert "myname" not in " ".join(_values(argv, "-object"))


def test_auth_on_a_protocol_without_credentials_is_refused() -> None:
    disk = ("<disk type='network' device='disk'><driver name='qemu' type='raw'/><auth username='u'>"
            "<secret type='iscsi' usage='u'/></auth><source protocol='nbd' name='x'><host name='h'/></source>"
            "<target dev='vda' bus='virtio'/></disk>")
    with pytest.raises(XMLError, match="<auth> for protocol 'nbd'"):
        _argv(disk)
