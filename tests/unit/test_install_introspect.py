"""``--OPTION=?`` lists sub-options as virt-install 4.1 does (pyvirt.install.introspect):
primary names only, alternations spelled out, clearxml/xpath on the XML options, virtinst's
order, options printed in its parser order; virt-xml and virt-clone answer --version."""

from __future__ import annotations

import re

import pytest


def _listing(capsys: pytest.CaptureFixture[str], *argv: str, tool: str = "install") -> list[str]:
    if tool == "install":
        from pyvirt.cli.install import main
    else:
        from pyvirt.cli.xml import main
    assert main(list(argv)) == 0
    return capsys.readouterr().out.splitlines()


def test_disk_listing_order_and_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    out = _listing(capsys, "--disk=?")
    names = [ln.strip() for ln in out[1:] if ln.strip()]
    assert out[0] == "--disk options:"
    assert names[0] == "clearxml"
    first_other = next(i for i, n in enumerate(names) if not n.startswith(("clearxml", "address.", "xpath")))
    assert all(n.startswith("address.") for n in names[1:first_other - 4])
    assert names[first_other - 4:first_other] == [f"xpath[0-9]*.{k}" for k in ("create", "delete", "set", "value")]
    assert names[first_other:] == sorted(names[first_other:])  # plain string order
    assert "driver.name" in names and "driver_name" not in names  # an alias is not listed
    assert "perms" not in names  # read before virtinst's parser runs


def test_alternations_spelled_out_and_catch_alls_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    names = [ln.strip() for ln in _listing(capsys, "--clock", "help")[1:] if ln.strip()]
    assert {"pit_tickpolicy", "rtc_tickpolicy", "hpet_present", "kvmclock_present"} <= set(names)
    assert not [n for n in names if "(" in n or "|" in n]
    sysinfo = [ln.strip() for ln in _listing(capsys, "--sysinfo=?")[1:] if ln.strip()]
    assert not [n for n in sysinfo if ".*" in n] and "bios.vendor" in sysinfo


def test_options_printed_in_parser_order_with_their_own_names(capsys: pytest.CaptureFixture[str]) -> None:
    out = _listing(capsys, "--panic", "help", "--dis=?", "--check=help", "--osinfo", "?",
                   "--security=?")
    heads = [ln for ln in out if ln.endswith(" options:")]
    assert heads == ["--disk options:", "--panic options:", "--seclabel options:",
                     "--check options:", "--os-variant options:"]


def test_memory_has_clearxml_but_no_xpath(capsys: pytest.CaptureFixture[str]) -> None:
    names = [ln.strip() for ln in _listing(capsys, "--memory=?")[1:] if ln.strip()]
    assert names[0] == "clearxml" and not [n for n in names if n.startswith("xpath")]


def test_virt_xml_lists_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    assert _listing(capsys, "--network=?", tool="xml") == _listing(capsys, "--network=?")


@pytest.mark.parametrize("tool", ["xml", "clone"])
def test_version(capsys: pytest.CaptureFixture[str], tool: str) -> None:
    import importlib
    main = importlib.import_module(f"pyvirt.cli.{tool}").main
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == "4.1.0\n"


def test_virt_xml_help_has_groups_and_texts(capsys: pytest.CaptureFixture[str]) -> None:
    """virt-xml's --help: its description, groups and each option's help text (the XML
    options' texts shared with virt-install's, with virt-xml's edit examples)."""
    from pyvirt.cli.xml import main
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for line in ("Edit libvirt XML using command line options.", "XML actions:",
                 "Output options:", "OS options:", "XML options:", "Miscellaneous Options:",
                 "--disk cache=  (unset cache)", "--cpu host-model,clearxml=yes"):
        assert line in out, line
    assert out.index("--metadata METADATA") < out.index("--memory MEMORY") < out.index("--xml XML")
    assert "--host-device" not in out and "--list-devices" not in out


def test_osinfo_list_in_virtinst_order(capsys: pytest.CaptureFixture[str]) -> None:
    """virtinst's list_os: by each OS's first short-id, naturally, numbers newest first;
    the synthetic 'generic' among them."""
    from pyvirt.install.osinfo import list_lines
    lines = list_lines()
    assert "generic" in lines
    names = [ln.split(", ")[0] for ln in lines]
    fedoras = [n for n in names if re.fullmatch(r"fedora\d+", n)]
    assert fedoras == sorted(fedoras, key=lambda n: -int(n[6:]))
    assert names.index(["debian11", "debianbullseye"][0]) < names.index("debian10")
