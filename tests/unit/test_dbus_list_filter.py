"""org.libvirt's ListDomains filter flags (pyvirt.dbus.members.domains_matching) over the
in-process test driver.  The expected names are what `virsh -c test:///default list --all
--name` with the matching options printed (libvirt 9.0) after the same steps in one session:
define a, b; autostart b; start b; managedsave b; create transient tr; define p (with a disk);
start p; suspend p; snapshot-create-as a s1; checkpoint-create-as p c1."""

from __future__ import annotations

import pytest

pytest.importorskip("dbus_fast")

from pyvirt.dbus.members import domains_matching  # noqa: E402
from pyvirt.testdriver import open_test_connection  # noqa: E402

XML = "<domain type='test'><name>{name}</name><memory>1024</memory><os><type>hvm</type></os>{devices}</domain>"
DISK = ("<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/nonexistent/p.qcow2'/><target dev='vda'/></disk></devices>")

ALL = 1 | 2  # virsh list --all: ACTIVE | INACTIVE
#: virsh list options -> (virConnectListAllDomainsFlags, names in virsh's order)
CASES = {
    "--all": (ALL, ["test", "tr", "p", "a", "b"]),
    "(none)": (1, ["test", "tr", "p"]),
    "--inactive": (2, ["a", "b"]),
    "--state-running": (ALL | 16, ["test", "tr"]),
    "--state-paused": (ALL | 32, ["p"]),
    "--state-shutoff": (ALL | 64, ["a", "b"]),
    "--state-other": (ALL | 128, []),
    "--state-running --state-paused": (ALL | 16 | 32, ["test", "tr", "p"]),
    "--with-managed-save": (ALL | 256, ["b"]),
    "--without-managed-save": (ALL | 512, ["test", "tr", "p", "a"]),
    "--autostart": (ALL | 1024, ["b"]),
    "--no-autostart": (ALL | 2048, ["test", "tr", "p", "a"]),
    "--with-snapshot": (ALL | 4096, ["a"]),
    "--without-snapshot": (ALL | 8192, ["test", "tr", "p", "b"]),
    "--inactive --without-snapshot": (2 | 8192, ["b"]),
    "--with-checkpoint": (ALL | 16384, ["p"]),
    "--without-checkpoint": (ALL | 32768, ["test", "tr", "a", "b"]),
    "--with-checkpoint --without-checkpoint": (ALL | 16384 | 32768, ["test", "tr", "p", "a", "b"]),
    "--transient": (ALL | 8, ["tr"]),
    "--persistent": (ALL | 4, ["test", "p", "a", "b"]),
}


@pytest.fixture(scope="module")
def conn():
    c = open_test_connection("test:///default")
    for name in ("a", "b"):
        c.define_xml(XML.format(name=name, devices=""))
    c.set_autostart("b", True)
    c.start("b")
    c.managed_save("b")
    c.create_xml(XML.format(name="tr", devices=""))
    c.define_xml(XML.format(name="p", devices=DISK))
    c.start("p")
    c.suspend("p")
    c.snapshot_create("a", "<domainsnapshot><name>s1</name></domainsnapshot>")
    c.checkpoint_create("p", "<domaincheckpoint><name>c1</name></domaincheckpoint>")
    yield c
    c.close()


@pytest.mark.parametrize("options", list(CASES))
def test_list_flags_as_virsh_list(conn, options: str) -> None:
    flags, names = CASES[options]
    assert [d.name for d in domains_matching(conn, flags)] == names


def test_virsh_list_name_uuid_id_forms(capsys) -> None:
    """`list --uuid/--id/--name` (names only from the driver): virsh 9.0 prints UUID, id, name in
    that order whatever the options' order (`virsh -c test:///default list --all --id --uuid`)."""
    from pyvirt.cli.main import main

    for argv, out in ((["--all", "--id", "--uuid", "--name"], "6695eb01-f6a4-8304-79aa-97f2502e193f 1 test\n\n"),
                      (["--all", "--name", "--id"], "1 test\n\n"), (["--inactive", "--name"], "\n")):
        assert main(["-c", "test:///default", "list", *argv]) in (0, None)
        assert capsys.readouterr().out == out, argv
