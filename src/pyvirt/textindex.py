"""The rules the daemon's load indexes share: which stored text a restart may take without parsing.

pyvirtd keeps, in its runtime dir, the SHA-256 of each stored definition that parsed, under a
fingerprint of the code that parses it (:mod:`pyvirt.daemon.loadindex` for domains, with their
summaries; :class:`pyvirt.storage.driver.StorageDriver` for pools).  A restart trusts an entry
only for exactly the text it was made from and only under the same code, so an edited file, or
an upgraded pyvirt, is parsed (and judged) again as before.  The runtime dir is private to the
daemon and, for qemu:///system, on tmpfs: a reboot starts from the XML alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from pyvirt.atomicio import write_atomic

log = logging.getLogger(__name__)

#: a digest index is read whole; far above any real one (1000 domains take ~250 KiB)
MAX_INDEX_BYTES = 32 << 20


def digest(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def xml_code_files() -> list[Path]:
    """Every module of :mod:`pyvirt.xml`: what a stored text parses to depends on all of them."""
    import pyvirt.xml

    return sorted(Path(pyvirt.xml.__file__).resolve().parent.glob("*.py"))


def code_fingerprint(files: list[Path]) -> str:
    """pyvirt's version and the size and mtime of every one of `files`."""
    import pyvirt

    parts = [pyvirt.__version__]
    for path in files:
        try:
            st = path.stat()
        except OSError:
            parts.append(f"{path}:missing")
            continue
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def read_index(path: Path) -> object:
    """The JSON document at `path`, or None when it is absent, too big or malformed (logged)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_INDEX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_INDEX_BYTES:
        log.warning("ignoring %s: larger than %d bytes", path, MAX_INDEX_BYTES)
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # a corrupt file: any of them costs only the shortcut
        log.warning("ignoring %s: %s", path, exc)
        return None


def write_index(path: Path, doc: object) -> None:
    """Write an index (atomically; it describes runtime state, so without fsync).  A failure only
    costs the next start its shortcut."""
    try:
        write_atomic(path, json.dumps(doc, separators=(",", ":")), durable=False)
    except OSError as exc:
        log.warning("cannot write %s: %s", path, exc)


def load_digests(path: Path, fingerprint: str) -> dict[str, str]:
    """A plain digest index (name -> digest of the text that parsed), or none when it is absent,
    written by other code, or malformed."""
    doc = read_index(path)
    if not (isinstance(doc, dict) and doc.get("format") == 1 and doc.get("code") == fingerprint
            and isinstance(doc.get("digests"), dict)):
        return {}
    return {k: v for k, v in doc["digests"].items() if isinstance(k, str) and isinstance(v, str)}


def save_digests(path: Path, fingerprint: str, digests: dict[str, str]) -> None:
    write_index(path, {"format": 1, "code": fingerprint, "digests": digests})
