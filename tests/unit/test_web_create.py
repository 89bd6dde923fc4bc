"""The web UI's "create guest" and "clone" (pyvirt.web.create): form -> pyvirt install's command
line, and the refusals that keep a form field from adding options the form does not show."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pyvirt.api import PyvirtError
from pyvirt.client import connect
from pyvirt.web.app import make_app
from pyvirt.web.auth import Auth
from pyvirt.web.backend import Backend
from pyvirt.web.create import install_argv
from pyvirt.web.guard import Guard

URI = "test:///default"
BASE = {"name": "g1", "memory": 256}


def print_xml(argv: list[str]) -> str:
    """What pyvirt install builds for these arguments (--print-xml: nothing is created)."""
    out = subprocess.run([sys.executable, "-m", "pyvirt.cli.install", *argv, "--print-xml"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_every_source_makes_what_pyvirt_install_makes(tmp_path) -> None:
    disk = tmp_path / "d.img"
    disk.write_bytes(bytes(1 << 20))
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"k")
    iso = tmp_path / "x.iso"
    iso.write_bytes(bytes(2048))
    xml = print_xml(install_argv(URI, {**BASE, "source": "disk", "disk": str(disk)}))
    assert str(disk) in xml and "<name>g1</name>" in xml
    xml = print_xml(install_argv(URI, {**BASE, "source": "kernel", "kernel": str(kernel), "initrd": str(kernel),
                                       "cmdline": "console=ttyS0 panic=-1"}))
    assert "<cmdline>console=ttyS0 panic=-1</cmdline>" in xml and "<kernel>" in xml
    argv = install_argv(URI, {**BASE, "source": "iso", "iso": str(iso), "disk_size": 1})
    assert f"--cdrom={iso}" in argv and "--disk=size=1" in argv
    assert "--pxe" in install_argv(URI, {**BASE, "source": "pxe", "disk_size": 2})
    argv = install_argv(URI, {**BASE, "source": "cloud", "disk": str(disk), "ssh_key": "ssh-ed25519 AAAA x@y",
                              "root_password": True}, key_file="/k.pub")
    assert '--cloud-init=root-password-generate=yes,root-ssh-key="/k.pub"' in argv


def test_sub_option_values_stay_exactly_the_fields_value(tmp_path) -> None:
    """Each field inside a virt-install sub-option is quoted (install.subopts.quote): a comma
    adds no sub-option, and quotes or backslashes do not change the value.  An unquoted
    "/x/a'b'.img" was read by virt-install's shlex grammar as /x/ab.img, another file."""
    odd = tmp_path / "it's a,b"
    odd.mkdir()
    disk = odd / "a'b'.img"
    disk.write_bytes(bytes(1 << 20))
    (odd / "ab.img").write_bytes(bytes(1 << 20))  # what the unquoted value named
    kernel = odd / 'vm"linuz\\'
    kernel.write_bytes(b"k")
    cmdline = 'console=ttyS0 a\\b x="1,2",initrd=/etc/shadow'
    xml = print_xml(install_argv(URI, {**BASE, "source": "kernel", "kernel": str(kernel), "disk": str(disk),
                                       "cmdline": cmdline}))
    from lxml import etree

    dom = etree.fromstring(xml.encode())
    assert dom.xpath("devices/disk/source/@file") == [str(disk)]
    assert dom.findtext("os/cmdline") == cmdline and dom.find("os/initrd") is None
    assert dom.findtext("os/kernel") == str(kernel)


@pytest.mark.parametrize(("form", "field"), [
    ({"source": "disk", "disk": "/a", "osinfo": "linux2022,require=off"}, "osinfo"),
    ({"source": "disk", "disk": "/a", "osinfo": "name=win11"}, "osinfo"),
    ({"source": "iso", "iso": "/x.iso"}, "disk_size"),
    ({"source": "cloud", "disk": "/a"}, "ssh_key"),
    ({"source": "disk"}, "disk"),
    ({"source": "floppy"}, "source"),
    ({"source": "disk", "disk": "/a", "extra": "1"}, "extra"),
    ({"source": "disk", "disk": "/a", "memory": "256"}, "memory"),
    ({"source": "disk", "disk": "/a", "network": "default\n--debug"}, "network"),
])
def test_bad_fields_are_refused_by_name(form: dict, field: str) -> None:
    with pytest.raises(PyvirtError, match=f"invalid argument: {field}:"):
        install_argv(URI, {**BASE, **form}, key_file="/k")


def test_a_name_that_looks_like_an_option_stays_a_value() -> None:
    argv = install_argv(URI, {**BASE, "name": "--debug", "source": "kernel", "kernel": "/k"})
    assert "--name=--debug" in argv and "--debug" not in argv


async def streamed(resp) -> tuple[list[str], dict]:
    """The NDJSON answer of /api/create or /api/clone: (output lines, final object)."""
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/x-ndjson")
    msgs = [json.loads(line) for line in (await resp.text()).splitlines()]
    return [m["line"] for m in msgs[:-1]], msgs[-1]


def test_create_endpoint_streams_pyvirt_install(tmp_path) -> None:
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"k")

    async def main() -> None:
        auth = Auth(token="t")
        app = make_app(Backend(URI, lambda: connect(URI)), auth, Guard(auth, None, tls=False))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await client.get("/login", params={"token": "t"})
            csrf = (await (await client.get("/api/session")).json())["csrf"]
            lines, final = await streamed(await client.post(
                "/api/create", json={**BASE, "source": "kernel", "kernel": str(kernel)}, headers={"X-CSRF-Token": csrf}))
            assert "Domain creation completed." in lines  # each line came as it was printed
            assert "Domain creation completed" in final["result"]["output"]
            _, taken = await streamed(await client.post(
                "/api/create", json={**BASE, "name": "test", "source": "kernel", "kernel": str(kernel)},
                headers={"X-CSRF-Token": csrf}))
            assert "test" in taken["error"]["message"] and "result" not in taken
            refused = await client.post("/api/create", json={**BASE, "source": "disk", "disk": "/a\n--debug"},
                                        headers={"X-CSRF-Token": csrf})
            assert refused.status == 400 and "disk" in (await refused.json())["error"]["message"]
            clone = await client.post("/api/clone", json={"original": "test", "name": "c", "bogus": 1},
                                      headers={"X-CSRF-Token": csrf})
            assert clone.status == 400 and "bogus" in (await clone.json())["error"]["message"]
    asyncio.run(main())


def test_os_defaults_are_what_pyvirt_install_picks(tmp_path) -> None:
    """The form's OS defaults (GET /api/osinfo/{os}) are the ones the engine applies when the
    command line leaves them out: checked against pyvirt install's own XML."""
    from pyvirt.web.create import os_defaults

    d = os_defaults("linux2022", "x86_64")
    assert d["firmware"] == "bios" and not d["tpm"] and d["memory_mib"] and d["vcpus"]
    disk = tmp_path / "d.img"
    disk.write_bytes(bytes(1 << 20))
    xml = print_xml(["--connect", URI, "--name=osd", "--osinfo=linux2022", "--import", f"--disk=path={disk}",
                     "--noautoconsole", "--graphics=none"])
    assert f"<currentMemory>{d['memory_mib'] * 1024}</currentMemory>" in xml, xml  # KiB
    assert f"<vcpu>{d['vcpus']}</vcpu>" in xml, xml
    win = os_defaults("win11", "x86_64")
    assert win["firmware"] == "efi" and win["tpm"]
    for bad in ("nosuch-os", "linux2022,require=off", ""):
        with pytest.raises(PyvirtError, match="unknown operating system"):
            os_defaults(bad, "x86_64")

    async def body() -> None:
        auth = Auth(token="t")
        async with TestClient(TestServer(make_app(Backend(URI, lambda: connect(URI)), auth, Guard(auth, None, False)),
                                         host="127.0.0.1")) as client:
            await client.get("/login", params={"token": "t"}, allow_redirects=False)
            got = await (await client.get("/api/osinfo/linux2022")).json()
            assert got["result"]["memory_mib"] == d["memory_mib"]
            assert (await client.get("/api/osinfo/nosuch-os")).status == 400
    asyncio.run(body())
