"""``pyvirt``: virsh's command line.  Entry point, global options and the fast paths.

Start-up time matters (scripts call ``pyvirt domstate`` in loops), so this module imports only
``sys`` and ``os`` at load time; ``--version`` answers before anything else is imported, and each
command's implementation is imported only when it runs.
"""

from __future__ import annotations

import gc
import sys

# A command's start-up allocates tens of thousands of objects that all survive (modules, classes,
# functions), and the collector's default thresholds (700/10/10) walk them again and again while
# they are imported: ~2-3 ms of a 30 ms `pyvirt list`.  A higher first threshold makes a short
# command collect about once; long-lived ones (console, event loops, the interactive shell) still
# collect, just in larger steps, so cyclic garbage stays bounded.
gc.set_threshold(20_000, 20, 20)

USAGE = """
pyvirt [options]... [<command_string>]
pyvirt [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI
    -d | --debug=NUM        debug level [0-4]
    -e | --escape <char>    set escape sequence for console
    -h | --help             this help
    -q | --quiet            quiet mode
    -r | --readonly         connect readonly
    -v                      short version
    -V                      long version
         --version[=TYPE]   version, TYPE is short or long (default short)
  commands (non interactive mode):

  (specify help <group> for details about the commands in the group)

  (use --help inside pyvirt to get help for a specific command)
"""

_WITH_ARG = {"-c": "connect", "--connect": "connect", "-d": "debug", "--debug": "debug",
             "-e": "escape", "--escape": "escape", "-l": "log", "--log": "log",
             "-k": "keepalive-interval", "--keepalive-interval": "keepalive-interval",
             "-K": "keepalive-count", "--keepalive-count": "keepalive-count"}
_FLAGS = {"-q": "quiet", "--quiet": "quiet", "-r": "readonly", "--readonly": "readonly",
          "-t": "timing", "--timing": "timing", "-h": "help", "--help": "help", "-v": "version",
          "-V": "long-version", "--version": "version"}


class UsageError(Exception):
    pass


def _version() -> str:
    from pyvirt import __version__

    return __version__


def _c_int(text: str, base: int) -> int | None:
    """virStrToLong_i(text, NULL, base): C strtol's leading blanks, sign and (base 0) 0x/0 prefixes,
    nothing after the number, within a C int; None otherwise (cnumbers' one reader)."""
    from pyvirt.xml.cnumbers import c_integer

    got = c_integer(text, "int", 0, base)
    return got[0] if got is not None and got[1] == len(text) else None


def _check_global(name: str, key: str, value: str, opts: dict[str, str | bool]) -> None:
    """virshParseArgv's checks of -d, -e, -k and -K values, in its words (the option as given)."""
    if key == "debug":
        level = _c_int(value, 10)
        if level is None:
            raise UsageError(f"option {name} takes a numeric argument")
        if not 0 <= level <= 4:  # virsh goes on with its default level
            sys.stderr.write(f"error: ignoring debug level {level} out of range [0-4]\n")
            opts.pop("debug", None)
    elif key == "escape":
        raw = value.encode("utf-8", "surrogateescape")
        if not ((len(raw) == 2 and value[0] == "^" and ("a" <= value[1] <= "z" or "@" <= value[1] <= "_"))
                or (len(raw) == 1 and value != "^")):
            raise UsageError(f"Invalid string '{value}' for escape sequence")
    elif key in ("keepalive-interval", "keepalive-count"):
        n = _c_int(value, 0)
        if n is None:
            raise UsageError(f"Invalid value for option {name}")
        if n < 0:
            raise UsageError(f"option {name} requires a positive integer argument")


def parse_global(argv: list[str]) -> tuple[dict[str, str | bool], list[str]]:
    """getopt with a leading '+': options stop at the first non-option word (the command)."""
    opts: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-") or a == "-":
            break
        name, eq, val = a.partition("=") if a.startswith("--") else (a[:2], "", a[2:])
        if name == "--version" and eq:
            if val not in ("short", "long"):
                raise UsageError(f"unknown option '--version={val}'")
            opts["version" if val == "short" else "long-version"] = True
        elif name in _WITH_ARG:
            key = _WITH_ARG[name]
            if eq or val:
                opts[key] = val
            elif i + 1 < len(argv):
                i += 1
                opts[key] = argv[i]
            else:
                raise UsageError(f"option '{name}' requires an argument")
            _check_global(name, key, str(opts[key]), opts)
        elif name in _FLAGS and not (val and not a.startswith("--")):
            opts[_FLAGS[name]] = True
        elif not a.startswith("--") and len(a) > 2 and all(f"-{c}" in _FLAGS for c in a[1:]):
            for c in a[1:]:
                opts[_FLAGS[f"-{c}"]] = True
        else:
            raise UsageError(f"unsupported option '{a}'. See --help.")
        i += 1
    return opts, argv[i:]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "install":                            # `pyvirt install` = virt-install
        from pyvirt.cli.install import main as install_main
        return install_main(list(args[1:]))
    if args and args[0] in ("xml", "clone"):                     # virt-xml / virt-clone
        from pyvirt.cli.table import load

        return load(f"pyvirt.cli.{args[0]}").main(list(args[1:]))
    if args and args[0] == "web":                                # the web UI's own process
        from pyvirt.web.main import main as web_main
        return web_main(list(args[1:]))
    if args and args[0] in ("--version", "-v"):                 # the hot path: nothing imported
        sys.stdout.write(_version() + "\n")
        return 0
    try:
        opts, rest = parse_global(args)
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if opts.get("help"):
        sys.stdout.write(USAGE)
        return 0
    if opts.get("version"):
        sys.stdout.write(_version() + "\n")
        return 0
    if opts.get("long-version"):
        sys.stdout.write(f"pyvirt {_version()}, a virsh-compatible shell (virsh 9.0 command set)\n"
                         " Hypervisors: QEMU/KVM Test\n")
        return 0
    from pyvirt.cli.context import ConnectError, Ctl
    from pyvirt.lightos import getenv

    # virsh's own default first (virshInit: VIRSH_DEFAULT_CONNECT_URI), then libvirt's (the client)
    ctl = Ctl(opts.get("connect") or getenv("VIRSH_DEFAULT_CONNECT_URI") or None,  # type: ignore[arg-type]
              readonly=bool(opts.get("readonly")), quiet=bool(opts.get("quiet")),
              escape=str(opts.get("escape", "^]")), debug=int(str(opts.get("debug", -1)) or -1))
    if "keepalive-interval" in opts or "keepalive-count" in opts:  # asked for: a failure is fatal
        ctl.keepalive = _c_int(str(opts.get("keepalive-interval", 5)), 0) or 0
    try:
        if not rest:
            from pyvirt.cli.shell import interactive

            return interactive(ctl, connect_first=bool(opts.get("connect")))
        from pyvirt.cli.run import run_words

        if len(rest) == 1:  # one word: a command string (vshCommandStringParse), else argv words
            ctl.debug_msg(ctl.INFO, f'commands: "{rest[0]}"\n')
            commands: str | list[list[str]] = rest[0]
        else:
            commands = [rest]
        # virshInit: a URI named with -c is connected once the line parsed, before anything runs
        ok = run_words(ctl, commands, connect_first=bool(opts.get("connect")))
        return 0 if ok else 1
    except ConnectError:
        return 1
    except KeyboardInterrupt:
        return 1
    except BrokenPipeError:
        return 1
    finally:
        ctl.close()


def leave(code: int) -> None:
    """Exit with `code` without the interpreter's teardown when nothing needs it.

    A normal exit frees every module, class and function the command imported one by one and
    runs a last collection: ~4-5 ms of CPU, a fifth of `pyvirt list` (bench/cli.py).  The
    process ends anyway, so when no exit handler is registered (``atexit``, which ``logging``
    and ``weakref.finalize`` use) and no other thread runs, its output is flushed here and the
    process ends at once.  Otherwise, or when a flush fails (a closed pipe: the normal exit
    reports it as before), it leaves the usual way.
    """
    atexit = sys.modules.get("atexit")  # registering a handler imports it
    pending = atexit is not None and getattr(atexit, "_ncallbacks", lambda: 1)()  # CPython's; else usual
    threading = sys.modules.get("threading")
    if pending or (threading is not None and threading.active_count() > 1):
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        sys.exit(code)
    from posix import _exit  # os._exit, without importing os (see pyvirt.lightos)

    _exit(code)


def run() -> None:
    """The `pyvirt` console script: pyvirt's own modules through the lean finder
    (pyvirt.cli.hotimport), main(), then `leave`."""
    from pyvirt.cli.hotimport import install

    install()
    leave(main())


if __name__ == "__main__":
    run()
