"""Who may use the web UI: a random login token (printed at start, as Jupyter does) and, for the
system URI, PAM (root and members of a configurable group).  Sessions live in this process only:
restarting ``pyvirt web`` logs everybody out, which is what a token printed per start implies.

Failed logins are rate-limited per client address and overall, so a token or a password cannot
be guessed at network speed; a limited client is refused even with the right secret until its
window passes (otherwise the limit would tell it which guess was right).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field

#: failed attempts allowed per client address, and from all addresses together, per WINDOW seconds
PER_CLIENT, OVERALL, WINDOW = 5, 50, 60.0
#: a session unused this long ends
IDLE_TIMEOUT = 12 * 3600.0
#: sessions kept at once (the oldest is dropped past this: memory stays bounded)
MAX_SESSIONS = 256


@dataclass
class Session:
    user: str
    token: bool = False  # logged in with the printed token: the process owner's reach (every connection)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    last_used: float = field(default_factory=time.monotonic)


class RateLimited(Exception):
    """Too many failed logins: `retry_after` seconds until the next attempt is looked at."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed logins; try again in {int(retry_after) + 1} s")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, per_client: int = PER_CLIENT, overall: int = OVERALL, window: float = WINDOW) -> None:
        self.per_client, self.overall, self.window = per_client, overall, window
        self._failures: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _trim(self, q: deque[float], now: float) -> None:
        while q and q[0] <= now - self.window:
            q.popleft()

    def check(self, client: str) -> None:
        """Raises RateLimited while `client` (or everybody together) has failed too often."""
        now = time.monotonic()
        q = self._failures.get(client, deque())
        self._trim(q, now)
        self._trim(self._all, now)
        if len(q) >= self.per_client:
            raise RateLimited(q[0] + self.window - now)
        if len(self._all) >= self.overall:
            raise RateLimited(self._all[0] + self.window - now)

    def failed(self, client: str) -> float:
        """Count a failed attempt; its mark, for `forgive`."""
        now = time.monotonic()
        if len(self._failures) > 10000:  # bounded memory under a spray from many addresses
            self._failures.clear()
        self._failures.setdefault(client, deque()).append(now)
        self._all.append(now)
        return now

    def forgive(self, client: str, mark: float) -> None:
        """Take back an attempt counted before its answer was known (it succeeded)."""
        for q in (self._failures.get(client), self._all):
            if q is not None:
                with contextlib.suppress(ValueError):
                    q.remove(mark)


def pam_available() -> bool:
    try:
        import pam  # noqa: F401 - python-pam
    except ImportError:
        return False
    return True


def pam_login(user: str, password: str, group: str, service: str = "login") -> bool:
    """PAM says the password is right, and the user is root or a member of `group`."""
    import grp
    import pwd

    import pam

    if not user or "\0" in user or "\0" in password or len(user) > 256 or len(password) > 4096:
        return False
    if not pam.pam().authenticate(user, password, service=service):
        return False
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return False
    if entry.pw_uid == 0:
        return True
    try:
        members = grp.getgrnam(group)
    except KeyError:
        return False
    return user in members.gr_mem or entry.pw_gid == members.gr_gid


class Auth:
    """The login token, the sessions and the limiter.  `pam_group`: None turns PAM off."""

    def __init__(self, token: str | None = None, pam_group: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(32)
        self.pam_group = pam_group if pam_group and pam_available() else None
        self.sessions: dict[str, Session] = {}
        self.limiter = RateLimiter()

    def token_ok(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.token.encode())

    def login(self, client: str, *, token: str = "", user: str = "", password: str = "") -> str | None:
        """A new session id for a right token or PAM password; None when wrong.  RateLimited
        when `client` has failed too often (then nothing is checked)."""
        self.limiter.check(client)
        who = None
        if token and self.token_ok(token):
            return self.new_session("token", token=True)
        if user and self.pam_group is not None and pam_login(user, password, self.pam_group):
            who = user
        if who is None:
            self.limiter.failed(client)
            return None
        return self.new_session(who)

    async def login_async(self, client: str, *, token: str = "", user: str = "", password: str = "") -> str | None:
        """`login` for the web server's event loop.  PAM blocks for seconds on a wrong password
        (pam_faildelay): it runs in a worker thread, so one login attempt never stalls every
        page, console and event stream the process serves.  The attempt is counted as failed
        while PAM runs (taken back if it succeeds), so guesses sent together cannot all pass
        the limiter before the first of them is answered."""
        self.limiter.check(client)
        if token and self.token_ok(token):
            return self.new_session("token", token=True)
        mark = self.limiter.failed(client)
        if not user or self.pam_group is None:
            return None
        if not await asyncio.to_thread(pam_login, user, password, self.pam_group):
            return None
        self.limiter.forgive(client, mark)
        return self.new_session(user)

    def new_session(self, user: str, token: bool = False) -> str:
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions, key=lambda k: self.sessions[k].last_used)
            del self.sessions[oldest]
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = Session(user, token)
        return sid

    def session(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        s = self.sessions.get(sid)
        if s is None:
            return None
        now = time.monotonic()
        if now - s.last_used > IDLE_TIMEOUT:
            del self.sessions[sid]
            return None
        s.last_used = now
        return s

    def logout(self, sid: str | None) -> None:
        if sid:
            self.sessions.pop(sid, None)
