"""blockcommit/blockcopy read --timeout before anything starts, as virsh does: a bad value is
refused even when --wait (or --pivot) already asks to wait, so no job is started that the
command then abandons with an error."""

from __future__ import annotations

import pytest

from tests.unit.test_cli_commands import _run_on


@pytest.mark.parametrize("command", ["blockcommit test vda", "blockcopy test vda --dest /tmp/copy.img"])
@pytest.mark.parametrize("timeout", ["0", "-1", "abc", "2147484"])
def test_a_bad_timeout_is_refused_before_the_job_even_with_wait(command: str, timeout: str) -> None:
    _, err, ok = _run_on("test:///default", f"{command} --wait --pivot --timeout {timeout}")
    assert not ok and err == f"error: Numeric value '{timeout}' for <timeout> option is malformed or out of range\n"
