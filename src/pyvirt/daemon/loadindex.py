"""What a restarted pyvirtd needs of each idle definition, kept so it need not parse them all again.

An idle definition is held as its stored text plus a summary (``DomainRecord``): name, UUID,
title, memory, vCPUs and disk targets. Building that summary means parsing and validating the
whole XML (~0.4 ms per domain on a quiet host, several ms under load), which a daemon restart
paid for every stored domain before serving anything: with 1000 defined domains, seconds.

The index maps each domain to the SHA-256 of its stored text and that summary. A restart reads
the index once and parses only the definitions whose text is not the one indexed. Trust is
narrow on purpose:

- the index lives in the runtime dir (private to the daemon, on tmpfs for qemu:///system), so a
  reboot starts from the XML alone;
- it is keyed by a fingerprint of the code that parses and summarises definitions (every module
  of ``pyvirt.xml`` plus the daemon's model and records, by size and mtime): an upgraded pyvirt
  parses everything again, so a definition the new code refuses is still found broken at load;
- an entry counts only for exactly the text it was made from (the digest), and an entry or file
  that is malformed, too big or unreadable is ignored: the definition is then parsed as before.

A definition only ever enters the index after it parsed: broken ones are parsed (and reported)
on every start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyvirt import textindex
from pyvirt.textindex import digest  # noqa: F401  (named here too: the daemon's callers use it)

log = logging.getLogger(__name__)

INDEX_NAME = "domain-index.json"
FORMAT = 1

#: one entry: (digest of the stored text, uuid, summary, disks); see DomainRecord.index_entry
Entry = tuple[str, str, tuple[str, int, int, int, int], tuple[tuple[str | None, ...], ...]]


def code_files() -> list[Path]:
    """The modules whose change could change what a stored text parses or summarises to."""
    here = Path(__file__).resolve().parent
    return [*textindex.xml_code_files(), here / "model.py", here / "records.py", Path(__file__).resolve()]


def code_fingerprint(files: list[Path] | None = None) -> str:
    """pyvirt's version and the size and mtime of every one of `code_files()`."""
    return textindex.code_fingerprint(code_files() if files is None else files)


def _entry(value: Any) -> Entry | None:
    """A well-formed entry from the JSON, or None."""
    if not (isinstance(value, list) and len(value) == 4):
        return None
    sha, uuid, summary, disks = value
    if not (isinstance(sha, str) and isinstance(uuid, str) and isinstance(summary, list) and len(summary) == 5
            and isinstance(summary[0], str) and all(type(v) is int for v in summary[1:])
            and isinstance(disks, list)):
        return None
    refs = []
    for disk in disks:
        if not (isinstance(disk, list) and len(disk) == 5 and all(v is None or isinstance(v, str) for v in disk)):
            return None
        refs.append(tuple(disk))
    return sha, uuid, (summary[0], summary[1], summary[2], summary[3], summary[4]), tuple(refs)


def load(runtime: Path, fingerprint: str) -> dict[str, Entry]:
    """The entries of the index in *runtime*, or none when it is absent, foreign or malformed."""
    doc = textindex.read_index(runtime / INDEX_NAME)
    if not (isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("code") == fingerprint
            and isinstance(doc.get("domains"), dict)):
        return {}
    entries = {}
    for name, value in doc["domains"].items():
        entry = _entry(value)
        if isinstance(name, str) and entry is not None:
            entries[name] = entry
    return entries


def save(runtime: Path, fingerprint: str, entries: Iterable[tuple[str, Entry]]) -> None:
    """Write the index (atomically; it describes runtime state, so without fsync). A failure
    only costs the next start its shortcut."""
    doc = {"format": FORMAT, "code": fingerprint,
           "domains": {name: [sha, uuid, list(summary), [list(d) for d in disks]]
                       for name, (sha, uuid, summary, disks) in entries}}
    textindex.write_index(runtime / INDEX_NAME, doc)
