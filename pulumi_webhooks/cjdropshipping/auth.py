"""CJ access tokens: fetched once with the API key, cached in the process and on disk, renewed early.

``getAccessToken`` is rate limited (once per 5 minutes per API key in the 2026-02 docs), while a token
lives 15 days and its refresh token 180 days. So a token is requested once and then reused by every
resource of the process (``_core.tokens``, single flight) *and* by later runs: ``pulumi preview`` and
``pulumi up`` a minute apart are two processes. The disk cache is one JSON file per API key:

- in ``$PULUMI_WEBHOOKS_CACHE_DIR/cjdropshipping/`` or the user's cache directory
  (``platformdirs.user_cache_dir("pulumi-webhooks")``), directory mode 0700;
- named by a hash of base URL and API key (``credential_key``), never the key itself;
- holding secrets (token, refresh token, openId), so created with mode 0600 and replaced atomically
  (``os.open(..., 0o600)`` + rename); a file that is not ours or readable by others is ignored;
- guarded by an advisory lock so that two processes starting together make one token request.

A token is renewed ahead of its expiry with ``refreshAccessToken`` (falling back to getAccessToken when
the refresh token is gone or refused); a token CJ rejects (1600001 or HTTP 401) is renewed the same way.
A disk cache that cannot be written only costs a token request next time: it never fails a deployment.

CJ's rules for the token endpoints, as both of its pages give them: QPS 1 (the current auth page: token
requests are paced at one per 2 s per API key), the same token for repeat calls within 24 hours (so a
repeat after a lost answer is harmless), and once per 5 minutes (the older limits page: 1600200). Token
requests are retried once per kind of failure, at most 3 failed ones per run (``_core.tokens``), and a
1600200 is never retried: the time until which getAccessToken is refused is kept (in the process and
in the cache file), and until then the error is reported again without a request.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from pulumi_webhooks._core import errors
from pulumi_webhooks._core.deadline import current_deadline
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.redact import get_logger, register_secret
from pulumi_webhooks._core.tokens import Token, credential_key, failed_token_requests, tokens
from pulumi_webhooks.cjdropshipping.api import AUTH_HEADER, PLATFORM, TOO_MANY_REQUESTS, CjAuthApi

if TYPE_CHECKING:
    from pulumi_webhooks.cjdropshipping.models import TokenGrant

if sys.platform != "win32":  # POSIX: an advisory lock across processes; elsewhere only the in-process one
    import fcntl

log = get_logger("pulumi_webhooks.cjdropshipping")

CACHE_DIR_ENV = "PULUMI_WEBHOOKS_CACHE_DIR"
APP_NAME = "pulumi-webhooks"
SUBDIR = "cjdropshipping"
FILE_FORMAT = 1
MAX_FILE_SIZE = 64 * 1024

ACCESS_LIFETIME = 15 * 86400.0  # documented lifetimes, used when an answer has no readable expiry
REFRESH_LIFETIME = 180 * 86400.0
RENEW_AHEAD = 86400.0  # renew a day before expiry (or half-way for short-lived tokens)
MIN_REFRESH_VALIDITY = 60.0  # a refresh token this close to expiry is not worth trying
LOCK_WAIT = 30.0  # longest wait for another process fetching the same key's token (and the deadline)
LOCK_POLL = 0.05
CJ_ZONE = timezone(timedelta(hours=8))  # CJ answers in UTC+8
GRANT_INTERVAL = 300.0  # after a 1600200, getAccessToken is not asked again for 5 minutes (older page)
# QPS 1 on the token endpoints (current auth page), with room for network jitter: CJ counts when a
# request arrives, not when it was sent.
TOKEN_RATE = RatePolicy(per_second=0.5, burst=1)

_throttled_lock = threading.Lock()
_throttled_until: dict[str, float] = {}  # credential key -> time.time() until which CJ refuses a grant


def cache_root() -> Path:
    """Where pulumi-webhooks caches tokens: ``$PULUMI_WEBHOOKS_CACHE_DIR`` or the user's cache dir."""
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))


def cache_file(base_url: str, api_key: str) -> Path:
    """The cache file of one API key at one endpoint (the name is a hash: it reveals neither)."""
    return cache_root() / SUBDIR / f"{credential_key(base_url, api_key)}.json"


# -- tokens ----------------------------------------------------------------------------------------
def token_from_grant(grant: TokenGrant, *, previous: Token | None = None, now: float | None = None) -> Token:
    """A cache entry for a token answer. ``expires_at`` is when we *renew* (ahead of the real expiry,
    kept in ``extra``); a refresh answer has no openId, so it is carried over from ``previous``."""
    now = time.time() if now is None else now
    access_expires = _parse_time(grant.access_token_expiry, default=now + ACCESS_LIFETIME)
    if access_expires <= now:
        # A token just handed out cannot be expired: our clock (or CJ's) is off. Trusting the date would
        # renew it on every request; the documented lifetime is the better guess.
        access_expires = now + ACCESS_LIFETIME
    extra: dict[str, Any] = {
        "access_expires_at": access_expires,
        "refresh_token": grant.refresh_token or (previous.extra.get("refresh_token") if previous else None),
        "refresh_expires_at": (
            _parse_time(grant.refresh_token_expiry, default=now + REFRESH_LIFETIME)
            if grant.refresh_token
            else (previous.extra.get("refresh_expires_at") if previous else None)
        ),
        "open_id": grant.open_id or (previous.extra.get("open_id") if previous else None),
        "obtained_at": now,
    }
    renew_at = access_expires - min(RENEW_AHEAD, max(0.0, access_expires - now) / 2)
    return _token(grant.access_token, renew_at, extra)


def _token(value: str, renew_at: float, extra: Mapping[str, Any]) -> Token:
    for key in ("refresh_token", "open_id"):
        secret = extra.get(key)
        if isinstance(secret, str):
            register_secret(secret)
    return Token(value=value, expires_at=renew_at, extra=dict(extra))


def _parse_time(value: str | None, *, default: float) -> float:
    """CJ's ``2021-08-18T09:16:33+08:00`` as epoch seconds (a time without zone is taken as UTC+8,
    CJ's zone)."""
    if not value:
        return default
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=CJ_ZONE)
    return when.timestamp()


def _refresh_usable(token: Token | None, now: float) -> bool:
    if token is None or not token.extra.get("refresh_token"):
        return False
    expires = token.extra.get("refresh_expires_at")
    return not isinstance(expires, (int, float)) or expires - MIN_REFRESH_VALIDITY > now


# -- the disk cache --------------------------------------------------------------------------------
class TokenFile:
    """One API key's cache file. Every method swallows file-system failures (logged): the cache is an
    optimisation, never a reason to fail."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")

    def load(self) -> Token | None:
        try:
            data = self._read()
        except (OSError, ValueError) as exc:
            log.debug("CJdropshipping token cache %s unreadable: %s", self.path.name, type(exc).__name__)
            return None
        if data is None:
            return None
        try:
            value, renew_at = data["access_token"], float(data["renew_at"])
            extra = {k: data.get(k) for k in ("access_expires_at", "refresh_token", "refresh_expires_at")}
            extra |= {"open_id": data.get("open_id"), "obtained_at": data.get("obtained_at")}
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(value, str) or not value:
            return None
        return _token(value, renew_at, extra)

    def _read(self) -> dict[str, Any] | None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_SIZE:
                return None
            if os.name == "posix" and (info.st_mode & 0o077 or info.st_uid != os.geteuid()):
                # Someone else could have read or planted it: do not trust it (it is rewritten on save).
                log.warning("CJdropshipping token cache %s ignored: not private to this user", self.path.name)
                return None
            data = json.loads(handle.read().decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            return None
        return data

    def throttled_until(self) -> float | None:
        """Until when (``time.time()``) CJ refuses getAccessToken for this key, as a run recorded it."""
        try:
            data = self._read()
        except (OSError, ValueError):
            return None
        until = data.get("throttled_until") if data else None
        return float(until) if isinstance(until, (int, float)) else None

    def save_throttled(self, until: float) -> None:
        """Record a 1600200 for the next runs (keeping the token, if any: its refresh token is useful)."""
        try:
            data = self._read() or {"format": FILE_FORMAT}
        except (OSError, ValueError):
            data = {"format": FILE_FORMAT}
        data["throttled_until"] = until
        try:
            self._ensure_dir()
            self._write_atomically(json.dumps(data, separators=(",", ":")).encode())
        except OSError as exc:
            log.debug("CJdropshipping token cache: throttle not recorded (%s)", type(exc).__name__)

    def save(self, token: Token) -> None:
        data = {
            "format": FILE_FORMAT,
            "access_token": token.value,
            "renew_at": token.expires_at,
            **{k: token.extra.get(k) for k in ("access_expires_at", "refresh_token", "refresh_expires_at")},
            "open_id": token.extra.get("open_id"),
            "obtained_at": token.extra.get("obtained_at"),
        }
        try:
            self._ensure_dir()
            self._write_atomically(json.dumps(data, separators=(",", ":")).encode())
        except OSError as exc:
            log.warning(
                "CJdropshipping token cache not written (%s: %s); the next run requests a new token",
                type(exc).__name__,
                exc.strerror or "",
            )

    def _ensure_dir(self) -> None:
        folder = self.path.parent
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        if os.name == "posix":
            os.chmod(folder, 0o700)  # ours alone, even if it was created with a wider umask

    def _write_atomically(self, payload: bytes) -> None:
        tmp = self.path.with_name(f".{self.path.stem}.{secrets.token_hex(6)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)  # private from the first byte: no chmod window
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock of this key (best effort: without it we may just fetch twice).

        Another process holding it (another ``pulumi`` command with the same API key) is fetching a
        token this one will then read from the file, so it is waited for: at most LOCK_WAIT (then this
        one goes on without it), and never past the operation deadline (then the operation fails,
        saying it was waiting for this lock)."""
        if sys.platform == "win32":
            yield
            return
        try:
            self._ensure_dir()
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            yield
            return
        try:
            self._wait_for_lock(fd)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _wait_for_lock(self, fd: int) -> None:
        # Polled, not blocking: a stuck process must not hold this one past LOCK_WAIT or the deadline.
        started = time.monotonic()
        deadline = current_deadline()
        give_up = started + LOCK_WAIT if deadline is None else min(started + LOCK_WAIT, deadline)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass  # another process holds it
            except OSError as exc:  # no locks on this file system (ENOLCK …): go on without one
                log.debug("CJdropshipping token cache: no lock (%s)", type(exc).__name__)
                return
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise errors.OperationTimeoutError(
                    f"{PLATFORM} access token: the operation deadline passed after {now - started:.1f} s "
                    f"waiting for the lock of the token cache file {self.lock_path}, which another process "
                    "holds while it gets a token (another pulumi command or script with the same API key); "
                    "let it finish, or raise pulumi-webhooks:operationTimeout"
                )
            if now >= give_up:
                log.info(
                    "CJdropshipping token cache: another process has held the lock of %s for %.0f s; going "
                    "on without it",
                    self.lock_path.name,
                    LOCK_WAIT,
                )
                return
            time.sleep(min(LOCK_POLL, give_up - now))


# -- the Auth objects the client uses --------------------------------------------------------------
class ApiKeyAuth:
    """``_core.http.Auth`` for an API key: a cached access token, renewed when CJ rejects it.

    A per-operation object (never stored on a provider); the tokens themselves are process-wide."""

    def __init__(self, base_url: str, api_key: str) -> None:
        register_secret(api_key)
        self._base_url = base_url
        self._api_key = api_key
        self._key = credential_key(base_url, api_key)
        self._file = TokenFile(cache_file(base_url, api_key))
        self._used: str | None = None  # the token the last request carried
        self._rejected: str | None = None

    def __repr__(self) -> str:  # never show the key
        return f"ApiKeyAuth({self._base_url!r})"

    @property
    def open_id(self) -> str | None:
        token = tokens.peek(self._key)
        open_id = token.extra.get("open_id") if token is not None else None
        return open_id if isinstance(open_id, str) and open_id else None

    def headers(self) -> Mapping[str, str]:
        token = tokens.get(self._key, self._fetch, margin=0.0)
        self._used = token.value
        return {AUTH_HEADER: token.value}

    def renew(self) -> bool:
        """CJ rejected the token: forget it (here and on disk, keeping the refresh token), then get
        another one: refreshAccessToken first, getAccessToken when that fails."""
        rejected = self._used
        if rejected is None:
            return False
        self._rejected = rejected
        tokens.invalidate(self._key, rejected)
        with self._file.locked():
            stored = self._file.load()
            if stored is not None and stored.value == rejected:
                self._file.save(_token(stored.value, 0.0, stored.extra))  # stale now, refresh token kept
        tokens.get(self._key, self._fetch, margin=0.0)  # raises when no token could be had
        return True  # a new token, or the same one CJ just handed out again: worth one more try

    def _fetch(self, previous: Token | None) -> Token:
        """Called by the process-wide cache (one caller per key at a time) when it has no fresh token."""
        with self._file.locked():
            stored = self._file.load()
            if stored is not None and stored.fresh(0.0) and stored.value != self._rejected:
                return stored  # an earlier run (or another process) left a good one: no request at all
            now = time.time()
            basis = max(
                (t for t in (previous, stored) if t is not None),
                key=lambda t: float(t.extra.get("obtained_at") or 0.0),
                default=None,
            )
            token = self._refresh(basis, now) if _refresh_usable(basis, now) else None
            if token is None:
                token = self._grant(basis, now)
            elif token.value == self._rejected:
                # CJ hands out its cached token again within 24 h, and a new grant would get the same
                # one (or 1600200): CJ vouches for it, so the refused request is tried once more with it.
                log.info("CJdropshipping: refreshAccessToken returned the same token; trying it once more")
            self._file.save(token)
            return token

    def _auth_api(self) -> CjAuthApi:
        return CjAuthApi(
            self._base_url,
            pace_key=f"cjdropshipping token {self._key}",
            rate=TOKEN_RATE,
            budget=failed_token_requests.budget(self._key),
        )

    def _refresh(self, basis: Token | None, now: float) -> Token | None:
        assert basis is not None
        refresh_token = str(basis.extra["refresh_token"])
        try:
            grant = self._auth_api().refresh_access_token(refresh_token)
        except errors.AuthenticationError:
            log.info("CJdropshipping: the refresh token was refused; requesting a new access token")
            return None
        log.info("CJdropshipping: refreshed the access token")
        return token_from_grant(grant, previous=basis, now=now)

    def _grant(self, basis: Token | None, now: float) -> Token:
        with _throttled_lock:
            until = max(_throttled_until.get(self._key, 0.0), self._file.throttled_until() or 0.0)
        if until > now:
            raise _still_throttled(until - now)
        try:
            grant = self._auth_api().get_access_token(self._api_key)
        except errors.RateLimitedError as exc:
            if exc.code == str(TOO_MANY_REQUESTS):
                until = time.time() + GRANT_INTERVAL
                with _throttled_lock:
                    _throttled_until[self._key] = until
                self._file.save_throttled(until)
            raise
        log.info("CJdropshipping: requested a new access token")
        return token_from_grant(grant, previous=basis, now=now)


def _still_throttled(left: float) -> errors.RateLimitedError:
    """The error of a getAccessToken that is not sent because CJ refused one less than 5 minutes ago."""
    error = errors.RateLimitedError(
        platform=PLATFORM,
        operation="get access token",
        code=str(TOO_MANY_REQUESTS),
        detail=f"not requested: CJ refused getAccessToken for this API key less than "
        f"{GRANT_INTERVAL / 60:.0f} minutes ago; try again in {left:.0f} s",
        hint=CjAuthApi.rate_limit_hint,
    )
    error.max_retries = 0
    return error


class AccessTokenAuth:
    """``_core.http.Auth`` for an access token given as is: nothing to renew it with."""

    def __init__(self, access_token: str) -> None:
        register_secret(access_token)
        self._token = access_token

    def __repr__(self) -> str:
        return "AccessTokenAuth()"

    @property
    def open_id(self) -> str | None:
        return None

    def headers(self) -> Mapping[str, str]:
        return {AUTH_HEADER: self._token}

    def renew(self) -> bool:
        return False
