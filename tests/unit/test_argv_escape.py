"""Escaping and rendering of QEMU option values (the one comma-escaping function)."""

from __future__ import annotations

import json

from pyvirt.qemu.argv_format import format_args, shell_quote
from pyvirt.qemu.escape import escape_value, json_value, kv_option


def test_commas_doubled() -> None:
    assert escape_value("a,b,,c") == "a,,b,,,,c"


def test_kv_option_escapes_head_and_values() -> None:
    assert kv_option("guest=x", []) == "guest=x"
    assert kv_option("pc", [("usb", False), ("x", None), ("dump-guest-core", "off")]) == \
        "pc,usb=off,dump-guest-core=off"
    assert kv_option(None, {"guest": "foo=1,bar=2", "debug-threads": True}) == \
        "guest=foo=1,,bar=2,debug-threads=on"
    assert kv_option("file", [("path", "/tmp/a,b")]) == "file,path=/tmp/a,,b"


def test_json_value_is_compact_and_ordered() -> None:
    text = json_value({"driver": "virtio-blk-pci", "bus": "pci.0", "addr": "0x2", "x": True})
    assert text == '{"driver":"virtio-blk-pci","bus":"pci.0","addr":"0x2","x":true}'
    assert json.loads(json_value({"path": "/tmp/a,b"}))["path"] == "/tmp/a,b"


def test_shell_quote_only_when_needed() -> None:
    assert shell_quote("/usr/bin/qemu") == "/usr/bin/qemu"
    assert shell_quote('{"a":1}') == "'{\"a\":1}'"
    assert shell_quote("it's") == "'it'\\''s'"
    assert shell_quote("") == "''"


def test_format_args_layout() -> None:
    text = format_args(["/usr/bin/qemu-system-x86_64", "-name", "guest=a", "-S", "-m", "214"],
                       {"LC_ALL": "C", "HOME": "/tmp/x y"})
    assert text == ("LC_ALL=C \\\nHOME='/tmp/x y' \\\n/usr/bin/qemu-system-x86_64 \\\n"
                    "-name guest=a \\\n-S \\\n-m 214\n")


def test_kv_option_refuses_keys_that_would_inject_options() -> None:
    """Keys cannot be escaped: ``,`` or ``=`` in a key must be refused, never written."""
    import pytest

    from pyvirt.qemu.escape import FLAG, UnsafeKeyError

    for bad in ("sse2,model-id=evil", "a=b", "", "x y", "k\n"):
        with pytest.raises(UnsafeKeyError):
            kv_option("qemu64", [(bad, True)])
        with pytest.raises(UnsafeKeyError):
            kv_option("qemu64", [(bad, FLAG)])
    assert kv_option("qemu64", [("hv-crash", FLAG), ("pmu", False)]) == "qemu64,hv-crash,pmu=off"


def test_cpu_feature_name_injection_refused_at_parse() -> None:
    """issue 10 defect 6: ``<feature name='sse2,model-id=...'>`` changed the guest's CPU model
    name; the model now refuses names outside libvirt's featureName pattern, naming the element."""
    import pytest

    from pyvirt.xml import parse_domain
    from pyvirt.xml.errors import XMLError

    xml = ("<domain type='qemu'><name>g</name><memory>65536</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os><cpu mode='custom'><model>qemu64</model>"
           "<feature policy='require' name='sse2,model-id=pwned'/></cpu><devices/></domain>")
    with pytest.raises(XMLError, match=r"attribute 'name' of <feature>.*featureName"):
        parse_domain(xml)
    with pytest.raises(XMLError, match="diskTargetDev"):
        parse_domain(xml.replace("<feature policy='require' name='sse2,model-id=pwned'/>", "")
                     .replace("<devices/>", "<devices><disk type='file' device='disk'><source file='/a'/>"
                              "<target dev='vda,x=1' bus='virtio'/></disk></devices>"))
