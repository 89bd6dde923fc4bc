"""``event``: wait for domain lifecycle events and print them in virsh's words."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from pyvirt.api import Event, PyvirtError
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.fmt import event_words
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number

#: virsh 9.0's event names, in its order (``event --list``); pyvirt delivers "lifecycle" and
#: _OTHER_EVENTS.
EVENT_NAMES = ("lifecycle", "reboot", "rtc-change", "watchdog", "io-error", "graphics",
               "io-error-reason", "control-error", "block-job", "disk-change", "tray-change",
               "pm-wakeup", "pm-suspend", "balloon-change", "pm-suspend-disk", "device-removed",
               "block-job-2", "tunable", "agent-lifecycle", "device-added", "migration-iteration",
               "job-completed", "device-removal-failed", "metadata-change", "block-threshold",
               "memory-failure", "memory-device-size-change")


#: the non-lifecycle domain events pyvirt delivers: their event kinds are "Domain.<name>"
_OTHER_EVENTS = ("device-added", "device-removed", "block-job", "block-job-2", "tray-change", "balloon-change",
                 "reboot", "block-threshold", "agent-lifecycle", "metadata-change", "tunable", "job-completed")
#: virshEventAgentLifecycleState / …Reason words
_AGENT_STATES = ("unknown", "connected", "disconnected")
_AGENT_REASONS = ("unknown", "domain started", "channel event")


def chosen_event(ctl: Ctl, p: Parsed, names: tuple[str, ...]) -> str | None:
    """The ``--event <type>`` of net-event, pool-event and their kin, checked against `names`;
    None once ``--list`` has printed the names instead (the command is then done)."""
    if p.bool("list"):
        ctl.print("".join(n + "\n" for n in names))
        return None
    kind = p.str("event")
    if kind is None:
        raise CmdError("either --list or --event <type> is required")
    if kind not in names:
        raise CmdError(f"unknown event type {kind}")
    return kind


def object_event_line(kind: str, what: str, words: tuple[str, ...], ident: str = "name") -> Callable[[Event], str]:
    """virsh's line for an event of a non-domain object (virshNetworkEventLifecyclePrint and its
    pool, node device and secret kin): 'lifecycle' names the event with `words`, any other kind
    (refresh, update, value-changed) is its name alone; the object is shown by its `ident`."""

    def line(ev: Event) -> str:
        who = getattr(ev, ident)
        if kind != "lifecycle":
            return f"event '{kind}' for {what} {who}"
        word = words[ev.event] if 0 <= ev.event < len(words) else "unknown"
        return f"event 'lifecycle' for {what} {who}: {word}"

    return line


def _stamp(ts: float) -> str:
    t = ts or time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}+0000"


def cmd_event(ctl: Ctl, p: Parsed) -> bool:
    if p.bool("list"):
        ctl.print("".join(n + "\n" for n in EVENT_NAMES))
        return True
    kind = p.str("event")
    if not p.bool("all") and kind is None:
        raise CmdError("one of --list, --all, or --event <type> is required")
    if kind is not None and kind not in EVENT_NAMES:
        raise CmdError(f"unknown event type {kind}")
    timeout = number(p.str("timeout"), "timeout")
    if timeout is not None and timeout <= 0:
        raise CmdError(f"Numeric value '{p.str('timeout')}' for <timeout> option is malformed or out of range")
    dom = None
    if p.str("domain"):
        info = ctl.domain(p.str("domain") or "")
        dom = info.uuid or info.name
    want = set(EVENT_NAMES) if p.bool("all") else {kind}
    kinds = ["Domain"] + [f"Domain.{name}" for name in _OTHER_EVENTS if name in want]

    def line(ev: Event) -> str | None:
        if ev.kind.startswith("Domain."):
            name = ev.kind.partition(".")[2]
            if name not in want:
                return None
            if name.startswith("block-job"):  # virshEventBlockJobPrint
                what = f"{getattr(ev, 'job', '')} for {getattr(ev, 'disk', '')} {getattr(ev, 'status', '')}"
                return f"event '{name}' for domain '{ev.name}': {what}"
            if name == "tray-change":  # virshEventTrayChangePrint
                return f"event '{name}' for domain '{ev.name}' disk {getattr(ev, 'device', '')}: " \
                       f"{('opened', 'closed')[getattr(ev, 'reason', 0) == 1]}"
            if name == "balloon-change":
                return f"event '{name}' for domain '{ev.name}': {getattr(ev, 'actual', 0)} KiB"
            if name == "reboot":
                return f"event '{name}' for domain '{ev.name}'"
            if name == "metadata-change":  # virshEventMetadataChangePrint
                from pyvirt.api import METADATA_TYPES

                kind = getattr(ev, "type", 0)
                word = METADATA_TYPES[kind] if 0 <= kind < len(METADATA_TYPES) else "unknown"
                return f"event '{name}' for domain '{ev.name}': type {word}, uri {getattr(ev, 'nsuri', '') or '<null>'}"
            if name in ("tunable", "job-completed"):  # virshEventTunablePrint, virshEventJobCompletedPrint:
                params = getattr(ev, "params", {}) or {}  # one tab-indented line per parameter
                return f"event '{name}' for domain '{ev.name}':" + "".join(
                    f"\n\t{k}: {int(v) if isinstance(v, bool) else v}" for k, v in params.items())
            if name == "block-threshold":  # virshEventBlockThresholdPrint
                return f"event '{name}' for domain '{ev.name}': dev: {getattr(ev, 'dev', '')}" \
                       f"({getattr(ev, 'path', '')}) {getattr(ev, 'threshold', 0)} {getattr(ev, 'excess', 0)}"
            if name == "agent-lifecycle":  # virshEventAgentLifecyclePrint
                state, reason = getattr(ev, "state", 0), getattr(ev, "reason", 0)
                return (f"event '{name}' for domain '{ev.name}': state: "
                        f"'{_AGENT_STATES[state] if 0 <= state < len(_AGENT_STATES) else 'unknown'}' reason: "
                        f"'{_AGENT_REASONS[reason] if 0 <= reason < len(_AGENT_REASONS) else 'unknown'}'")
            return f"event '{name}' for domain '{ev.name}': {getattr(ev, 'device', '')}"
        if "lifecycle" not in want:
            return None
        what, detail = event_words(ev.event, ev.detail)
        return f"event 'lifecycle' for domain '{ev.name}': {what} {detail}"

    return event_loop(ctl, p, lambda left: ctl.conn.events(dom, timeout=left, kinds=kinds), line, timeout) > 0


class _Disconnected(Exception):
    pass


def _resubscribing(ctl: Ctl, subscribe: Callable[[float | None], Iterator[Event]], deadline: float | None,
                   loop: bool) -> Iterator[Event]:
    """Events until the deadline; a daemon that goes away is reported as virsh reports it, and
    with --loop the subscription is made again once a daemon answers (a restart ends no loop)."""
    from pyvirt.client.streams import EventStreamClosed

    while True:
        left = None if deadline is None else max(0.001, deadline - time.monotonic())
        try:
            yield from subscribe(left)
            return
        except EventStreamClosed as exc:
            ctl.error(f"Disconnected from {getattr(ctl.conn, 'uri', '') or ctl.uri} due to {exc}")
            if not loop:
                raise _Disconnected() from None
        while True:  # wait for a daemon to answer again
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(0.2)
            try:
                ctl.conn.get_version()
                break
            except PyvirtError:
                continue


def event_loop(ctl: Ctl, p: Parsed, subscribe: Callable[[float | None], Iterator[Event]],
               line: Callable[[Event], str | None], timeout: float | None) -> int:
    """virsh's event loop for every object kind (event, net-event, pool-event): print each event's
    `line` (None: not one asked for), stop after the first unless --loop, then the trailer.
    `subscribe(seconds_left)` opens the stream; it is called again after a daemon restart."""
    count = 0
    deadline = time.monotonic() + timeout if timeout else None
    outcome = "timeout"
    try:
        for ev in _resubscribing(ctl, subscribe, deadline, p.bool("loop")):
            text = line(ev)
            if text is None:
                continue
            prefix = _stamp(ev.timestamp) + ": " if p.bool("timestamp") else ""
            ctl.print(f"{prefix}{text}\n")
            ctl.out.flush()
            count += 1
            if not p.bool("loop"):
                outcome = "done"
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
    except KeyboardInterrupt:
        outcome = "interrupted"
    except _Disconnected:
        outcome = "disconnected"  # already said, as an error
    if outcome == "timeout":
        ctl.print("event loop timed out\n")
    elif outcome == "interrupted":
        ctl.print("event loop interrupted\n")
    ctl.print(f"events received: {count}\n")
    return count


def cmd_qemu_monitor_event(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdQemuMonitorEvent: QEMU's own events, filtered by --event (exact, or a --regex
    searched anywhere in the name; --no-case for either), one line each (virshEventQemuPrint)."""
    import re

    from pyvirt.api import QemuMonitorEvent
    from pyvirt.cli.values import required

    timeout = number(p.str("timeout"), "timeout")
    if timeout is not None and timeout <= 0:
        raise CmdError(f"Numeric value '{p.str('timeout')}' for <timeout> option is malformed or out of range")
    wanted = required(p.str("event"), "event")
    dom = None
    if p.has("domain"):
        info = ctl.domain(p.str("domain") or "")
        dom = info.uuid or info.name
    flags = re.IGNORECASE if p.bool("no-case") else 0
    if wanted is not None and p.bool("regex"):
        try:
            pattern = re.compile(wanted, flags)
        except re.error as exc:
            raise CmdError(f"invalid argument: failed to compile regex '{wanted}': {exc}") from None
        matches: Callable[[str], bool] = lambda name: pattern.search(name) is not None  # noqa: E731
    elif wanted is not None:
        matches = (lambda name: name.lower() == wanted.lower()) if flags else (lambda name: name == wanted)
    else:
        matches = lambda name: True  # noqa: E731

    def line(ev: Event) -> str | None:
        if not isinstance(ev, QemuMonitorEvent) or not matches(ev.qmp_event):
            return None
        details = ev.details
        if p.bool("pretty") and details is not None:
            import json

            from pyvirt.cli.fmt import pretty_json

            details = pretty_json(json.loads(details))
        shown = details if details is not None else "<null>"
        if p.bool("timestamp"):  # the loop writes the time in front
            return f"event {ev.qmp_event} for domain '{ev.name}': {shown}"
        return f"event {ev.qmp_event} at {ev.seconds}.{ev.micros:06d} for domain '{ev.name}': {shown}"

    subscribe = lambda left: ctl.conn.events(dom, timeout=left, kinds=[QemuMonitorEvent.KIND])  # noqa: E731
    return event_loop(ctl, p, subscribe, line, timeout) > 0
