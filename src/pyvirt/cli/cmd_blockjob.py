"""Block jobs as virsh 9.0 runs them: blockpull, blockcommit, blockcopy start a job and, with
--wait (or --pivot/--finish/--keep-overlay), poll it as virshBlockJobWait does (every half second,
progress on stderr with --verbose, the job aborted after --timeout seconds), then print virsh's
closing line; blockjob shows (--info), aborts (--abort), pivots (--pivot) or re-limits
(--bandwidth) the disk's job.
"""

from __future__ import annotations

import sys
import time

from pyvirt.cli.cmd_lifecycle import read_file
from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.grammar import Parsed

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


def _timeout(p: Parsed) -> int:
    """vshCommandOptTimeoutToMs, in seconds (0: none): an unsigned number, not 0, whose
    milliseconds fit an int."""
    from pyvirt.cli.values import option_int

    seconds = option_int(p, "timeout", unsigned=True)
    if seconds is None:
        return 0
    if seconds == 0 or seconds > 0x7FFFFFFF // 1000:
        raise CmdError(f"Numeric value '{seconds}' for <timeout> option is malformed or out of range")
    return seconds


def _need_blocking(p: Parsed, blocking: bool, finish: str) -> None:
    """virsh: --verbose and --async only mean something when the command waits (`finish`: the
    command's flag that ends the job, --keep-overlay or --finish)."""
    if not blocking:
        for opt in ("verbose", "async"):
            if p.bool(opt):
                raise CmdError(f"--{opt} requires at least one of --timeout, --wait, --pivot, or --{finish}")


def _progress(info: dict) -> int:
    end = int(info.get("end", 0))
    return 100 if end == 0 else int(int(info.get("cur", 0)) * 100 // end)


def _wait(ctl: Ctl, p: Parsed, key: str, disk: str, until_ready: bool) -> str:
    """virshBlockJobWait: the job's final state ('ready' for a mirror that reached it)."""
    timeout = _timeout(p)
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
    """virsh's cmdBlockPull: --verbose and --async need --wait; the options read before the domain."""
    for opt in ("verbose", "async"):  # VSH_REQUIRE_OPTION
        if p.bool(opt) and not p.bool("wait"):
            raise CmdError(f"Option --wait is required by option --{opt}")
    p.str("path"), p.str("base")  # an empty one is refused here, as virsh reads them
    bandwidth = _bandwidth(p)
    _timeout(p)
    key, disk = _start(ctl, p)
    ctl.conn.block_pull(key, disk, bandwidth=bandwidth, base=p.str("base"), keep_relative=p.bool("keep-relative"))
    if not (p.bool("wait") or _timeout(p)):
        ctl.extra("Block Pull started")
        return True
    return _ended(ctl, "Pull", _wait(ctl, p, key, disk, until_ready=False))


def cmd_blockcommit(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdBlockCommit: every option checked, in its order, before the domain is looked up."""
    if p.bool("pivot") and p.bool("keep-overlay"):
        raise CmdError("Options --pivot and --keep-overlay are mutually exclusive")
    p.str("path"), p.str("base"), p.str("top")  # an empty one is refused here, as virsh reads them
    bandwidth = _bandwidth(p)
    active = p.bool("active") or p.bool("pivot") or p.bool("keep-overlay")
    timeout = _timeout(p)  # checked whatever else asks to wait, as virsh reads it
    blocking = bool(p.bool("wait") or timeout or p.bool("pivot") or p.bool("keep-overlay"))
    _need_blocking(p, blocking, "keep-overlay")
    key, disk = _start(ctl, p)
    ctl.conn.block_commit(key, disk, active=active, bandwidth=bandwidth, base=p.str("base"), top=p.str("top"),
                          shallow=p.bool("shallow"), delete=p.bool("delete"), keep_relative=p.bool("keep-relative"))
    if not blocking:
        ctl.extra("Active Block Commit started" if active else "Block Commit started")
        return True
    outcome = _wait(ctl, p, key, disk, until_ready=active)
    if outcome == "ready":
        return _in_sync(ctl, p, key, disk, "keep-overlay", "Commit complete, overlay image kept",
                        "Now in synchronized phase")
    return _ended(ctl, "Commit", outcome)


def cmd_blockcopy(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdBlockCopy: every option checked, in its order, before the domain is looked up;
    what pyvirt does not do yet is refused after that."""
    from pyvirt.cli.values import option_int

    path, dest, xml, fmt = (p.str(k) for k in ("path", "dest", "xml", "format"))
    bandwidth = _bandwidth(p)
    option_int(p, "granularity", unsigned=True), option_int(p, "buf-size", unsigned=True)
    timeout = _timeout(p)  # checked whatever else asks to wait, as virsh reads it
    blocking = bool(p.bool("wait") or timeout or p.bool("pivot") or p.bool("finish"))
    for a, b in (("dest", "xml"), ("format", "xml"), ("blockdev", "xml"), ("pivot", "finish")):
        if p.has(a) and p.has(b):
            raise CmdError(f"Options --{a} and --{b} are mutually exclusive")
    if dest is None and xml is None:
        raise CmdError("need either --dest or --xml")
    _need_blocking(p, blocking, "finish")
    if xml is not None:
        read_file(xml)
    key, disk = _start(ctl, p)
    for opt in ("xml", "blockdev", "granularity", "buf-size", "transient-job", "synchronous-writes",
                "print-xml"):
        if p.has(opt):
            raise CmdError(f"pyvirt's blockcopy does not support --{opt} yet")
    ctl.conn.block_copy(key, disk, dest or "", format=fmt,
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
