"""A restarted pyvirtd re-opens a running guest's console on the pty its live XML names
(daemon/driver.py: _recorded_ptys), asking QEMU (query-chardev) only when a pty's path or
alias is missing from that XML."""

from __future__ import annotations

from pyvirt.daemon import model
from pyvirt.daemon.driver import _recorded_ptys

LIVE = ("<domain type='qemu'><name>g</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{}</devices></domain>")
SERIAL = ("<serial type='pty'><source path='/dev/pts/7'/><target port='0'/><alias name='serial0'/></serial>"
          "<console type='pty' tty='/dev/pts/7'><source path='/dev/pts/7'/><target type='serial' port='0'/>"
          "<alias name='serial0'/></console>")
CHANNEL = ("<channel type='pty'><source path='/dev/pts/9'/><target type='virtio' name='org.x.y'/>"
           "<alias name='channel0'/></channel>")


def test_every_pty_recorded_gives_query_chardevs_labels() -> None:
    dom = model.parse_stored(LIVE.format(SERIAL + CHANNEL))
    assert _recorded_ptys(dom) == {"charserial0": "/dev/pts/7", "charchannel0": "/dev/pts/9"}


def test_a_pty_without_its_path_means_asking_qemu() -> None:
    dom = model.parse_stored(LIVE.format(SERIAL + CHANNEL.replace("<source path='/dev/pts/9'/>", "")))
    assert _recorded_ptys(dom) is None


def test_no_pty_at_all_is_an_empty_map() -> None:
    assert _recorded_ptys(model.parse_stored(LIVE.format(""))) == {}
