"""``<resource>``, ``<perf>``, ``<features><msrs>`` and ``<devices><crypto>``: what libvirt 9.0
does with each (checked with its define/dumpxml, domxml-to-native and starts in a private session
daemon) and what pyvirt does the same or refuses by name:

- ``<resource><partition>`` kept (after ``<vcpu>``); an empty ``<resource>`` refused; the Fibre
  Channel ``appid`` refused by name; at start only libvirt's default ``/machine`` where pyvirtd
  places guests in cgroups (its own partition stands for it), anything where it places none;
- ``<perf>`` kept with its events in libvirt's order (an empty one dropped), its parse rules;
  an enabled event refused at start by name (pyvirtd opens no perf events);
- ``<msrs unknown=>`` kept in libvirt's place among the features, no command-line change (bhyve's);
- ``<crypto>``: refused with the reason (a later libvirt's device);
- a second ``<os><acpi><table>``: libvirt's own refusal, not pyvirt's "unsupported"."""

from __future__ import annotations

from typing import Any

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon.cgroups import GuestCgroup, check_partition
from pyvirt.daemon.tuning import check_perf
from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError, XMLUnsupportedError

HEAD = ("<domain type='qemu'><name>g</name><uuid>2a1b6927-0476-40be-a814-82745e7550ef</uuid><memory unit='MiB'>128</memory><vcpu>1</vcpu>{top}"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>{mid}<devices>{devices}</devices></domain>")


def _dom(top: str = "", mid: str = "", devices: str = "") -> Any:
    return fill_defaults(parse_domain(HEAD.format(top=top, mid=mid, devices=devices)))


def _cgroup() -> GuestCgroup:
    return GuestCgroup({}, "key")


def test_resource_partition_is_kept_after_vcpu() -> None:
    xml = _dom(top="<resource><partition>/machine/web</partition></resource>").to_xml(inactive=True)
    assert "<vcpu placement='static'>1</vcpu>\n  <resource>\n    <partition>/machine/web</partition>\n" \
           "  </resource>\n  <os>" in xml


@pytest.mark.parametrize("resource", ["<resource/>", "<resource><partition></partition></resource>"])
def test_empty_resource_is_refused(resource: str) -> None:
    with pytest.raises(XMLError, match="<resource> needs a <partition>"):
        _dom(top=resource)


def test_fibre_channel_appid_is_refused_by_name() -> None:
    with pytest.raises(XMLUnsupportedError, match="resource/fibrechannel"):
        _dom(top="<resource><partition>/machine</partition><fibrechannel appid='app'/></resource>")


@pytest.mark.parametrize("partition", ["/machine", "/machine/"])
def test_the_default_partition_starts_where_guests_get_cgroups(partition: str) -> None:
    check_partition(_dom(top=f"<resource><partition>{partition}</partition></resource>"), _cgroup())


@pytest.mark.parametrize(("partition", "message"), [
    ("machine", "Partition path 'machine' must start with '/'"),
    ("/other", r"<resource><partition>/other</partition>: pyvirtd places every guest in its own cgroup partition"),
])
def test_other_partitions_are_refused_where_guests_get_cgroups(partition: str, message: str) -> None:
    dom = _dom(top=f"<resource><partition>{partition}</partition></resource>")
    with pytest.raises(PyvirtError, match=message):
        check_partition(dom, _cgroup())
    check_partition(dom, None)  # a daemon placing guests in no cgroup ignores it, as libvirt's session one


def test_perf_events_are_kept_in_libvirts_order() -> None:
    dom = _dom(mid="<pm><suspend-to-mem enabled='no'/></pm>"
                   "<perf><event name='task_clock' enabled='no'/><event name='cmt' enabled='yes'/></perf>")
    xml = dom.to_xml(inactive=True)
    assert ("</pm>\n  <perf>\n    <event name='cmt' enabled='yes'/>\n    <event name='task_clock' enabled='no'/>\n"
            "  </perf>\n  <devices>") in xml
    assert "<perf" not in _dom(mid="<perf/>").to_xml(inactive=True)


@pytest.mark.parametrize(("perf", "message"), [
    ("<event name='foo' enabled='yes'/>", "invalid value 'foo' for attribute 'name' of <event>"),
    ("<event name='cmt'/>", "Missing required attribute 'enabled' in element 'event'"),
    ("<event name='cmt' enabled='no'/><event name='cmt' enabled='yes'/>", "perf event 'cmt' was already specified"),
])
def test_perf_parse_rules(perf: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(mid=f"<perf>{perf}</perf>")


def test_an_enabled_perf_event_is_refused_at_start_by_name() -> None:
    check_perf(_dom(mid="<perf><event name='cpu_cycles' enabled='no'/></perf>"))
    with pytest.raises(PyvirtError, match="<perf><event name='cpu_cycles' enabled='yes'>: unable to enable host "
                                          "cpu perf event for cpu_cycles: pyvirtd does not open perf events"):
        check_perf(_dom(mid="<perf><event name='cmt' enabled='no'/><event name='cpu_cycles' enabled='yes'/></perf>"))


def test_msrs_is_kept_in_libvirts_place_and_changes_no_command_line() -> None:
    plain = _dom(mid="<features><acpi/><apic/><vmcoreinfo state='on'/></features>")
    msrs = _dom(mid="<features><acpi/><msrs unknown='ignore'/><apic/><vmcoreinfo state='on'/></features>")
    assert "<vmcoreinfo state='on'/>\n    <msrs unknown='ignore'/>\n  </features>" in msrs.to_xml(inactive=True)
    assert build_argv(msrs) == build_argv(plain)


@pytest.mark.parametrize(("msrs", "message"), [
    ("<msrs/>", "Missing required attribute 'unknown' in element 'msrs'"),
    ("<msrs unknown='fail'/>", "invalid value 'fail' for attribute 'unknown' of <msrs>"),
])
def test_msrs_parse_rules(msrs: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(mid=f"<features>{msrs}</features>")


def test_crypto_is_refused_with_the_reason() -> None:
    with pytest.raises(XMLError, match=r"unsupported element <devices/crypto>: the virtio-crypto device is a later "
                                       r"libvirt's: libvirt 9.0's schema refuses it"):
        _dom(devices="<crypto model='virtio' type='qemu'><backend model='builtin' queues='1'/></crypto>")



def test_a_second_acpi_table_is_libvirts_error() -> None:
    table = "<table type='slic'>/tmp/slic.dat</table>"
    xml = HEAD.format(top="", mid="", devices="").replace(
        "hvm</type></os>", f"hvm</type><acpi>{table}{table.replace('slic.dat', 'other.dat')}</acpi></os>")
    with pytest.raises(XMLError, match="^Only one acpi table is supported") as err:
        parse_domain(xml)
    assert not isinstance(err.value, XMLUnsupportedError)
    one = fill_defaults(parse_domain(xml.replace(table.replace("slic.dat", "other.dat"), "")))
    argv = build_argv(one)
    assert argv[argv.index("-acpitable") + 1] == "sig=SLIC,file=/tmp/slic.dat"
