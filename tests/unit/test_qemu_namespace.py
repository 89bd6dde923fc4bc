"""libvirt's QEMU XML namespace (``xmlns:qemu``): ``<qemu:commandline>`` passthrough args and
environment, read, written back, and applied as libvirt 9.0 does; the namespace's other
elements stay refused by name."""

from __future__ import annotations

import os
import re

import pytest
from lxml import etree

from pyvirt.daemon.model import qemu_environment
from pyvirt.qemu.argv import build_argv, build_env, format_args
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError, XMLUnsupportedError
from tests.conformance_data import LIBVIRT

NS = "http://libvirt.org/schemas/domain/qemu/1.0"
BASE = """<domain type='qemu' xmlns:{prefix}='{ns}'><name>g</name><memory unit='MiB'>256</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/>{extra}</domain>"""


def _dom(extra: str, prefix: str = "qemu"):
    return parse_domain(BASE.format(prefix=prefix, ns=NS, extra=extra))


CMDLINE = ("<qemu:commandline><qemu:env name='NS' value='a b'/><qemu:arg value='-msg'/>"
           "<qemu:arg value=\"guest='x' y\"/><qemu:env name='_EMPTY'/></qemu:commandline>")


def test_parse_keeps_document_order_per_kind() -> None:
    dom = _dom(CMDLINE)
    assert [a.value for a in dom.qemu_args] == ["-msg", "guest='x' y"]
    assert [(e.name, e.value) for e in dom.qemu_envs] == [("NS", "a b"), ("_EMPTY", None)]


def test_round_trip_writes_args_then_env_last_with_the_namespace_declared() -> None:
    text = _dom(CMDLINE).to_xml(inactive=True)
    root = text.splitlines()[0]
    assert root == f"<domain type='qemu' xmlns:qemu='{NS}'>"
    tail = text.splitlines()[-7:]
    assert tail == ["  <qemu:commandline>",
                    "    <qemu:arg value='-msg'/>",
                    "    <qemu:arg value='guest=&apos;x&apos; y'/>",
                    "    <qemu:env name='NS' value='a b'/>",
                    "    <qemu:env name='_EMPTY'/>",
                    "  </qemu:commandline>",
                    "</domain>"]
    again = parse_domain(text)
    assert again.to_xml(inactive=True) == text


def test_any_prefix_for_the_namespace_is_read_and_written_as_qemu() -> None:
    dom = _dom("<q:commandline><q:arg value='-S'/></q:commandline>", prefix="q")
    assert [a.value for a in dom.qemu_args] == ["-S"]
    assert "<qemu:arg value='-S'/>" in dom.to_xml()


def test_no_passthrough_means_no_namespace_declaration() -> None:
    text = _dom("<qemu:commandline/>").to_xml()
    assert "xmlns:qemu" not in text and "commandline" not in text


@pytest.mark.parametrize(("extra", "message"), [
    ("<qemu:commandline><qemu:arg/></qemu:commandline>", "No qemu command-line argument specified"),
    ("<qemu:commandline><qemu:env value='x'/></qemu:commandline>", "No qemu environment name specified"),
    ("<qemu:commandline><qemu:env name='1A'/></qemu:commandline>", "must begin with a letter or underscore"),
    ("<qemu:commandline><qemu:env name='A-B'/></qemu:commandline>", "only alphanumerics and underscore"),
])
def test_bad_passthrough_refused_as_libvirt(extra: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(extra)


@pytest.mark.parametrize(("element", "named"), [
    ("<qemu:capabilities><qemu:add capability='vnc-colon'/></qemu:capabilities>", "<domain/qemu:capabilities>"),
    ("<qemu:override><qemu:device alias='x'/></qemu:override>", "<domain/qemu:override>"),
    ("<qemu:deprecation behavior='crash'/>", "<domain/qemu:deprecation>"),
])
def test_unimplemented_namespace_elements_refused_by_name(element: str, named: str) -> None:
    """Valid libvirt that pyvirt does not implement: refused as unsupported, named."""
    with pytest.raises(XMLUnsupportedError, match=re.escape(named)):
        _dom(element)


@pytest.mark.parametrize(("element", "named"), [
    ("<qemu:commandline><qemu:arg value='-S'/><qemu:other/></qemu:commandline>", "<qemu:commandline/qemu:other>"),
    ("<qemu:commandline><qemu:arg value='-S' extra='1'/></qemu:commandline>", "'extra' of <qemu:commandline/qemu:arg>"),
])
def test_invalid_commandline_content_refused_with_schema_reason(element: str, named: str) -> None:
    with pytest.raises(XMLError, match=re.escape(named) + r".*libvirt's schema") as exc:
        _dom(element)
    assert not isinstance(exc.value, XMLUnsupportedError)


def test_args_go_verbatim_after_the_devices_before_sandbox() -> None:
    argv = build_argv(fill_defaults(_dom(CMDLINE)))
    at = argv.index("-msg")
    assert argv[at:at + 2] == ["-msg", "guest='x' y"]  # one word each, never split or re-quoted
    assert argv[at + 2] == "-sandbox"
    assert argv[-2:] == ["-msg", "timestamp=on"]
    assert not any(a.startswith("-device") for a in argv[at:])


def test_env_set_last_empty_value_and_last_repeat_wins() -> None:
    dom = _dom("<qemu:commandline><qemu:env name='HOME' value='/h'/><qemu:env name='NS' value='1'/>"
               "<qemu:env name='NS' value='2'/><qemu:env name='E'/></qemu:commandline>")
    env = build_env(dom)
    assert list(env.items())[-3:] == [("HOME", "/h"), ("NS", "2"), ("E", "")]
    assert "E='' \\\n" in format_args(["/bin/qemu"], env)


def test_daemon_environment_adds_passthrough_to_its_own() -> None:
    assert qemu_environment(_dom("")) is None  # inherited unchanged
    env = qemu_environment(_dom(CMDLINE))
    assert env is not None
    assert env["NS"] == "a b" and env["_EMPTY"] == ""
    assert env["PATH"] == os.environ["PATH"]


def test_libvirt_case_passthrough_lines_match() -> None:
    """libvirt's own qemu-ns case, without the namespace elements pyvirt refuses: the env lines
    and the end of the command line (passthrough, sandbox, msg) are libvirt's."""
    case = LIBVIRT / "qemuxml2argv" / "qemu-ns.xml"
    expected_file = LIBVIRT / "qemuxml2argv" / "qemu-ns.x86_64-latest.args"
    if not case.exists():
        pytest.skip("conformance data not present")
    root = etree.fromstring(case.read_bytes())
    for el in list(root):
        if etree.QName(el).namespace == NS and etree.QName(el).localname != "commandline":
            root.remove(el)
    dom = fill_defaults(parse_domain(etree.tostring(root)))
    ours = format_args(build_argv(dom), build_env(dom)).splitlines()
    expected = expected_file.read_text().splitlines()
    binary = next(i for i, ln in enumerate(expected) if ln.startswith("/"))
    assert ours[:binary + 1] == expected[:binary + 1]
    first = dom.qemu_args[0].value
    start = next(i for i, ln in enumerate(expected) if ln.startswith(first))
    assert ours[-(len(expected) - start):] == expected[start:]
