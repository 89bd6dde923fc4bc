"""Block jobs as virsh 9.0 runs them: blockpull, blockcommit, blockcopy start a job and, with
--wait (or --pivot/--finish/--keep-overlay), poll it as virshBlockJobWait does (every half second,
progress on stderr with --verbose, the job aborted after --timeout seconds), then print virsh's
closing line; blockjob shows (--info), aborts (--abort), pivots (--pivot) or re-limits
(--bandwidth) the disk's job.
"""

from __future__ import annotations

import sys
import time

from pyvirt.api import ErrorCode, PyvirtError, no_support
from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number

#: virDomainBlockJobType -> virsh's label
LABELS = {1: "Block Pull", 2: "Block Copy", 3: "Block Commit", 4: "Active Block Commit"}
_MiB = 1 << 20


def _bandwidth(p: Parsed) -> int:
    """virsh's vshBlockJobOptionBandwidth, in bytes/s: a plain decimal number is MiB/s (bytes/s
    with --bytes), a negative one wrapped into an unsigned long as virsh has always done; else a
    scaled size in bytes (no wrapping), whole MiB/s without --bytes."""
    text = p.str("bandwidth")
    if text is None:
        return 0
    from pyvirt.cli.values import scaled_bytes, strtoul

    plain = strtoul(text, 0, 10, 64, wrap=True)
    if plain is not None and plain[1] == len(text):
        return plain[0] if p.bool("bytes") else plain[0] * _MiB
    value = scaled_bytes(text, "--bandwidth", 1)
    return value if p.bool("bytes") else value >> 20 << 20


def _progress(info: dict) -> int:
    end = int(info.get("end", 0))
    return 100 if end == 0 else int(int(info.get("cur", 0)) * 100 // end)


def _wait(ctl: Ctl, p: Parsed, key: str, disk: str, until_ready: bool) -> str:
    """virshBlockJobWait: the job's final state ('ready' for a mirror that reached it)."""
    timeout = number(p.str("timeout"), "timeout")
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        info = ctl.conn.block_job_info(key, disk)
        state = info.get("state", "none")
        if p.bool("verbose") and info.get("type"):
            sys.stderr.write(f"\r{LABELS.get(info['type'], 'Block Job')}: [{_progress(info):3d} %]")
            sys.stderr.flush()
        if state in ("completed", "failed", "canceled", "none") or (state == "ready" and until_ready):
            return "completed" if state == "none" else state
        if deadline is not None and time.monotonic() >= deadline:
            ctl.conn.block_job_abort(key, disk)
            return "canceled"
        time.sleep(0.5)


def _start(ctl: Ctl, p: Parsed):
    info = ctl.domain_arg(p)
    return info.uuid or info.name, p.str("path") or ""


def _ended(ctl: Ctl, word: str, outcome: str) -> bool:
    """virsh's closing line of a job that ended ('Pull complete', 'Copy aborted', ...)."""
    ctl.extra({"completed": f"\n{word} complete", "failed": f"\n{word} failed", "canceled": f"\n{word} aborted"}[outcome])
    return outcome == "completed"


def _in_sync(ctl: Ctl, p: Parsed, key: str, disk: str, finish: str, finished: str, mirroring: str) -> bool:
    """A mirroring job (active commit, copy) that reached 'ready': --pivot switches the disk to
    the new image, the `finish` flag ends the job on the old one, else it keeps mirroring."""
    if p.bool("pivot"):
        with failing("failed to pivot job for disk " + disk):
            ctl.conn.block_job_abort(key, disk, pivot=True)
        ctl.extra("\nSuccessfully pivoted")
    elif p.bool(finish):
        with failing("failed to finish job for disk " + disk):
            ctl.conn.block_job_abort(key, disk)
        ctl.extra("\n" + finished)
    else:
        ctl.extra("\n" + mirroring)
    return True


def cmd_blockpull(ctl: Ctl, p: Parsed) -> bool:
    bandwidth = _bandwidth(p)
    if p.bool("keep-relative"):
        raise CmdError("pyvirt keeps the base's name as the chain gives it: --keep-relative is not supported")
    key, disk = _start(ctl, p)
    base = p.str("base")
    try:
        ctl.conn.block_pull(key, disk, bandwidth=bandwidth, base=base)
    except PyvirtError as exc:
        if base and exc.code == ErrorCode.NO_SUPPORT:  # virsh asks virDomainBlockRebase for a partial pull
            raise no_support("virDomainBlockRebase") from None
        raise
    if not (p.bool("wait") or p.has("timeout")):
        ctl.extra("Block Pull started")
        return True
    return _ended(ctl, "Pull", _wait(ctl, p, key, disk, until_ready=False))


def cmd_blockcommit(ctl: Ctl, p: Parsed) -> bool:
    bandwidth = _bandwidth(p)
    if p.bool("pivot") and p.bool("keep-overlay"):
        raise CmdError("Options --pivot and --keep-overlay are mutually exclusive")
    for opt in ("base", "top", "shallow", "delete", "keep-relative"):
        if p.has(opt):
            raise CmdError(f"pyvirt commits the active image into the bottom of its chain: --{opt} is not "
                           "supported yet")
    active = p.bool("active") or p.bool("pivot") or p.bool("keep-overlay")
    blocking = p.bool("wait") or p.has("timeout") or p.bool("pivot") or p.bool("keep-overlay")
    key, disk = _start(ctl, p)
    ctl.conn.block_commit(key, disk, active=active, bandwidth=bandwidth)
    if not blocking:
        ctl.extra("Active Block Commit started" if active else "Block Commit started")
        return True
    outcome = _wait(ctl, p, key, disk, until_ready=active)
    if outcome == "ready":
        return _in_sync(ctl, p, key, disk, "keep-overlay", "Commit complete, overlay image kept",
                        "Now in synchronized phase")
    return _ended(ctl, "Commit", outcome)


def cmd_blockcopy(ctl: Ctl, p: Parsed) -> bool:
    if p.bool("pivot") and p.bool("finish"):
        raise CmdError("Options --pivot and --finish are mutually exclusive")
    if not p.has("dest") and not p.has("xml"):
        raise CmdError("need either --dest or --xml")
    bandwidth = _bandwidth(p)
    for opt in ("xml", "blockdev", "granularity", "buf-size", "transient-job", "synchronous-writes",
                "print-xml"):
        if p.has(opt):
            raise CmdError(f"pyvirt's blockcopy does not support --{opt} yet")
    blocking = p.bool("wait") or p.has("timeout") or p.bool("pivot") or p.bool("finish")
    key, disk = _start(ctl, p)
    ctl.conn.block_copy(key, disk, p.str("dest") or "", format=p.str("format"),
                        reuse_external=p.bool("reuse-external"), bandwidth=bandwidth, shallow=p.bool("shallow"))
    if not blocking:
        ctl.extra("Block Copy started")
        return True
    outcome = _wait(ctl, p, key, disk, until_ready=True)
    if outcome != "ready":
        _ended(ctl, "Copy", outcome)
        return False  # a copy that ended without reaching 'ready' never mirrored: virsh fails it
    return _in_sync(ctl, p, key, disk, "finish", "Successfully copied", "Now in mirroring phase")


def cmd_blockjob(ctl: Ctl, p: Parsed) -> bool:
    abort = p.bool("abort") or p.bool("async") or p.bool("pivot")
    info_wanted = p.bool("info") or p.bool("raw")
    if abort and info_wanted:
        raise CmdError("Options --abort and --info are mutually exclusive")
    if p.has("bandwidth") and (abort or info_wanted):
        raise CmdError("Options --bandwidth and --abort are mutually exclusive" if abort
                       else "Options --bandwidth and --info are mutually exclusive")
    bandwidth = _bandwidth(p)
    key, disk = _start(ctl, p)
    if abort:
        ctl.conn.block_job_abort(key, disk, pivot=p.bool("pivot"))
        return True
    if p.has("bandwidth"):
        ctl.conn.block_job_speed(key, disk, bandwidth)
        return True
    info = ctl.conn.block_job_info(key, disk)
    if info.get("state") in ("none", "completed", "failed", "canceled"):
        if not p.bool("raw"):
            ctl.extra(f"No current block job for {disk}")
        return True
    if p.bool("raw"):
        ctl.print(f" type={info['type']}\n bandwidth={info['bandwidth']}\n cur={info['cur']}\n end={info['end']}\n")
        return True
    ctl.print(f"{LABELS.get(info['type'], 'Block Job')}: [{_progress(info):3d} %]")
    if info.get("bandwidth"):
        bw = int(info["bandwidth"])
        ctl.print(f"    Bandwidth limit: {bw} bytes/s ({bw / _MiB:.3f} MiB/s)" if not p.bool("bytes")
                  else f"    Bandwidth limit: {bw} bytes/s")
    return True
