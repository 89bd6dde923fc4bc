"""Character sources of the install options (--serial/--parallel/--console/--channel,
--redirdev, --smartcard, --rng's egd backend), built on the pyvirt.xml model
(pyvirt.install.opts.charsource) as virt-install's CharSource sets them."""

from __future__ import annotations

import pytest
from lxml import etree

from pyvirt.install import pathset
from pyvirt.install.guest import Guest
from pyvirt.install.subopts import SubOptError


def _device(flag: str, optstr: str) -> etree._Element:
    from pyvirt.install.opts import registry
    g = Guest(None)  # type: ignore[arg-type]  # these options need no connection
    g.root = etree.fromstring("<domain><devices/></domain>")
    registry()[1][flag](g, optstr)
    _where, tag = pathset.where(flag) or ("", "")
    found = g.root.findall(f"devices/{tag}")
    assert len(found) == 1, etree.tostring(g.root)
    return found[0]


def _sources(el: etree._Element, under: str = "") -> list[dict[str, str]]:
    return [dict(s.attrib) for s in el.findall(f"{under}source")]


def test_udp_has_a_bind_source_first_and_a_connect_source() -> None:
    dev = _device("--parallel", "udp,source.connect_host=127.0.0.2,source.connect_service=8888,"
                                "source.bind_host=127.0.0.1,source.bind_service=7777")
    assert _sources(dev) == [{"mode": "bind", "host": "127.0.0.1", "service": "7777"},
                             {"mode": "connect", "host": "127.0.0.2", "service": "8888"}]


def test_host_with_mode_bind_is_the_bind_side_and_a_bare_port_means_localhost() -> None:
    dev = _device("--serial", "tcp,host=:2222,mode=bind")
    assert _sources(dev) == [{"mode": "bind", "host": "127.0.0.1", "service": "2222"}]


def test_unix_and_tcp_default_to_bind_mode_written_before_the_path() -> None:
    dev = _device("--channel", "unix,path=/tmp/sock")
    assert list(dev.find("source").attrib.items()) == [("mode", "bind"), ("path", "/tmp/sock")]
    assert dev.find("target").attrib == {"type": "virtio"}


def test_a_second_source_on_a_device_other_than_udp_is_refused_not_dropped() -> None:
    with pytest.raises(SubOptError, match="only one source element is allowed for character device"):
        _device("--serial", "tcp,source.bind_host=1.2.3.4:1,source.connect_host=5.6.7.8:2")


def test_redirdev_server_is_its_source() -> None:
    dev = _device("--redirdev", "usb,type=tcp,server=localhost:4000")
    assert list(dev.attrib.items()) == [("bus", "usb"), ("type", "tcp")]
    assert _sources(dev) == [{"host": "localhost", "service": "4000"}]


def test_smartcard_type_follows_the_mode_and_takes_a_source() -> None:
    from pyvirt.install.defaults import smartcard_defaults
    for optstr, want in (("passthrough", "spicevmc"), ("host", "tcp"), ("type=tcp", "tcp")):
        dev = _device("--smartcard", optstr)
        assert dev.get("type") in (None, "tcp")  # virtinst's set_defaults gives the rest
        smartcard_defaults(dev)
        assert list(dev.attrib.items())[:2] == [("mode", dev.get("mode")), ("type", want)]
    dev = _device("--smartcard", "passthrough,type=tcp,source.mode=bind,source.host=1.2.3.4,source.service=5678")
    assert _sources(dev) == [{"mode": "bind", "host": "1.2.3.4", "service": "5678"}]


def test_rng_egd_udp_backend_has_both_sides() -> None:
    dev = _device("--rng", "egd,backend_host=127.0.0.1,backend_service=8000,backend_type=udp,backend_mode=bind,"
                           "backend_connect_host=foo,backend_connect_service=708")
    assert dev.find("backend").get("type") == "udp"
    assert _sources(dev, "backend/") == [{"mode": "bind", "host": "127.0.0.1", "service": "8000"},
                                         {"mode": "connect", "host": "foo", "service": "708"}]


def test_rng_device_path_is_the_random_backend() -> None:
    dev = _device("--rng", "/dev/urandom")
    assert (dev.get("model"), dev.find("backend").get("model"), dev.find("backend").text) == \
        ("virtio", "random", "/dev/urandom")
