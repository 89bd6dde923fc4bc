"""libvirt's QEMU XML namespace (``xmlns:qemu``): ``<qemu:commandline>`` passthrough args and
environment, ``<qemu:deprecation>``, ``<qemu:override>`` and ``<qemu:capabilities>``, read,
written back, and applied as libvirt 9.0 does (checked with domxml-to-native on libvirt 9.0)."""

from __future__ import annotations

import os
import re

import pytest

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


DISK = ("<disk type='file' device='disk'><source file='/i'/><target dev='vda' bus='virtio'/>"
        "<alias name='ua-d'/></disk>")


def _ns_argv(extra: str) -> list[str]:
    text = BASE.format(prefix="qemu", ns=NS, extra=extra).replace("<devices/>", f"<devices>{DISK}</devices>")
    return build_argv(fill_defaults(parse_domain(text)))


def _device(argv: list[str], alias: str) -> dict:
    import json

    return next(d for d in (json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-device")
                if d.get("id") == alias)


@pytest.mark.parametrize(("behavior", "compat"), [
    ("none", None), ("omit", '{"deprecated-output":"hide"}'),
    ("reject", '{"deprecated-output":"hide","deprecated-input":"reject"}'),
    ("crash", '{"deprecated-output":"hide","deprecated-input":"crash"}'),
    ("whatever", None),  # libvirt 9.0 takes any word and writes nothing for one it does not know
])
def test_deprecation_behavior_becomes_compat_after_name(behavior: str, compat: str | None) -> None:
    argv = _ns_argv(f"<qemu:deprecation behavior='{behavior}'/>")
    if compat is None:
        assert "-compat" not in argv
    else:
        at = argv.index("-compat")
        assert argv[at + 1] == compat and argv[at - 2] == "-name"


def test_override_changes_the_frontend_props_in_libvirts_order() -> None:
    argv = _ns_argv("<qemu:override><qemu:device alias='ua-d'><qemu:frontend>"
                    "<qemu:property name='drive' type='string' value='other'/>"
                    "<qemu:property name='n' type='signed' value='-3'/><qemu:property name='u' type='unsigned' value='7'/>"
                    "<qemu:property name='b' type='bool' value='false'/><qemu:property name='bootindex' type='remove'/>"
                    "</qemu:frontend></qemu:device><qemu:device alias='ua-none'><qemu:frontend>"
                    "<qemu:property name='x' type='string' value='y'/></qemu:frontend></qemu:device></qemu:override>")
    dev = _device(argv, "ua-d")
    # an overridden property is removed, then appended: it moves to the end; 'remove' drops it
    assert list(dev.items())[-4:] == [("drive", "other"), ("n", -3), ("u", 7), ("b", False)]
    assert "bootindex" not in dev
    assert '"x":"y"' not in " ".join(argv)  # an alias no device has changes nothing (as libvirt)


@pytest.mark.parametrize(("prop", "words"), [
    ("<qemu:property type='string' value='y'/>", "missing 'name' attribute for qemu:property"),
    ("<qemu:property name='x' type='string'/>", "missing 'value' attribute for 'qemu:property'"),
    ("<qemu:property name='x' type='signed' value='abc'/>", "invalid value 'abc' of 'value' attribute"),
    ("<qemu:property name='x' type='bool' value='yes'/>", "invalid value 'yes' of 'value' attribute"),
    ("<qemu:property name='x' type='remove' value='1'/>", "doesn't make sense with 'remove' type"),
])
def test_bad_override_refused_in_libvirts_words(prop: str, words: str) -> None:
    with pytest.raises(XMLError, match=re.escape(words)):
        _dom(f"<qemu:override><qemu:device alias='a'><qemu:frontend>{prop}</qemu:frontend></qemu:device>"
             "</qemu:override>")


def test_retired_capabilities_accepted_others_refused_by_name() -> None:
    plain = _ns_argv("<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>")
    assert _ns_argv("<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>""<qemu:capabilities><qemu:add capability='vnc-colon'/><qemu:del capability='name'/>"
                    "</qemu:capabilities>") == plain
    with pytest.raises(XMLUnsupportedError, match="qemu:del capability='blockdev-reopen'"):
        _ns_argv("<qemu:capabilities><qemu:del capability='blockdev-reopen'/></qemu:capabilities>")


def test_namespace_round_trip_groups_capabilities_adds_first() -> None:
    extra = ("<qemu:deprecation behavior='reject'/><qemu:capabilities><qemu:del capability='name'/>"
             "<qemu:add capability='drive'/></qemu:capabilities>")
    text = fill_defaults(_dom(extra)).to_xml(inactive=True)
    assert ("  <qemu:capabilities>\n    <qemu:add capability='drive'/>\n    <qemu:del capability='name'/>\n"
            "  </qemu:capabilities>\n  <qemu:deprecation behavior='reject'/>\n</domain>") in text


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
    """libvirt's own qemu-ns case (all of its namespace elements): the env lines and the end of
    the command line (passthrough, sandbox, msg) are libvirt's."""
    case = LIBVIRT / "qemuxml2argv" / "qemu-ns.xml"
    expected_file = LIBVIRT / "qemuxml2argv" / "qemu-ns.x86_64-latest.args"
    if not case.exists():
        pytest.skip("conformance data not present")
    dom = fill_defaults(parse_domain(case.read_bytes()))
    ours = format_args(build_argv(dom), build_env(dom)).splitlines()
    expected = expected_file.read_text().splitlines()
    binary = next(i for i, ln in enumerate(expected) if ln.startswith("/"))
    assert ours[:binary + 1] == expected[:binary + 1]
    first = dom.qemu_args[0].value
    start = next(i for i, ln in enumerate(expected) if ln.startswith(first))
    assert ours[-(len(expected) - start):] == expected[start:]
