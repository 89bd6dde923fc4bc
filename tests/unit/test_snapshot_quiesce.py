"""snapshot-create --quiesce's freeze/thaw bracket (daemon/snapshots.py `_quiesced`) with a fake
agent: the freeze comes before the disk snapshot, the thaw after it whether the snapshot worked
or not, no thaw when nothing was frozen, and agent errors surface as they are.  The real qemu-ga
is exercised in tests/integration/test_guest_agent.py (test_quiesced_disk_only_snapshot)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from pyvirt.api import DomainState, ErrorCode, PyvirtError, agent_not_configured, agent_unresponsive
from pyvirt.daemon.snapshots import SnapshotsMixin


class FakeDriver(SnapshotsMixin):
    """Only the agent calls `_quiesced` makes, recorded in order with the snapshot's own step."""

    def __init__(self, frozen: int = 1, freeze_error: PyvirtError | None = None,
                 thaw_error: PyvirtError | None = None) -> None:
        self.calls: list[str] = []
        self.frozen, self.freeze_error, self.thaw_error = frozen, freeze_error, thaw_error

    async def fs_freeze(self, dom: str, mountpoints: list[str] | None = None) -> int:
        self.calls.append(f"freeze {dom}")
        if self.freeze_error is not None:
            raise self.freeze_error
        return self.frozen

    async def fs_thaw(self, dom: str, mountpoints: list[str] | None = None) -> int:
        self.calls.append(f"thaw {dom}")
        if self.thaw_error is not None:
            raise self.thaw_error
        return self.frozen


def _rec(state: DomainState = DomainState.RUNNING) -> Any:
    return SimpleNamespace(name="vm", state=int(state), active=True)


def _snapshot(driver: FakeDriver, quiesce: bool = True, rec: Any = None, fail: Exception | None = None) -> None:
    async def run() -> None:
        async with driver._quiesced(rec or _rec(), quiesce):
            driver.calls.append("snapshot")
            if fail is not None:
                raise fail
    asyncio.run(run())


def test_freeze_before_and_thaw_after_the_snapshot() -> None:
    driver = FakeDriver()
    _snapshot(driver)
    assert driver.calls == ["freeze vm", "snapshot", "thaw vm"]


def test_without_quiesce_the_agent_is_not_asked() -> None:
    driver = FakeDriver(freeze_error=agent_not_configured())
    _snapshot(driver, quiesce=False)
    assert driver.calls == ["snapshot"]


def test_a_failed_snapshot_still_thaws_and_reports_its_own_error() -> None:
    driver = FakeDriver(thaw_error=agent_unresponsive())
    with pytest.raises(PyvirtError, match="overlay exists"):
        _snapshot(driver, fail=PyvirtError("overlay exists", ErrorCode.CONFIG_UNSUPPORTED))
    assert driver.calls == ["freeze vm", "snapshot", "thaw vm"]


def test_a_thaw_error_fails_an_otherwise_good_snapshot() -> None:
    driver = FakeDriver(thaw_error=agent_unresponsive())
    with pytest.raises(PyvirtError, match="Guest agent is not responding") as err:
        _snapshot(driver)
    assert err.value.code == ErrorCode.AGENT_UNRESPONSIVE
    assert driver.calls == ["freeze vm", "snapshot", "thaw vm"]


def test_nothing_frozen_nothing_thawed() -> None:
    driver = FakeDriver(frozen=0)
    _snapshot(driver)
    assert driver.calls == ["freeze vm", "snapshot"]


@pytest.mark.parametrize("error", [agent_not_configured(), agent_unresponsive()])
def test_an_agent_that_cannot_freeze_stops_the_snapshot_before_it_starts(error: PyvirtError) -> None:
    driver = FakeDriver(freeze_error=error)
    with pytest.raises(PyvirtError) as err:
        _snapshot(driver)
    assert err.value is error
    assert driver.calls == ["freeze vm"]


def test_a_paused_guest_is_refused_without_asking_its_agent() -> None:
    driver = FakeDriver()
    with pytest.raises(PyvirtError, match="domain is not running") as err:
        _snapshot(driver, rec=_rec(DomainState.PAUSED))
    assert err.value.code == ErrorCode.OPERATION_INVALID
    assert driver.calls == []
