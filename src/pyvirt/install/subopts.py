"""virt-install's sub-option grammar: ``--disk path=/a,size=5,bus=virtio``.

Values are split on commas with shell-like quoting (``kernel_args="a,b"``), leading bare
words are given the option's positional names (``--graphics vnc`` -> ``type=vnc``), and a
bare word that is not a known key is glued back onto a comma-accepting value (virtinst's
``can_comma``: ``--cpuset 1,3-5``).  Later duplicates win, as in virt-install.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field


class SubOptError(ValueError):
    """A sub-option string that virt-install would refuse."""


class CheckError(SubOptError):
    """A refusal virt-install makes after parsing (--check ones): reported without the
    ``Error: --opt STR:`` prefix."""


@dataclass
class Spec:
    """The sub-options one command-line option accepts.

    `keys` are regular expressions matched against the whole key (``boot[0-9]*.dev``);
    `positional` names given to leading bare words; `comma` keys whose value may contain
    unquoted commas.
    """

    flag: str
    keys: Iterable[str] = ()
    positional: tuple[str, ...] = ()
    comma: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    # Known names that may stand alone (``--boot hd,cdrom``, ``--boot uefi``): the option's
    # handler consumes them before values are read, as virtinst's parsers do.
    bare: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._regexes = [re.compile(f"^(?:{k})$") for k in self.keys]
        self._own = list(self._regexes)

    def handles(self, key: str) -> bool:
        """True when `key` is one of the names the option's own handler declared (as
        opposed to the table-driven names add_keys brought in)."""
        key = self.aliases.get(key, key)
        return any(r.match(key) for r in self._own)

    def add_keys(self, keys: Iterable[str]) -> None:
        """More accepted names (the table-driven ones, see opts.generic)."""
        new = [k for k in keys if k not in self.keys]
        self.keys = list(self.keys) + new
        self._regexes += [re.compile(f"^(?:{k})$") for k in new]

    def takes_comma(self, key: str) -> bool:
        """Whether `key`'s value runs on over commas up to the next known name (a
        ``[0-9]*`` in a comma name matches any index)."""
        return any(re.match("^" + re.escape(c).replace(re.escape("[0-9]*"), "[0-9]*") + "$", key)
                   for c in self.comma)

    def known(self, key: str) -> bool:
        """True when `key` (or its alias) is one of this option's sub-options."""
        key = self.aliases.get(key, key)
        return any(r.match(key) for r in self._regexes)

    def listing(self) -> list[str]:
        """Sub-option names for ``--OPTION=?`` (regexes shown as virt-install shows them)."""
        names = set()
        for k in list(self.keys) + list(self.aliases):
            names.add(k.replace("\\.", "."))
        return sorted(names, key=lambda s: s.lower())


def quote(value: str) -> str:
    """`value` as one sub-option value that :func:`split_tuples` reads back exactly: in double
    quotes, with ``\\`` and ``"`` escaped (shlex's POSIX rules, virt-install's).  For a program that
    builds a sub-option string from values it did not write (the web UI's forms): unquoted, a
    ``,`` starts another sub-option and ``'``, ``"`` or ``\\`` change the value."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_tuples(optstr: str) -> list[tuple[str, str | None]]:
    """Split on commas honouring quotes: ``a=1,b="x,y",c`` -> [(a,1), (b,'x,y'), (c,None)]."""
    lex = shlex.shlex(optstr or "", posix=True)
    lex.commenters = ""
    lex.whitespace = ","
    lex.whitespace_split = True
    try:
        words = list(lex)
    except ValueError as exc:
        raise SubOptError(f"Error parsing '{optstr}': {exc}") from exc
    out: list[tuple[str, str | None]] = []
    for word in words:
        if "=" in word:
            key, val = word.split("=", 1)
            out.append((key, val))
        else:
            out.append((word, None))
    return out


def parse(spec: Spec, optstr: str) -> dict[str, str | None]:
    """Parse `optstr` per `spec` into an ordered dict; unknown keys are kept for the caller
    to report (virt-install reports them after applying the known ones)."""
    tuples = split_tuples(optstr)
    names = list(spec.positional)
    for idx, (key, val) in enumerate(tuples):
        if val is not None or not names:
            break
        tuples[idx] = (names.pop(0), key)
    out: dict[str, str | None] = {}
    while tuples:
        key, val = tuples.pop(0)
        key = spec.aliases.get(key, key)
        if spec.known(key) and spec.takes_comma(key):
            parts = [val or ""]
            while tuples and not spec.known(tuples[0][0]):
                k2, v2 = tuples.pop(0)
                parts.append(k2 if v2 is None else f"{k2}={v2}")
            val = ",".join(parts)
        out.pop(key, None)
        out[key] = val
    for key, val in out.items():
        if val is None and key not in spec.bare and spec.known(key):
            # virtinst's _VirtCLIArgument: ``--graphics vnc,keymap`` names a sub-option
            # without giving it a value
            raise SubOptError(f"Option '{key}' had no value set.")
    return out


def unknown(spec: Spec, opts: dict[str, str | None]) -> list[str]:
    """Keys of `opts` this option does not know, in the order given."""
    return [k for k in opts if not spec.known(k)]


def check_unknown(spec: Spec, opts: dict[str, str | None]) -> None:
    """Raise virt-install's ``Unknown --clock options: ['foo']`` message."""
    bad = unknown(spec, opts)
    if bad:
        raise SubOptError(f"Unknown {spec.flag} options: {bad}")


def yesno(value: str | None, flag: str = "") -> bool:
    """virt-install's boolean sub-option values (on/off, yes/no, true/false, 1/0); `flag`
    is the sub-option's name as typed, which the refusal names."""
    low = (value or "").lower()
    if low in ("y", "yes", "on", "1", "true", "t"):
        return True
    if low in ("n", "no", "off", "0", "false", "f"):
        return False
    # virtinst's _on_off_convert: "KEY must be 'yes' or 'no'", printed without the option
    raise CheckError(f"{flag} must be 'yes' or 'no'")
