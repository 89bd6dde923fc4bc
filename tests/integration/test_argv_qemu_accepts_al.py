"""Real QEMU 7.2 (TCG) takes the options pyvirt learned for issue 14's refusals: HMAT
(``hmat=on``, node initiators, hmat-lb, hmat-cache), UDP character devices, a TLS server
chardev on qemu.conf-style certificates, USB redirection filters, PCI expander buses with a
NUMA node and a virtio failover NIC.  Started with ``-S`` and no monitor; it must stay up.
And pyvirtd's tap coalescing, set on a real tap inside a network namespace of the test's own."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import fill_defaults, parse_domain
from tests.qemu_stays_up import running
from tests.tlscerts import TestCA

QEMU = shutil.which("qemu-system-x86_64")
pytestmark = [pytest.mark.qemu, pytest.mark.skipif(QEMU is None or shutil.which("openssl") is None,
                                                    reason="qemu-system-x86_64/openssl not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_qemu_accepts_the_new_options(tmp_path: Path) -> None:
    pki = TestCA(tmp_path / "ca").qemu_pki(tmp_path / "chardev-pki")
    tls_port, udp_port, redir_port = _free_port(), _free_port(), _free_port()
    xml = f"""<domain type='qemu'><name>qal</name><memory unit='MiB'>256</memory><vcpu>2</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu><numa><cell id='0' cpus='0' memory='128' unit='MiB'><cache level='1' associativity='direct'
policy='writeback'><size value='10' unit='KiB'/><line value='8' unit='B'/></cache></cell>
<cell id='1' cpus='1' memory='64' unit='MiB'/><cell id='2' memory='64' unit='MiB'/>
<interconnects><latency initiator='0' target='0' type='access' value='5'/>
<bandwidth initiator='0' target='0' type='access' value='204800' unit='KiB'/>
<bandwidth initiator='1' target='2' type='access' value='204800' unit='KiB'/></interconnects></numa></cpu>
<devices>
<controller type='pci' index='1' model='pci-expander-bus'><target busNr='254'><node>1</node></target></controller>
<serial type='udp'><source mode='bind' host='127.0.0.1' service='{udp_port}'/>
<source mode='connect' host='127.0.0.1' service='9'/></serial>
<channel type='tcp'><source mode='bind' host='127.0.0.1' service='{tls_port}' tls='yes'/>
<target type='virtio' name='org.example.tls'/></channel>
<redirdev bus='usb' type='udp'><source mode='connect' host='127.0.0.1' service='{redir_port}'/></redirdev>
<redirfilter><usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.10' allow='yes'/>
<usbdev allow='no'/></redirfilter>
<interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/><teaming type='persistent'/>
<address type='pci' bus='1' slot='1'/></interface>
</devices></domain>"""
    argv = build_argv(fill_defaults(parse_domain(xml)), None,
                      runtime=RuntimePaths(monitor_fd=3, domain_dir=str(tmp_path), chardev_tls_x509_dir=str(pki),
                                           chardev_tls_verify=False))
    joined = " ".join(argv)
    for option in ("hmat=on", "hmat-lb,", "hmat-cache,", "-chardev udp,", "tls-creds=", '"filter":',
                   '"driver":"pxb"', '"failover":true'):
        assert option in joined, option
    with running(argv, seconds=3.0), socket.create_connection(("127.0.0.1", tls_port), timeout=5):
        pass  # QEMU stayed up, and the TLS chardev listens where the XML says


_COALESCE_PROBE = """
import subprocess, sys
sys.path.insert(0, {src!r})
from pyvirt.network import hostnet
subprocess.run(["ip", "tuntap", "add", "dev", "pvtco0", "mode", "tap"], check=True)
hostnet.set_coalesce("pvtco0", 7)
print(hostnet.rx_coalesce_frames("pvtco0"))
try:
    hostnet.set_coalesce("lo", 3)
except Exception as exc:
    print(exc)
"""


@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("ip") is None, reason="unshare/ip missing")
def test_tap_coalescing_in_a_private_netns() -> None:
    """<coalesce><rx><frames max=>: the rx-frames pyvirtd sets on a NIC's tap, read back from the
    kernel; an interface that cannot coalesce fails in libvirt's words.  Only inside a network
    namespace the test makes."""
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(["unshare", "-n", sys.executable, "-c", _COALESCE_PROBE.format(src=src)],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0 and "Operation not permitted" in out.stderr:
        pytest.skip("no permission for a network namespace")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "7"
    assert lines[1].startswith("Cannot set coalesce info on 'lo'")
