"""libvirt 9.0 rules found on unseen qemuxml2argv cases (names m..z): one small case each, own XML.
Each asserts what libvirt 9.0's parser, address assignment or command-line builder does."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>"""


def _dom(devices: str, machine: str = "pc"):  # noqa: ANN202
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine)))


def _argv(devices: str, machine: str = "pc") -> list[str]:
    return build_argv(_dom(devices, machine))


def _by_id(argv: list[str]) -> dict[str, dict]:
    devs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]
    return {d["id"]: d for d in devs if "id" in d}


def _objects(argv: list[str]) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-object" and argv[i + 1][0] == "{"]


def test_usb_companions_without_a_master_are_refused() -> None:
    for ctl in ("<controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/></controller>",
                "<controller type='usb' index='0' model='ich9-uhci1'/>"):
        with pytest.raises(XMLError, match="No master USB controller specified"):
            _dom(ctl)
    # a master of any model makes the companions valid
    ok = ("<controller type='usb' index='0' model='ich9-ehci1'/>"
          "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>")
    assert len(_dom(ok).devices.controllers) >= 2


def test_a_single_watchdog_only() -> None:
    with pytest.raises(XMLError, match="only a single watchdog device is supported"):
        _dom("<watchdog model='ib700'/><watchdog model='i6300esb'/>", "q35")
    assert "-watchdog-action" in _argv("<watchdog model='ib700' action='poweroff'/>")


def test_empty_random_rng_backend_reads_dev_random() -> None:
    dom = _dom("<rng model='virtio'><backend model='random'/></rng>")
    assert dom.devices.rngs[0].backend == "/dev/random"
    rng = [o for o in _objects(build_argv(dom)) if o["qom-type"] == "rng-random"]
    assert rng == [{"qom-type": "rng-random", "id": "objrng0", "filename": "/dev/random"}]


def test_first_ich9_sound_sits_at_slot_1b_on_q35() -> None:
    ids = _by_id(_argv("<sound model='ich6'/><sound model='ich9'/><sound model='ich9'/>", "q35"))
    assert (ids["sound1"]["bus"], ids["sound1"]["addr"]) == ("pcie.0", "0x1b")
    assert ids["sound2"]["bus"] != "pcie.0"  # only the first one
    assert ids["sound0"]["bus"] != "pcie.0"  # ich6 is a conventional PCI device behind a bridge
