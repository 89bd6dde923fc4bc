"""virsh's number readers: strtoul as libvirt's virStrToLong_* read it, vshCommandOptScaledInt
with virScaleInteger's reported error, --pass-fds, and pyvirtd's block-job bounds and refusals."""

from __future__ import annotations

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.cli.context import CmdError
from pyvirt.cli.grammar import parse_command
from pyvirt.cli.table import lookup
from pyvirt.cli.values import pass_fds, scaled_bytes, strtoul
from pyvirt.daemon.blockjobs import check_bandwidth


def test_strtoul_reads_c_numbers_and_wraps_only_when_asked() -> None:
    assert strtoul(" +12x", 0, 10, 64) == (12, 4)
    assert strtoul("0x1f.", 0, 16, 32) == (31, 4)
    assert strtoul("0xg", 0, 16, 32) == (0, 1)  # strtoul stops after the 0
    assert strtoul("-5", 0, 10, 64) is None
    assert strtoul("-5", 0, 10, 64, wrap=True) == (2**64 - 5, 2)
    assert strtoul("4294967296", 0, 10, 32) is None
    assert strtoul("", 0, 10, 64) is None


def test_scaled_bytes_reports_virscaleinteger_after_virsh_line() -> None:
    assert scaled_bytes("2M", "size") == 2 << 20
    assert scaled_bytes("3", "size") == 3 << 10
    with pytest.raises(CmdError) as exc:
        scaled_bytes("1x", "size")
    assert exc.value.messages[1:] == ["invalid argument: unknown suffix 'x'"]
    with pytest.raises(CmdError) as exc:
        scaled_bytes("5G", "pagesize", limit=0xFFFFFFFF)
    assert exc.value.messages[1:] == ["numerical overflow: value too large: 5G"]
    assert exc.value.then("more").messages[1:] == ["more", "numerical overflow: value too large: 5G"]
    with pytest.raises(CmdError) as exc:
        scaled_bytes("-1", "size")
    assert len(exc.value.messages) == 1


def test_daemon_bandwidth_bound_is_qemu_int64_in_mib() -> None:
    check_bandwidth(((2**63 - 1) >> 20) << 20)
    for bad in (-1, (2**64 - 5) << 20):
        with pytest.raises(PyvirtError) as exc:
            check_bandwidth(bad)
        assert exc.value.code == ErrorCode.OVERFLOW


def test_pass_fds_reads_c_ints_separated_by_commas() -> None:
    def fds(text: str) -> list[int]:
        return pass_fds(parse_command(["start", "test", f"--pass-fds={text}"], lookup))

    assert fds("3, 4,-1,+5") == [3, 4, -1, 5]
    assert fds("") == []
    for bad in ("x", "3,", "5 ", "2147483648"):
        with pytest.raises(CmdError, match="Unable to parse FD number"):
            fds(bad)


def test_daemon_block_commit_refuses_libvirts_other_choices_by_name() -> None:
    """pyvirtd commits the active image into the bottom of its chain only: --base, --top,
    --shallow, --delete and --keep-relative reach it and are refused, before any lookup."""
    import asyncio

    from pyvirt.daemon.blockjobs import BlockJobsMixin

    for kwargs, word in (({"base": "b"}, "--base"), ({"shallow": True}, "--shallow"),
                         ({"keep_relative": True}, "--keep-relative")):
        with pytest.raises(PyvirtError, match=word) as exc:
            asyncio.run(BlockJobsMixin.block_commit(None, "d", "vda", **kwargs))  # type: ignore[arg-type]
        assert exc.value.code == ErrorCode.OPERATION_UNSUPPORTED


def test_start_with_pass_fds_keeps_reset_nvram() -> None:
    """virsh's start hands --reset-nvram to virDomainCreateWithFiles too: libvirt 9.0's test
    driver refuses it there as in start (it was dropped, and the guest started)."""
    from tests.unit.test_cli_commands import _run_on

    out, err, ok = _run_on("test:///default", "destroy test; start test --pass-fds 0 --reset-nvram")
    assert not ok and "started" not in out
    assert err == ("error: Failed to start domain 'test'\n"
                   "error: unsupported flags (0x20) in function testDomainCreateWithFlags\n")


def test_vol_size_reads_as_virsh_vshvolsize() -> None:
    """vol-create-as / vol-resize sizes: virStrToLong_ullp then virScaleInteger on exactly the
    rest, so a blank between number and unit, or after it, is an unknown suffix (virsh 9.0
    refuses '1 G' and '5 '; pyvirt made 1 GiB of the first), and '+5' or ' 5' are 5."""
    from pyvirt.cli.cmd_vol import vol_size

    assert vol_size("1G") == 1 << 30
    assert vol_size(" 5") == 5 and vol_size("+5") == 5 and vol_size("7KiB") == 7168
    for text, suffix in (("1 G", " G"), ("5 ", " "), ("0x10", "x10"), ("1.5G", ".5G"), ("1e3", "e3")):
        with pytest.raises(CmdError) as exc:
            vol_size(text)
        assert exc.value.messages == [f"Malformed size {text}", f"invalid argument: unknown suffix '{suffix}'"]
    for text in ("-1", "99999999999999999999999", ""):
        with pytest.raises(CmdError) as exc:
            vol_size(text)
        assert exc.value.messages == [f"Malformed size {text}"]
    with pytest.raises(CmdError) as exc:
        vol_size("17EiB")
    assert exc.value.messages == ["Malformed size 17EiB", "numerical overflow: value too large: 17EiB"]


def test_memtune_sizes_read_as_virsh_memtune_get_size() -> None:
    """virshMemtuneGetSize: virStrToLong_ll, negative is unlimited, virScaleInteger on exactly
    the rest up to LLONG_MAX bytes.  pyvirt stripped blanks ('5 ' was 5 KiB, virsh refuses the
    suffix ' ') and reported a long long overflow as an unknown suffix ''."""
    from tests.unit.test_cli_commands import _run_on

    def hard_limit(text: str) -> tuple[str, str]:
        out, err, _ = _run_on("test:///default", f"memtune test --hard-limit '{text}'; memtune test")
        return next((line for line in out.splitlines() if line.startswith("hard_limit")), ""), err

    head = "error: Unable to parse integer parameter hard-limit\n"
    assert hard_limit("5 ")[1] == head + "error: invalid argument: unknown suffix ' '\n"
    assert hard_limit("99999999999999999999")[1] == head
    assert hard_limit("9223372036854775807G")[1] == head + (
        "error: numerical overflow: value too large: 9223372036854775807G\n")
    assert hard_limit("-5")[0].split()[-1] == "unlimited"
    assert hard_limit(" +5M")[0].split()[-1] == "5120"
