"""<domainsnapshot> model: libvirt's create/redefine rules, defaults, refusals."""

from __future__ import annotations

import pytest

from pyvirt.xml.errors import XMLError, XMLUnsupportedError
from pyvirt.xml.snapshot import parse_snapshot

DOMAIN = """<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory unit='KiB'>65536</memory><os><type arch='x86_64'>hvm</type></os><devices/></domain>"""


def test_create_request_ignores_record_elements_and_names_by_time() -> None:
    snap = parse_snapshot("<domainsnapshot><state>running</state><parent><name>p</name></parent>"
                          "<creationTime>5</creationTime></domainsnapshot>", creation_time=77)
    assert (snap.name, snap.state, snap.parent, snap.creation_time) == ("77", None, None, 77)
    assert "<name>77</name>" in snap.to_xml()


def test_redefine_round_trip_with_domain_and_active() -> None:
    text = ("<domainsnapshot>\n  <name>s1</name>\n  <state>shutoff</state>\n  <parent>\n    <name>s0</name>\n"
            "  </parent>\n  <creationTime>12</creationTime>\n  <memory snapshot='no'/>\n  <disks>\n"
            "    <disk name='vda' snapshot='internal'/>\n  </disks>\n" + "".join(
                "  " + ln + "\n" for ln in parse_snapshot(
                    f"<domainsnapshot><name>x</name><state>shutoff</state><creationTime>1</creationTime>"
                    f"{DOMAIN}</domainsnapshot>", redefine=True).domain_xml.splitlines())
            + "  <active>1</active>\n</domainsnapshot>\n")
    snap = parse_snapshot(text, redefine=True, internal=True)
    assert snap.parent == "s0" and snap.active == 1
    assert snap.domain().name == "g"
    assert snap.to_xml(internal=True, current=True) == text
    assert "<active>" not in snap.to_xml()


def test_redefine_defaults_memory_from_state() -> None:
    on = parse_snapshot("<domainsnapshot><name>a</name><state>running</state><creationTime>1</creationTime>"
                        "</domainsnapshot>", redefine=True)
    off = parse_snapshot("<domainsnapshot><name>a</name><state>shutoff</state><creationTime>1</creationTime>"
                         "</domainsnapshot>", redefine=True)
    assert (on.memory, off.memory) == ("internal", "no")


def test_disk_with_file_becomes_external_and_prints_type() -> None:
    snap = parse_snapshot("<domainsnapshot><disks><disk name='vda'><source file='/i/new.qcow2'/></disk>"
                          "</disks></domainsnapshot>", creation_time=1)
    assert snap.disks[0].snapshot == "external"
    assert "<disk name='vda' snapshot='external' type='file'>" in snap.to_xml()


@pytest.mark.parametrize(("xml", "message"), [
    ("<domainsnapshot><memory snapshot='manual'/></domainsnapshot>", "'manual' memory"),
    ("<domainsnapshot><memory snapshot='external'/></domainsnapshot>", "require a filename"),
    ("<domainsnapshot><memory snapshot='internal' file='/m'/></domainsnapshot>", "requires external"),
    ("<domainsnapshot><memory file='m'/></domainsnapshot>", "must be absolute"),
    ("<domainsnapshot><disks><disk snapshot='no'/></disks></domainsnapshot>", "missing name"),
    ("<domainsnapshot><disks><disk name='a' type='volume'/></disks></domainsnapshot>", "'volume'"),
    ("<domainsnapshot><disks><disk name='a'><source file='rel'/></disk></disks></domainsnapshot>",
     "must be absolute"),
    ("<domainsnapshot><disks><disk name='a' type='block'><source file='/x'/></disk></disks></domainsnapshot>",
     "does not fit"),
    ("<domainsnapshot><bogus/></domainsnapshot>", "bogus"),
    ("<domain/>", "expected root element <domainsnapshot>"),
])
def test_bad_requests_are_refused_with_reason(xml: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        parse_snapshot(xml, creation_time=1)


@pytest.mark.parametrize(("xml", "message"), [
    ("<domainsnapshot><state>running</state><creationTime>1</creationTime></domainsnapshot>", "must have a name"),
    ("<domainsnapshot><name>a</name><state>running</state></domainsnapshot>", "creationTime"),
    ("<domainsnapshot><name>a</name><creationTime>1</creationTime></domainsnapshot>", "missing state"),
    ("<domainsnapshot><name>a</name><state>nostate</state><creationTime>1</creationTime></domainsnapshot>",
     "Invalid state"),
    ("<domainsnapshot><name>a</name><state>shutoff</state><creationTime>1</creationTime>"
     "<memory snapshot='internal'/></domainsnapshot>", "offline"),
])
def test_bad_records_are_refused(xml: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        parse_snapshot(xml, redefine=True)


def test_unknown_driver_format_is_unsupported() -> None:
    with pytest.raises(XMLUnsupportedError, match="unknown disk snapshot driver"):
        parse_snapshot("<domainsnapshot><disks><disk name='a'><driver type='none'/></disk></disks>"
                       "</domainsnapshot>", creation_time=1)


def test_revert_disks_round_trip_after_disks() -> None:
    """libvirt's <revertDisks> (the overlays a revert made while the snapshot has children) is read,
    checked like <disks> and written right after it."""
    xml = ("<domainsnapshot><name>s</name><state>running</state><creationTime>5</creationTime>"
           "<memory snapshot='external' file='/v/s.mem'/>"
           "<disks><disk name='vda' snapshot='external'><source file='/v/d.s'/></disk></disks>"
           "<revertDisks><disk name='vda' snapshot='external'><source file='/v/d.17'/></disk></revertDisks>"
           "</domainsnapshot>")
    snap = parse_snapshot(xml, redefine=True)
    assert [d.path for d in snap.revert_disks] == ["/v/d.17"]
    out = snap.to_xml()
    assert out.index("</disks>") < out.index("<revertDisks>") < out.index("/v/d.17")
    assert [(d.name, d.path) for d in parse_snapshot(out, redefine=True).revert_disks] == [("vda", "/v/d.17")]
    with pytest.raises(XMLError, match="missing name from disk snapshot element"):
        parse_snapshot(xml.replace("<revertDisks><disk name='vda'", "<revertDisks><disk"), redefine=True)


def test_network_image_hosts_written_name_port_transport_as_libvirt() -> None:
    """virDomainDiskSourceFormatNetwork writes <host> name, port, transport, socket (checked
    against real libvirt 9.0); tcp, the default transport, and port 0 are not written."""
    snap = parse_snapshot("<domainsnapshot><disks><disk name='vdb' snapshot='external' type='network'>"
                          "<source protocol='rbd' name='p/img'><host transport='rdma' port='6789' name='m1'/>"
                          "<host transport='tcp' name='m2' port='0'/></source></disk></disks></domainsnapshot>",
                          creation_time=3)
    text = snap.to_xml()
    assert "<host name='m1' port='6789' transport='rdma'/>" in text
    assert "<host name='m2'/>" in text
    assert parse_snapshot(text, creation_time=3).to_xml() == text


def test_domain_network_disk_hosts_follow_the_same_rule_on_define() -> None:
    """The one host rule (generic_defaults.net_host_rules) also applies to a defined domain's
    network disks and their backing layers, as libvirt's parser and formatter do; the QEMU
    driver's define then gives a TCP host without a port its protocol's default (checked against
    real libvirt 9.0's define)."""
    from pyvirt.xml.defaults import fill_defaults
    from pyvirt.xml.parse import parse_domain

    dom = parse_domain(DOMAIN.replace("<devices/>", (
        "<devices><disk type='network' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source protocol='gluster' name='v/top'><host transport='tcp' name='g1' port='0'/></source>"
        "<backingStore type='network'><format type='raw'/><source protocol='gluster' name='v/base'>"
        "<host transport='rdma' name='g2' port='24007'/></source><backingStore/></backingStore>"
        "<target dev='vda' bus='virtio'/></disk></devices>")))
    lines = [ln.strip() for ln in fill_defaults(dom).to_xml().splitlines() if "<host " in ln]
    assert lines == ["<host name='g1' port='24007'/>", "<host name='g2' port='24007' transport='rdma'/>"]


def test_image_source_startup_policy_is_read_and_not_kept() -> None:
    """libvirt's snapshot parser reads no startupPolicy for a new image: any value is accepted
    and the image is written without it."""
    for policy in ("optional", "whatever"):
        snap = parse_snapshot(f"<domainsnapshot><name>s</name><disks><disk name='vda' snapshot='external'>"
                              f"<source file='/tmp/new.qcow2' startupPolicy='{policy}'/></disk></disks>"
                              "</domainsnapshot>", creation_time=7)
        assert "<source file='/tmp/new.qcow2'/>" in snap.to_xml()
        assert "startupPolicy" not in snap.to_xml()


def test_seclabel_of_a_network_image_is_checked_but_not_written() -> None:
    """virDomainDiskSourceFormat writes <seclabel> for file and block images only; a network
    image's is still read (and a bad one refused)."""
    net = ("<domainsnapshot><name>s</name><disks><disk name='vda' snapshot='external' type='{t}'>"
           "<source {src}><seclabel model='dac' {sl}/></source></disk></disks></domainsnapshot>")
    written = parse_snapshot(net.format(t="network", src="protocol='nbd' name='x'", sl="relabel='no'"),
                             creation_time=7).to_xml()
    assert "<seclabel" not in written and "<source protocol='nbd' name='x'/>" in written
    block = parse_snapshot(net.format(t="block", src="dev='/dev/sdz'", sl="relabel='no'"), creation_time=7)
    assert "<seclabel model='dac' relabel='no'/>" in block.to_xml()
    with pytest.raises(XMLError, match="Cannot specify a label if relabelling is turned off"):
        parse_snapshot("<domainsnapshot><name>s</name><disks><disk name='vda' snapshot='external' type='network'>"
                       "<source protocol='nbd' name='x'><seclabel model='dac' relabel='no'><label>l</label>"
                       "</seclabel></source></disk></disks></domainsnapshot>", creation_time=7)


def test_empty_name_description_and_parent_are_none() -> None:
    """libvirt reads an empty element's text as no value: the request is named by its time and
    written without a description; a record's empty parent name is no parent."""
    snap = parse_snapshot("<domainsnapshot><name></name><description/></domainsnapshot>", creation_time=42)
    assert (snap.name, snap.description) == ("42", None)
    assert "<description" not in snap.to_xml()
    rec = parse_snapshot("<domainsnapshot><name>a</name><state>running</state><creationTime>5</creationTime>"
                         "<parent><name></name></parent></domainsnapshot>", redefine=True)
    assert rec.parent is None and "<parent>" not in rec.to_xml()


@pytest.mark.parametrize(("protocol", "port"), [("nbd", "10809"), ("iscsi", "3260"), ("gluster", "24007"),
                                                ("http", "80"), ("rbd", None)])
def test_network_image_host_gets_the_protocols_default_port(protocol: str, port: str | None) -> None:
    snap = parse_snapshot(f"<domainsnapshot><name>s</name><disks><disk name='vda' type='network'><source "
                          f"protocol='{protocol}' name='v/p'><host name='h'/></source></disk></disks>"
                          "</domainsnapshot>", creation_time=1)
    want = f"<host name='h' port='{port}'/>" if port else "<host name='h'/>"
    assert want in snap.to_xml()
    unix = parse_snapshot("<domainsnapshot><name>s</name><disks><disk name='vda' type='network'><source "
                          "protocol='nbd' name='x'><host transport='unix' socket='/s'/></source></disk></disks>"
                          "</domainsnapshot>", creation_time=1)
    assert "<host transport='unix' socket='/s'/>" in unix.to_xml()  # a socket has no port
