"""Property-based fuzzing (Hypothesis) of every grammar pyvirt reads from users (issue 10 campaign).

Properties: the XML parsers and the daemon's define path fail only with their own error types
and never accept what they could not load again; virt-install's option parsers and virsh's
command grammar end with a clean error, never a traceback.  Each test records how many inputs
it ran in .cache/fuzz-counts.json (the figures quoted in the issue note).

Examples are bounded (max_examples) and derandomized, so the suite is fast and repeatable.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pyvirt.api import PyvirtError  # noqa: E402
from pyvirt.daemon import model  # noqa: E402
from pyvirt.xml import XMLError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
COUNTS: Counter[str] = Counter()
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    report = REPO / ".cache" / "fuzz-counts.json"
    with contextlib.suppress(OSError):
        report.parent.mkdir(exist_ok=True)
        old = json.loads(report.read_text()) if report.exists() else {}
        report.write_text(json.dumps({**old, **COUNTS}, indent=1, sort_keys=True))


# ----------------------------------------------------------------------------------- XML
BASE = ("<domain type='qemu'><name>fz</name><uuid>8e3b6a35-3f5a-4bd6-9a39-4c8f8c6c0b1d</uuid>"
        "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
        "<features><acpi/></features><cpu mode='custom'><model>qemu64</model></cpu>"
        "<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/var/lib/x.qcow2'/><target dev='vda' bus='virtio'/></disk>"
        "<interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/></interface>"
        "<serial type='pty'/><graphics type='vnc' port='-1' passwd='pw'/>"
        "<video><model type='virtio'/></video></devices></domain>")

_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_tricky = st.sampled_from(["", "-1", "0", "99999999999999999999", "yes", "on", "a,b=c", "../../etc/shadow",
                           "x\u0000y", "<", "&amp;", "'", "1e9", " 5 ", "0x10", "ff:ff", "/dev/sda"])
_value = st.one_of(_tricky, _words, st.integers(-2**65, 2**65).map(str))


def _xml_safe(text: str) -> str:
    """What an XML document can carry at all (lxml refuses the rest before pyvirt sees it)."""
    return "".join(c for c in text if c in "\t\n\r" or (ord(c) >= 32 and c not in "\ufffe\uffff"))


@st.composite
def mutated_domain(draw: st.DrawFn) -> str:
    """BASE with attribute values, texts and elements replaced, added or removed."""
    from lxml import etree

    root = etree.fromstring(BASE)
    elements = list(root.iter())
    for _ in range(draw(st.integers(1, 4))):
        el = draw(st.sampled_from(elements))
        how = draw(st.sampled_from(["attr", "text", "child", "drop", "newattr"]))
        value = _xml_safe(draw(_value))
        if how == "attr" and el.attrib:
            el.set(draw(st.sampled_from(sorted(el.attrib))), value)
        elif how == "text":
            el.text = value
        elif how == "child":
            tag = draw(st.sampled_from(["disk", "source", "target", "model", "driver", "address", "boot",
                                        "memory", "feature", "listen", "x-unknown"]))
            child = etree.SubElement(el, tag)
            child.set(draw(st.sampled_from(["type", "dev", "name", "file", "bus", "unit"])), value)
        elif how == "drop" and el is not root and el.getparent() is not None:
            el.getparent().remove(el)
        elif how == "newattr":
            el.set(draw(st.sampled_from(["type", "id", "name", "unit", "mode", "port", "bus"])), value)
    return etree.tostring(root, encoding="unicode")


@FUZZ
@given(mutated_domain())
def test_define_parse_fails_cleanly_and_never_accepts_what_it_cannot_reload(xml: str) -> None:
    COUNTS["domain XML mutations (define + reload)"] += 1
    try:
        dom = model.parse_definition(xml)
    except PyvirtError:
        return
    stored = dom.to_xml(inactive=True, security_info=True)
    again = model.parse_stored(stored)  # what the next daemon start does: must not fail
    assert again.to_xml(inactive=True, security_info=True) == stored


@FUZZ
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_every_xml_parser_refuses_junk_with_its_own_error(text: str) -> None:
    from pyvirt.xml.pool import PoolDef
    from pyvirt.xml.volume import VolumeDef

    COUNTS["arbitrary text into domain/pool/volume parsers"] += 1
    for parse in (model.parse_definition, PoolDef.from_xml, VolumeDef.from_xml):
        with contextlib.suppress(PyvirtError, XMLError):
            parse(text)


# ------------------------------------------------------------------------ virt-install options
def _install_specs() -> list[tuple[str, list[str]]]:
    from pyvirt.install.opts import registry

    specs, apply = registry()
    return sorted((flag, [k for k in spec.keys if "\\" not in k and "*" not in k])
                  for flag, spec in specs.items() if flag in apply)


@st.composite
def install_option(draw: st.DrawFn) -> tuple[str, str]:
    flag, keys = draw(st.sampled_from(_install_specs()))
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.one_of(st.sampled_from(keys or ["x"]), _words))
        parts.append(draw(st.sampled_from([f"{key}={draw(_value)}", key, draw(_value)])))
    return flag, ",".join(parts)


@FUZZ
@given(install_option())
def test_install_options_end_in_a_clean_error(option: tuple[str, str]) -> None:
    from pyvirt.cli.install import main as install_main

    COUNTS["virt-install option strings"] += 1
    flag, value = option
    argv = ["--connect", "test:///default", "--name", "fz", "--memory", "64", "--import", "--disk", "none",
            "--osinfo", "detect=on,require=off", "--noautoconsole", "--print-xml", f"{flag}={value}"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = install_main(argv)
        except SystemExit as exc:  # argparse's own usage error
            code = exc.code
    assert code in (0, 1, 2), (argv, err.getvalue())
    assert "Traceback" not in err.getvalue()


# ----------------------------------------------------------------------------- virsh grammar
_INTERACTIVE = {"console", "edit", "event", "shell", "cd", "pool-edit", "net-edit", "vol-edit",
                "iface-edit", "secret-edit", "nwfilter-edit", "snapshot-edit", "connect", "quit", "exit"}


def _commands() -> list[tuple[str, list[str]]]:
    from pyvirt.cli import table

    out = []
    for cmd in table.COMMANDS:
        if cmd.name in _INTERACTIVE or cmd.name.endswith("-edit"):
            continue
        out.append((cmd.name, [f"--{o.name}" for o in cmd.opts]))
    return sorted(out)


@st.composite
def virsh_words(draw: st.DrawFn) -> list[str]:
    name, opts = draw(st.sampled_from(_commands()))
    words = [name]
    for _ in range(draw(st.integers(0, 5))):
        words.append(draw(st.one_of(st.sampled_from(opts or ["--x"]), _value, st.just("test"),
                                    st.just("--"), st.sampled_from(opts or ["--x"]).map(lambda o: o + "="))))
    return [w.replace("\x00", "") for w in words]


@FUZZ
@given(virsh_words())
def test_virsh_commands_end_in_a_clean_error(words: list[str]) -> None:
    from pyvirt.cli.context import Ctl
    from pyvirt.cli.run import run_words

    COUNTS["virsh command lines (test:///default)"] += 1
    ctl = Ctl("test:///default", quiet=True)
    ctl.out, ctl.err = io.StringIO(), io.StringIO()
    try:
        run_words(ctl, [words])
    finally:
        ctl.close()
