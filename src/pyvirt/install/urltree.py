"""--location over the network: an install tree at an http, https or ftp URL.

The same questions a local tree or ISO answers (does this file exist, what does it say,
copy it here) asked over urllib, so kernel discovery (media.kernel_paths) is shared.
An ftp tree is logged into first, as virt-install's FTP fetcher does when it is made: a
server that cannot be reached or refuses the login is "Opening URL ... failed", not a tree
without a distribution.  Reads are bounded: text files to 1 MiB, kernels and initrds to 4 GiB, with a timeout
on every request.  NFS URLs are refused, as virt-install 4.1 refuses them.
"""

from __future__ import annotations

import ftplib
import os
import tempfile
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

SCHEMES = ("http", "https", "ftp")
TIMEOUT = 30
TEXT_LIMIT = 1 << 20
FILE_LIMIT = 4 << 30


def is_url(location: str) -> bool:
    """Whether `location` names a network tree (http, https, ftp)."""
    return urlsplit(location).scheme in SCHEMES


def _ftp_login(location: str, shown: str) -> None:
    """Connect and log in to an ftp URL's server (its user and password, anonymous without
    them) and ask for binary mode, as virt-install's FTP fetcher does before anything is
    read; a failure is its 'Opening URL ... failed' with the reason."""
    parts = urlsplit(location)
    ftp = ftplib.FTP(timeout=TIMEOUT)
    try:
        ftp.connect(parts.hostname or "", parts.port or 0)
        ftp.login(unquote(parts.username or ""), unquote(parts.password or ""))
        ftp.voidcmd("TYPE I")
    except (OSError, EOFError, ftplib.Error) as exc:
        raise RuntimeError(f"Opening URL {shown} failed: {exc}") from None
    finally:
        ftp.close()


def _reason(exc: BaseException) -> str:
    """Why a fetch failed, an HTTP error status worded as virt-install shows it (its HTTP
    fetcher's raise_for_status: '404 Client Error: Not Found for url: URL')."""
    if isinstance(exc, urllib.error.HTTPError) and 400 <= exc.code < 600:
        side = "Client" if exc.code < 500 else "Server"
        return f"{exc.code} {side} Error: {exc.reason} for url: {exc.url}"
    return str(exc)


class UrlReader:
    """Read-only access to an install tree on an http(s)/ftp server."""

    is_iso = False

    def __init__(self, location: str, *, opened_as: str | None = None) -> None:
        self.location = location
        self._base = location if location.endswith("/") else location + "/"
        if urlsplit(location).scheme == "ftp":
            _ftp_login(location, opened_as or location)

    @classmethod
    def for_file(cls, url: str) -> tuple[UrlReader, str]:
        """A reader for the folder of one file's URL, and the file's name: virt-install
        fetches --install kernel=/initrd= URLs and drivers this way, naming the file's own
        URL when its server cannot be opened."""
        base, _, name = url.rpartition("/")
        return cls(base, opened_as=url), name

    def _url(self, rel: str) -> str:
        return self._base + rel.lstrip("/")

    def _open(self, url: str, method: str | None = None):  # noqa: ANN202 (urllib's response)
        req = urllib.request.Request(url, method=method)
        return urllib.request.urlopen(req, timeout=TIMEOUT)  # noqa: S310 (scheme checked)

    def can_access(self) -> bool:
        """virt-install's can_access: the tree's root answers."""
        try:
            with self._open(self._base, "HEAD" if not self._base.startswith("ftp") else None):
                return True
        except (OSError, ValueError):
            return False

    def exists(self, rel: str) -> bool:
        url = self._url(rel)
        try:
            with self._open(url, None if url.startswith("ftp") else "HEAD") as resp:
                status = getattr(resp, "status", None)  # None for ftp: opening it found it
                return status is None or status < 400
        except (OSError, ValueError):
            return False

    def read_text(self, rel: str) -> str:
        try:
            with self._open(self._url(rel)) as resp:
                data = resp.read(TEXT_LIMIT + 1)
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"Couldn't read '{self._url(rel)}': {exc}") from exc
        if len(data) > TEXT_LIMIT:
            raise RuntimeError(f"'{self._url(rel)}' is larger than {TEXT_LIMIT} bytes")
        return data.decode("utf-8", errors="replace")

    def fetch(self, rel: str, dest_dir: str) -> str:
        """Download `rel` into `dest_dir` under a unique name; return that path."""
        base = os.path.basename(rel.rstrip("/"))
        fd, dest = tempfile.mkstemp(prefix="virtinst-", suffix=f"-{base}", dir=dest_dir)
        try:
            with os.fdopen(fd, "wb") as out, self._open(self._url(rel)) as resp:
                copied = 0
                while chunk := resp.read(1 << 20):
                    copied += len(chunk)
                    if copied > FILE_LIMIT:
                        raise RuntimeError(f"'{self._url(rel)}' is larger than {FILE_LIMIT} bytes")
                    out.write(chunk)
            os.chmod(dest, 0o644)
        except BaseException as exc:
            os.unlink(dest)
            if isinstance(exc, (OSError, ValueError)) and not isinstance(exc, RuntimeError):
                raise RuntimeError(f"Couldn't acquire file {self._url(rel)}: "
                                   f"{_reason(exc)}") from exc
            raise
        return dest

