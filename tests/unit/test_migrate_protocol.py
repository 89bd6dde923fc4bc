"""pyvirt.client.migrate, the protocol both `pyvirt migrate` and the source daemon (--p2p) run,
against recording fakes: the phases in libvirt's order, what each side is told when a phase
fails, and the option rules."""

from __future__ import annotations

from typing import Any

import pytest

from pyvirt.api import JobInfo, MigrationSource, MigrationTarget, PyvirtError
from pyvirt.client.migrate import MigrateOptions, migrate


class Side:
    """A Connection that records calls; `fail` names the call that raises."""

    def __init__(self, log: list[str], who: str, fail: str | None = None, job: int = 3) -> None:
        self.log, self.who, self.fail, self.job = log, who, fail, job

    def _record(self, name: str, **kwargs: Any) -> None:
        shown = ",".join(f"{k}={v}" for k, v in sorted(kwargs.items()) if v not in (None, False, 0))
        self.log.append(f"{self.who}.{name}({shown})")
        if name == self.fail:
            raise PyvirtError(f"{name} failed")

    def migrate_begin(self, dom: str, **kw: Any) -> MigrationSource:
        self._record("begin", **kw)
        return MigrationSource("<domain/>")

    def migrate_prepare(self, xml: str, **kw: Any) -> MigrationTarget:
        self._record("prepare", tls=kw["tls"], listen=kw["listen_address"], tunnelled=kw["tunnelled"])
        return MigrationTarget("vm", "tcp:0.0.0.0:49152")

    def migrate_perform(self, dom: str, uri: str, **kw: Any) -> None:
        self._record("perform", uri=uri, tls=kw["tls"])

    def get_job_info(self, dom: str, completed: bool = False, keep_completed: bool = False) -> JobInfo:
        return JobInfo(self.job, error=None if self.job == 3 else "boom")

    def migrate_finish(self, name: str, **kw: Any) -> None:
        if kw.get("stats"):  # the source's completed job, handed on (libvirt's Finish cookie)
            kw["stats"] = f"job{kw['stats']['type']}"
        self._record("finish", **kw)

    def migrate_confirm(self, dom: str, **kw: Any) -> None:
        self._record("confirm", **kw)


def _run(src_fail: str | None = None, dst_fail: str | None = None, job: int = 3, tunnel: Any = None,
         **opts: Any) -> tuple[list[str], BaseException | None]:
    log: list[str] = []
    error = None
    try:
        migrate(Side(log, "src", src_fail, job), Side(log, "dst", dst_fail), "vm",  # type: ignore[arg-type]
                MigrateOptions(live=True, **opts), dest_host="dst.example", tunnel=tunnel)
    except PyvirtError as exc:
        error = exc
    return log, error


def test_the_phases_in_order_and_the_wildcard_reached_through_the_uri_host() -> None:
    log, error = _run(tls=True, persistent=True)
    assert error is None
    assert log == ["src.begin(tls=True)", "dst.prepare(listen=0.0.0.0,tls=True)",
                   "src.perform(tls=True,uri=tcp:dst.example:49152)", "dst.finish(persistent=True,stats=job3)",
                   "src.confirm()"]


def test_a_failed_job_cancels_both_sides() -> None:
    log, error = _run(job=4)
    assert error is not None and "boom" in error.message
    assert log[-2:] == ["src.confirm(cancelled=True)", "dst.finish(cancelled=True)"]


def test_a_failed_perform_drops_what_the_destination_prepared() -> None:
    log, error = _run(src_fail="perform")
    assert error is not None and error.message == "perform failed"
    assert log[-1] == "dst.finish(cancelled=True)" and "src.confirm(cancelled=True)" not in log


def test_a_failed_finish_resumes_the_source() -> None:
    log, error = _run(dst_fail="finish")
    assert error is not None and error.message == "finish failed"
    assert "src.confirm(cancelled=True)" in log and "src.confirm()" not in log


def test_a_tunnelled_migration_performs_into_the_tunnel_the_hook_opened() -> None:
    opened: list[str] = []
    log, error = _run(tunnelled=True, tunnel=lambda target: opened.append(target.name) or "fd:pyvirt-tunnel")
    assert error is None and opened == ["vm"]
    assert log[1:3] == ["dst.prepare(listen=0.0.0.0,tunnelled=True)", "src.perform(uri=fd:pyvirt-tunnel)"]


@pytest.mark.parametrize(("opts", "why"), [
    ({"tunnelled": True, "copy_storage": "all"}, "--copy-storage-* with --tunnelled"),
    ({"tunnelled": True, "tls": True}, "--tls with --tunnelled"),
    ({"tunnelled": True, "uri": "tcp://127.0.0.1"}, "not supported by tunnelled migration"),
    ({"offline": True, "persistent": True}, "mutually exclusive"),
    ({"tls_destination": "dst.example"}, "--tls-destination needs --tls"),
    ({"bandwidth": -1}, "Invalid bandwidth"),
])
def test_option_rules(opts: dict[str, Any], why: str) -> None:
    log, error = _run(**opts)
    assert error is not None and why in error.message and log == []


def test_migration_job_statistics_as_libvirts_typed_parameters() -> None:
    """qemuDomainMigrationJobDataToParams' names and order (the job-completed event, D-Bus
    GetJobStats); downtime and iteration only when known, errmsg only for a failed job."""
    done = JobInfo(3, 5, 1200, 300, 300, 0, 200, 200, 0, 10, 100, 100, 0, downtime=50, iteration=2)
    assert list(done.migration_params()) == [
        "operation", "time_elapsed", "downtime", "data_total", "data_processed", "data_remaining", "memory_total",
        "memory_processed", "memory_remaining", "memory_bps", "memory_iteration", "disk_total", "disk_processed",
        "disk_remaining"]
    assert done.migration_params()["memory_total"] == 200 and done.migration_params()["operation"] == 5
    failed = JobInfo(4, 5, 10, error="boom").migration_params()
    assert "downtime" not in failed and failed["errmsg"] == "boom"
