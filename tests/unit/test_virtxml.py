"""pyvirt xml / pyvirt clone: edits through install's parsers, selection, naming, copies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.install.clone import clone_name, clone_path, copy_file
from pyvirt.install.virtxml import Action, Domain, Fail, edit_one, find_objects, to_string

DOMAIN = """<domain type='test'>
  <name>g</name>
  <memory>1048576</memory>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <cpu mode='custom' match='exact'>
    <model fallback='allow'>core2duo</model>
    <feature policy='require' name='pbe'/>
    <numa><cell id='0' cpus='0' memory='1048576' unit='KiB'/></numa>
  </cpu>
  <clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>
  <devices>
    <disk type='block' device='disk'>
      <source dev='/dev/null'/><target dev='vda' bus='virtio'/><boot order='2'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/tmp/b.img'/><target dev='hda' bus='ide'/><shareable/><boot order='1'/>
    </disk>
    <interface type='network'>
      <source network='default'/><mac address='52:54:00:00:00:01'/><model type='e1000'/>
    </interface>
    <sound model='sb16'/><sound model='ich6'/>
  </devices>
</domain>"""


@pytest.fixture
def dom() -> Domain:
    from pyvirt.install.flow import _connect
    return Domain(_connect("test:///default"), DOMAIN)


def test_cpu_edit_changes_only_what_was_named(dom: Domain) -> None:
    cpu = dom.root.find("cpu")
    edit_one(dom, "--cpu", cpu, "model=pentium2,+x2apic,forbid=pbe")
    assert cpu.findtext("model") == "pentium2"
    assert cpu.find("model").get("fallback") == "allow"          # untouched attribute kept
    assert cpu.find("feature[@name='pbe']").get("policy") == "forbid"
    assert cpu[-1].tag == "feature" and cpu[-1].get("name") == "x2apic"  # appended, as virt-xml
    assert list(cpu[-1].attrib) == ["policy", "name"]
    assert cpu.find("numa") is not None


def test_empty_value_removes_and_type_change_resets_source(dom: Domain) -> None:
    nic = dom.root.find("devices/interface")
    edit_one(dom, "--network", nic, "type=bridge,source=br0,mac=")
    assert nic.get("type") == "bridge"
    assert dict(nic.find("source").attrib) == {"bridge": "br0"}
    assert nic.find("mac") is None
    assert nic.find("model").get("type") == "e1000"


def test_clock_timer_matched_by_name(dom: Domain) -> None:
    clock = dom.root.find("clock")
    edit_one(dom, "--clock", clock, "offset=localtime,rtc_tickpolicy=merge,hpet_present=no")
    assert clock.get("offset") == "localtime"
    assert [t.get("name") for t in clock.findall("timer")] == ["rtc", "hpet"]
    assert clock.find("timer[@name='rtc']").get("tickpolicy") == "merge"


def test_boot_order_renumbers_and_clears_os_boot(dom: Domain) -> None:
    act = Action("edit", "target=vda", "--disk", ["boot_order=1"])
    (vda,) = find_objects(dom, act, act.selector, "edit")
    edit_one(dom, "--disk", vda, "boot_order=1")
    orders = {d.find("target").get("dev"): d.find("boot").get("order")
              for d in dom.root.findall("devices/disk")}
    assert orders == {"vda": "1", "hda": "2"}
    assert dom.root.find("os/boot") is None


def test_selection_by_index_value_and_errors(dom: Domain) -> None:
    act = Action("edit", None, "--sound", ["pcspk"])
    assert find_objects(dom, act, "-1", "edit")[0].get("model") == "ich6"
    assert find_objects(dom, act, "ich6", "edit")[0].get("model") == "ich6"
    assert len(find_objects(dom, act, "all", "edit")) == 2
    disk = Action("remove-device", None, "--disk", ["/dev/null"])
    assert find_objects(dom, disk, "/dev/null", "remove-device")[0].find("target").get("dev") == "vda"
    with pytest.raises(Fail, match=r"'--edit 3' requested but there are only 2 --sound objects"):
        find_objects(dom, act, "3", "edit")
    with pytest.raises(Fail, match="Invalid --edit option '0'"):
        find_objects(dom, act, "0", "edit")
    with pytest.raises(Fail, match="No matching objects found for --edit es1370"):
        find_objects(dom, act, "es1370", "edit")


def test_unknown_suboption_refused_by_name(dom: Domain) -> None:
    from pyvirt.install.subopts import SubOptError
    before = to_string(dom.root)
    with pytest.raises(SubOptError, match=r"Unknown --disk options: \['foo'\]"):
        edit_one(dom, "--disk", dom.root.find("devices/disk"), "foo=bar")
    assert to_string(dom.root) == before


def test_cli_print_xml_and_refusals() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pyvirt.cli.xml", "-c", "test:///default",
                               *args], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    p = run("test", "--edit", "--vcpus", "2", "--print-xml")
    assert p.returncode == 0, p.stderr
    assert etree.fromstring(p.stdout.encode()).findtext("vcpu") == "2"
    p = run("test", "--edit", "--disk", "foo=bar")
    assert p.returncode == 1 and "Unknown --disk options: ['foo']" in p.stderr
    p = run("test", "--edit", "--cpu", "host-passthrough", "--boot", "hd")
    assert p.returncode == 1 and "Only one change operation may be specified" in p.stderr
    p = run("nosuchdomain", "--edit", "--vcpus", "2")
    assert p.returncode == 1 and "Could not find domain 'nosuchdomain'" in p.stderr


def test_clone_names_and_paths() -> None:
    taken = {"vm-clone", "vm-clone1", "x-clone3"}
    assert clone_name("vm", taken.__contains__) == "vm-clone2"
    assert clone_name("a", taken.__contains__) == "a-clone"
    assert clone_name("x-clone3", taken.__contains__) == "x-clone4"
    exists = {"/i/disk-clone.img"}.__contains__
    assert clone_path("vm", "vm-clone", "/i/disk.img", exists) == "/i/disk-clone-1.img"
    assert clone_path("vm", "new", "/i/vm.qcow2", exists) == "/i/new.qcow2"
    assert clone_path("vm", "new", "/i/noext", exists) == "/i/noext-clone"


def test_copy_file_keeps_holes_and_refuses_existing(tmp_path: Path) -> None:
    src = tmp_path / "src.img"
    with open(src, "wb") as fh:
        fh.write(b"A" * 4096)
        fh.seek(32 * 1024 * 1024)
        fh.write(b"B" * 4096)
    dst = tmp_path / "dst.img"
    copy_file(str(src), str(dst), sparse=True)
    assert dst.read_bytes() == src.read_bytes()
    assert os.stat(dst).st_blocks * 512 < 8 * 1024 * 1024
    with pytest.raises(FileExistsError):
        copy_file(str(src), str(dst))
    assert dst.read_bytes() == src.read_bytes()


def test_graphics_port_edit_recomputes_autoport(dom: Domain) -> None:
    devices = dom.root.find("devices")
    gfx = etree.SubElement(devices, "graphics", type="vnc", port="-1", autoport="yes")
    edit_one(dom, "--graphics", gfx, "tlsport=5902,keymap=ja")
    assert dict(gfx.attrib) == {"type": "vnc", "port": "-1", "tlsPort": "5902", "keymap": "ja"}
