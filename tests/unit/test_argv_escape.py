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
