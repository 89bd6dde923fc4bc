"""`<interface type='bridge'>` on a session daemon through QEMU's bridge helper, as libvirt's
qemu:///session does it.

The session pyvirtd runs in a private network namespace with a bridge the test made there, and
in a private mount namespace where /etc is an overlay (upper layer on tmpfs) holding the
helper's ACL file, so the host's /etc stays untouched.  The guest is a firmware-only machine
(no kernel needed): what is checked is the tap the helper made, attached to the allowed bridge
while QEMU runs and gone after destroy, and a clear refusal for a bridge the ACL does not allow.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pyvirt.api import PyvirtError
from pyvirt.network import bridge_helper
from tests import netns as N
from tests.daemon_harness import DaemonHarness

pytestmark = [pytest.mark.skipif(N.available() is not None, reason=str(N.available())),
              pytest.mark.skipif(not bridge_helper.available(), reason=f"{bridge_helper.HELPER} not installed")]

ALLOWED, DENIED = "hbr0", "hbr1"
# overlay /etc (writes land on a tmpfs) and give the helper its ACL, then exec the daemon
ETC_OVERLAY = ('set -e; mount -t tmpfs none "$0"; mkdir "$0/u" "$0/w"; '
               'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$0/u,workdir=$0/w" /etc; '
               f'mkdir -p /etc/qemu; echo "allow {ALLOWED}" > /etc/qemu/bridge.conf; exec "$@"')


def domain(name: str, bridge: str) -> str:
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            f"<interface type='bridge'><source bridge='{bridge}'/><mac address='52:54:00:b4:00:01'/>"
            "<model type='virtio'/></interface><graphics type='vnc' port='-1' listen='127.0.0.1'/>"
            "</devices></domain>")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[N.NetNS, DaemonHarness]]:
    root = tmp_path_factory.mktemp("sessbr")
    overlay = root / "etc-overlay"
    overlay.mkdir()
    with N.netns() as ns:
        for br in (ALLOWED, DENIED):
            ns.run("ip", "link", "add", br, "type", "bridge")
            ns.run("ip", "link", "set", br, "up")
        daemon = DaemonHarness(root / "state", wrap=(*ns.cmd("unshare", "-m", "sh", "-c", ETC_OVERLAY),
                                                     str(overlay)))
        (root / "state").mkdir()
        daemon.start()
        try:
            yield ns, daemon
        finally:
            daemon.stop()
            daemon.kill_all_guests()


def ports(ns: N.NetNS, bridge: str) -> list[str]:
    out = ns.run("ip", "-o", "link", "show", "master", bridge).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]


def test_session_bridge_nic_via_helper(session: tuple[N.NetNS, DaemonHarness]) -> None:
    ns, daemon = session
    conn = daemon.connect()
    conn.define_xml(domain("sessbr", ALLOWED))
    conn.start("sessbr")
    try:
        live = conn.get_xml("sessbr")
        tap = live.split("<target dev='", 1)[1].split("'", 1)[0]
        assert ports(ns, ALLOWED) == [tap], live
        assert "<source bridge='hbr0'/>" in live
    finally:
        conn.destroy("sessbr")
    assert ports(ns, ALLOWED) == []  # the tap lived as long as QEMU held it


def test_session_bridge_denied_by_acl(session: tuple[N.NetNS, DaemonHarness]) -> None:
    ns, daemon = session
    conn = daemon.connect()
    conn.define_xml(domain("sessbr2", DENIED))
    with pytest.raises(PyvirtError, match=r"bridge 'hbr1'.*bridge\.conf") as err:
        conn.start("sessbr2")
    assert "acl" in str(err.value).lower()  # the helper's own reason is passed on
    assert conn.get_state("sessbr2")[0] == 5  # shut off: nothing of the failed start is left
    assert ports(ns, DENIED) == [] and ports(ns, ALLOWED) == []
    assert daemon.qemu_pids() == []
