"""The state one pyvirt invocation carries between commands: options, connection, output.

It plays the part of virsh's ``vshControl``: commands receive it, print through it (so ``-q``
and the shell behave the same everywhere) and resolve domains through it (so the "failed to get
domain" wording lives in one place).  The connection is opened on first use, so ``help`` and
``--version`` never touch the client package.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs ~5 ms at start-up; this is what it would say

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pyvirt.api import Connection, DomainInfo
    from pyvirt.cli.grammar import Parsed


class CmdError(Exception):
    """A command failed: each message is printed as ``error: <message>``.  `reported` is a
    libvirt error virsh's helper left behind (virScaleInteger's): virsh prints it when the
    command ends, after every line of its own."""

    def __init__(self, *messages: str, reported: str | None = None) -> None:
        super().__init__(messages[0] if messages else "")
        self.messages = [*messages, *([reported] if reported else [])]
        self.reported = reported

    def then(self, line: str) -> CmdError:
        """The same failure with one more line of virsh's own (before the reported error)."""
        own = self.messages[:-1] if self.reported else self.messages
        return CmdError(*own, line, reported=self.reported)


class failing:  # a lower-case name: it reads as a statement, `with failing("Failed to ..."):`
    """A driver error (PyvirtError) inside the block becomes virsh's two lines: `first`, then the
    driver's own message.  A class, not contextlib: nothing more to import on the hot path."""

    __slots__ = ("first",)

    def __init__(self, first: str) -> None:
        self.first = first

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if exc is not None:
            from pyvirt.api import PyvirtError

            if isinstance(exc, PyvirtError):
                raise CmdError(self.first, exc.message) from None
        return False


class ConnectError(Exception):
    """The hypervisor could not be reached: virsh stops the whole invocation."""


def pyvirt_error() -> type[Exception]:
    """pyvirt.api.PyvirtError for an ``except`` clause, which Python evaluates only when an
    exception reaches it: a command that works sends its request before pyvirt.api loads (its
    reply or a failure loads it; `pyvirt start` -> first guest output, issue 18)."""
    from pyvirt.api import PyvirtError

    return PyvirtError


class Ctl:
    """Global options, the lazily opened connection, and output helpers."""

    def __init__(self, uri: str | None = None, *, readonly: bool = False, quiet: bool = False,
                 escape: str = "^]", debug: int = -1, interactive: bool = False) -> None:
        self.uri = uri
        self.readonly = readonly
        self.quiet = quiet
        self.escape = escape
        self.debug = debug
        self.interactive = interactive
        self._conn: Connection | None = None
        self.out = sys.stdout
        self.err = sys.stderr
        self.cmdname = ""  # the command running, for debug lines
        self.keepalive: int | None = None  # -k/-K given: the interval virsh would insist on

    # -- debug lines (virsh -d N): vshDebug writes a message of `level` or above to stdout
    DEBUG, INFO, NOTICE, WARNING, ERROR = range(5)  # VSH_ERR_*

    def debugging(self, level: int) -> bool:
        return level >= (self.ERROR if self.debug < 0 else self.debug)

    def debug_msg(self, level: int, text: str) -> None:
        if text and self.debugging(level):
            self.out.write(text)
            self.out.flush()

    # -- connection
    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self.connect(self.uri, self.readonly)
        assert self._conn is not None
        return self._conn

    def connect(self, uri: str | None, readonly: bool) -> None:
        from pyvirt.client import connect

        self.close()
        try:
            self._conn = connect(uri, readonly=readonly)
        except pyvirt_error() as exc:
            raise ConnectError(exc.message) from None  # type: ignore[attr-defined]
        except OSError as exc:
            raise ConnectError(str(exc)) from None
        self.uri, self.readonly = uri, readonly
        if (uri or "").startswith("test:") and self.keepalive != 0:  # the test driver has no keepalive
            if self.keepalive is None:  # virsh's default: said at INFO, and on it goes
                self.debug_msg(self.INFO, "Failed to setup keepalive on connection\n")
            else:  # asked for with -k/-K: virshConnect gives up the connection
                self.error("Cannot setup keepalive on connection as requested, disconnecting")
                self.close()
                raise ConnectError("this function is not supported by the connection driver: "
                                   "virConnectSetKeepAlive")

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:  # noqa: SIM105 - no contextlib import on the hot path
                conn.close()
            except Exception:  # noqa: BLE001 - closing must never mask the real outcome
                pass

    # -- domains
    def domain(self, ref: str) -> DomainInfo:
        """virsh's lookup by id, UUID or name; a miss is ``failed to get domain 'ref'``."""
        from pyvirt.api import ErrorCode, PyvirtError

        conn = self.conn
        self.debug_msg(self.INFO, f"{self.cmdname}: found option <domain>: {ref}\n")
        found = None
        try:
            found = conn.lookup_domain(ref)
        except PyvirtError as exc:
            if exc.code in (ErrorCode.NO_DOMAIN, ErrorCode.INVALID_DOMAIN, ErrorCode.INVALID_ARG):
                raise CmdError(f"failed to get domain '{ref}'") from None
            raise
        finally:
            if self.debugging(self.DEBUG):
                self._debug_lookup(ref, found)
        return found

    def _debug_lookup(self, ref: str, found: DomainInfo | None) -> None:
        """virshLookupDomainInternal's DEBUG lines: by ID when `ref` is a number, by UUID when it
        has a UUID's length, by name last, each tried only when the one before found nothing."""
        steps = []
        if ref.isdigit():
            steps.append("looks like ID")
            by_id = found is not None and found.active and str(found.id) == ref
        else:
            by_id = False
        if not by_id and len(ref) == 36:
            steps.append("trying as domain UUID")
            by_id = found is not None and found.uuid == ref.lower()
        if not by_id:
            steps.append("trying as domain NAME")
        self.debug_msg(self.DEBUG, "".join(f"{self.cmdname}: <domain> {m}\n" for m in steps))

    def domain_arg(self, p: Parsed) -> DomainInfo:
        """The domain a command's ``<domain>`` argument names (virsh's vshCommandOptDomain)."""
        return self.domain(p.str("domain") or "")

    # -- output
    def print(self, text: str) -> None:
        self.out.write(text)

    def print_xml(self, xml: str, xpath: str | None = None, *, wrap: bool = False) -> None:
        """A document as the dumpxml commands print it (ending in a newline), or what --xpath selects."""
        if xpath is None:
            self.print(xml if xml.endswith("\n") else xml + "\n")
            return
        if not xpath:  # vshCommandOptStringQuiet refuses it: the command fails without a word
            raise CmdError()
        from pyvirt.cli.xpath import XPathSyntax, xpath_dump  # lxml, only for that flag

        try:
            self.print(xpath_dump(xml, xpath, wrap=wrap))
        except XPathSyntax as exc:  # libxml2's own message on stderr; virsh goes on, successful
            self.err.write(f"XPath error : {exc}\n")

    def extra(self, text: str) -> None:
        """vshPrintExtra: informational output that ``-q`` silences."""
        if not self.quiet:
            self.out.write(text)

    def error(self, message: str) -> None:
        self.out.flush()
        self.err.write(f"error: {message}\n")
        self.err.flush()


def xpath_option(p: Any) -> str | None:
    """--xpath as the dumpxml commands read it (vshCommandOptStringQuiet), before they ask the
    driver for the document: given empty, the command fails there without a word."""
    xpath = p.str("xpath")
    if xpath == "":
        raise CmdError()
    return xpath


def act_on(ctl: Ctl, name: str, fail: str, done: str, call: Callable[[str], object], given: str | None = None) -> bool:
    """Run `call(name)` on a named host object (pool, network) and print virsh's failure or
    success line, `fail`/`done` formatted with the object as the command line `given` it (virsh
    names it so: a UUID stays one), else its name."""
    shown = given or name
    with failing(fail.format(shown)):
        call(name)
    ctl.extra(done.format(shown) + "\n")
    return True


def state_flags_match(p: Parsed, obj: Any) -> bool:
    """virsh's --all/--inactive, --persistent/--transient and --autostart/--no-autostart filters of
    pool-list and net-list (active only by default; each pair filters when one side is given)."""
    active = bool(obj.active)
    if not p.bool("all") and p.bool("inactive") == active:
        return False
    if p.bool("persistent") != p.bool("transient") and bool(obj.persistent) != p.bool("persistent"):
        return False
    return not (p.bool("autostart") != p.bool("no-autostart") and bool(obj.autostart) != p.bool("autostart"))
