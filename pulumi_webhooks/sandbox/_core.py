"""The emulator's engine, free of any HTTP framework: requests in, responses out.

`Sandbox` routes `/{platform}/...` to registered `Platform` objects and wraps them with what every
platform shares: rate limiting, fault injection, artificial latency, a request log, counters, an
optional state file and the admin API under `/_sandbox/`. The socket-level effects a fault asks for
(dropping the connection, truncating the body) are carried to the server in `SandboxResponse.action`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._dashboard import DASHBOARD_HEADERS, DASHBOARD_PATHS, render_dashboard

Action = Literal["drop", "commit_then_drop", "truncate"]
FaultKind = Literal["status", "delay", "drop", "commit_then_drop", "malformed", "truncated"]

ADMIN_PREFIX = "/_sandbox"
LOG_SIZE = 2000  # bounded so a long benchmark cannot grow memory without limit
MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
MAX_PATH_PATTERN = 200  # characters of a fault's `path` pattern
MAX_FAULT_PATH = 2048  # characters: a longer request path matches no fault rule
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is answered with a 400, not also logged to stderr


def compile_path_pattern(source: str) -> Any:
    """A fault's `path` pattern compiled by RE2 (cached by `re2.compile`). Python's `re` backtracks:
    `(a+)+$` against forty `a`s and a `!` holds the interpreter for hours, stalling every endpoint. RE2
    matches in time linear in the path and refuses what needs backtracking (backreferences,
    lookarounds); a refusal is a ValueError saying why."""
    if len(source) > MAX_PATH_PATTERN:
        raise ValueError(f"longer than {MAX_PATH_PATTERN} characters")
    try:
        return re2.compile(source, _RE2_OPTIONS)
    except re2.error as exc:
        why = exc.args[0] if exc.args else ""
        why = why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)
        raise ValueError(f"RE2 cannot compile it ({why}; RE2 has no backreferences or lookarounds)") from exc


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers (HTTP header names are case-insensitive)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._data = {k.lower(): v for k, v in pairs}

    def __getitem__(self, key: str) -> str:
        return self._data[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:  # names only: values may be credentials
        return f"Headers({sorted(self._data)})"


@dataclass
class SandboxRequest:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError when it is not)."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class SandboxResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    action: Action | None = None
    wrote: bool = False  # set by platforms when the request changed state (stats, state file)


class Reject(Exception):  # carries a response; not a sandbox error
    """Raised inside a platform to answer early with a ready response."""

    def __init__(self, response: SandboxResponse) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None, *, wrote: bool = False
) -> SandboxResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return SandboxResponse(status, headers, body, wrote=wrote)


def empty_response(
    status: int = 200, headers: Mapping[str, str] | None = None, *, wrote: bool = False
) -> SandboxResponse:
    return SandboxResponse(status, dict(headers or {}), wrote=wrote)


@dataclass
class Settings:
    """Switches shared by the sandbox and every platform (platforms read them, never write them)."""

    rate_limits: bool = True
    latency: float = 0.0  # seconds added to every platform request (benchmarks)
    token: str | None = None  # when set, platforms accept only this token


class Platform:
    """Base class of one emulated platform; subclasses register in `sandbox/_registry.py`.

    A subclass sets `name` (the URL prefix), `url_template` (what a client puts in its base-URL
    setting, relative to the sandbox URL), `rate` and `burst`, and implements `handle`, `snapshot`,
    `load` and `reset`. It guards its own state with `self.lock`: requests arrive on many threads.
    """

    name: str = ""
    url_template: str = ""
    rate: float = 10.0  # leaky bucket: requests drained per second
    burst: float = 40.0  # bucket size

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.settings = Settings()  # replaced by the sandbox's shared object on registration

    def handle(self, req: SandboxRequest, sub_path: str) -> SandboxResponse:
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def load(self, data: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def rate_key(self, req: SandboxRequest, sub_path: str) -> str | None:
        """The bucket a request is charged to (for example one store and app), or None for no limit."""
        return None

    def limits(self, key: str) -> tuple[float, float]:
        """(rate per second, bucket size) of one rate key; override when they vary (account levels)."""
        return self.rate, self.burst

    def error(self, status: int, message: str) -> SandboxResponse:
        """An error in this platform's envelope (platforms override when theirs differs)."""
        return json_response(status, {"errors": message})

    def rate_limited(self) -> SandboxResponse:
        return self.error(429, "Too many requests")

    def response_headers(self, req: SandboxRequest) -> dict[str, str]:
        """Headers added to every answer of this platform, faults included (for example a trace id)."""
        return {}


class FaultSpec(BaseModel):
    """One entry of `POST /_sandbox/faults`: applies to the next `count` matching requests."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    method: str | None = None
    path: str | None = None  # an RE2 pattern searched in the platform sub-path (linear time)
    kind: FaultKind
    status: int = Field(503, ge=100, le=599)
    retry_after: float | None = Field(None, ge=0)
    body: Any = None
    delay: float = Field(0.0, ge=0, le=300)
    count: int = Field(1, ge=1)

    @field_validator("path")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_path_pattern(value)
            except ValueError as exc:
                raise ValueError(f"invalid path pattern: {exc}") from exc
        return value

    def matches(self, platform: str, method: str, sub_path: str) -> bool:
        return (
            self.platform == platform
            and (self.method is None or self.method.upper() == method)
            and (
                self.path is None
                or (
                    len(sub_path) <= MAX_FAULT_PATH
                    and compile_path_pattern(self.path).search(sub_path) is not None
                )
            )
        )


class SettingsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_limits: bool | None = None
    latency: float | None = Field(None, ge=0, le=60)
    token: str | None = None


@dataclass
class _Fault:
    id: int
    spec: FaultSpec
    remaining: int


@dataclass
class _Bucket:
    level: float = 0.0
    at: float = 0.0


@dataclass
class _Stats:
    requests: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    writes: int = 0
    faults: int = 0
    connections: int = 0  # TCP connections whose first request was for this platform (keep-alive reuse)


class Sandbox:
    """The application: platforms, shared behaviour and the admin API, behind one `handle` call."""

    def __init__(
        self,
        platforms: Iterable[Platform],
        *,
        settings: Settings | None = None,
        state_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._initial = Settings(**vars(self.settings))  # what `reset` returns to
        self.platforms: dict[str, Platform] = {}
        for platform in platforms:
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", platform.name):
                raise ValueError(f"bad platform name {platform.name!r}")
            platform.settings = self.settings
            self.platforms[platform.name] = platform
        self._lock = threading.Lock()  # faults, buckets, log, stats
        self._save_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._fault_ids = 0
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._stats: dict[str, _Stats] = {name: _Stats() for name in self.platforms}
        self.state_file = Path(state_file) if state_file is not None else None
        if self.state_file is not None and self.state_file.exists():
            self.load_state(json.loads(self.state_file.read_text("utf-8")))

    # -- state ---------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {name: p.snapshot() for name, p in self.platforms.items()}

    def load_state(self, data: Mapping[str, Any]) -> None:
        for name, state in data.items():
            if name in self.platforms:  # a state file from a build with more platforms still loads
                self.platforms[name].load(state)

    def save_state(self) -> None:
        """Write the state file atomically (temp file + rename): a crash never leaves half a file."""
        if self.state_file is None:
            return
        with self._save_lock:
            data = json.dumps(self.snapshot(), indent=1, sort_keys=True)
            folder = self.state_file.parent
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.state_file.name}.", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(data)
                os.replace(tmp, self.state_file)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def reset(self) -> None:
        """Empty state, faults, buckets, log and counters; settings go back to the startup values."""
        for platform in self.platforms.values():
            platform.reset()
        with self._lock:
            self._faults.clear()
            self._buckets.clear()
            self._log.clear()
            self._stats = {name: _Stats() for name in self.platforms}
            for key, value in vars(self._initial).items():
                setattr(self.settings, key, value)
        self.save_state()

    def request_log(self, platform: str | None = None) -> list[dict[str, Any]]:
        """The logged platform requests, oldest first (only `platform`'s when given)."""
        with self._lock:
            return [dict(e) for e in self._log if platform is None or e["platform"] == platform]

    # -- requests ------------------------------------------------------------------------------

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
            try:
                return self._admin(req, req.path[len(ADMIN_PREFIX) :])
            except Reject as rej:
                return rej.response
        name, _, rest = req.path.lstrip("/").partition("/")
        platform = self.platforms.get(name)
        if platform is None:
            return json_response(
                404, {"error": f"no platform at /{name}", "platforms": sorted(self.platforms)}
            )
        started = time.monotonic()
        sub_path = "/" + rest
        fault = self._take_fault(name, req.method, sub_path)
        resp = self._run(platform, req, sub_path, fault)
        resp.headers = {**platform.response_headers(req), **resp.headers}
        self._record(name, req, resp, fault, time.monotonic() - started)
        if resp.wrote:
            self.save_state()
        return resp

    def _run(
        self, platform: Platform, req: SandboxRequest, sub_path: str, fault: FaultSpec | None
    ) -> SandboxResponse:
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "status":
            if fault.body is not None:
                resp = json_response(fault.status, fault.body)
            else:
                resp = platform.error(fault.status, _phrase(fault.status))
            if fault.retry_after is not None:
                resp.headers["Retry-After"] = f"{fault.retry_after:g}"
            return resp
        if fault is not None and fault.kind == "drop":
            return SandboxResponse(0, action="drop")
        if self.settings.latency:
            time.sleep(self.settings.latency)
        key = platform.rate_key(req, sub_path)
        if key is not None and self.settings.rate_limits and not self._admit(platform, key):
            return platform.rate_limited()
        try:
            resp = platform.handle(req, sub_path)
        except Reject as rej:
            resp = rej.response
        except Exception as exc:  # a bug in an emulator must still answer, like a real 500
            resp = platform.error(500, f"sandbox error: {type(exc).__name__}")
        if fault is not None and fault.kind == "commit_then_drop":
            resp.action = "commit_then_drop"
        elif fault is not None and fault.kind == "malformed":
            resp.status, resp.body = 200, MALFORMED_BODY
            resp.headers["Content-Type"] = "text/html"
        elif fault is not None and fault.kind == "truncated":
            resp.body = resp.body or b"{}"  # an empty body cannot be cut in half
            resp.action = "truncate"
        return resp

    def _admit(self, platform: Platform, key: str) -> bool:
        """Leaky bucket: each request adds 1, the bucket drains at `rate`/s, overflow is refused."""
        rate, burst = platform.limits(key)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault((platform.name, key), _Bucket(0.0, now))
            bucket.level = max(0.0, bucket.level - (now - bucket.at) * rate)
            bucket.at = now
            if bucket.level + 1 > burst:
                return False
            bucket.level += 1
            return True

    def _take_fault(self, platform: str, method: str, sub_path: str) -> FaultSpec | None:
        with self._lock:
            for fault in self._faults:
                if fault.spec.matches(platform, method, sub_path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.spec
        return None

    def connection_opened(self, path: str) -> None:
        """Count a new client connection against the platform of its first request (admin ones are not
        counted): benchmarks read it to see that clients reuse connections."""
        name = path.lstrip("/").partition("/")[0]
        with self._lock:
            if name in self._stats:
                self._stats[name].connections += 1

    def _record(
        self, name: str, req: SandboxRequest, resp: SandboxResponse, fault: FaultSpec | None, duration: float
    ) -> None:
        # Method, path and outcome only: header values and bodies may hold credentials.
        status = None if resp.action in ("drop", "commit_then_drop") else resp.status
        entry = {
            "time": time.time(),
            "platform": name,
            "method": req.method,
            "path": req.path,
            "status": status,
            "duration_ms": round(duration * 1000, 3),
            "fault": fault.kind if fault else None,
        }
        with self._lock:
            self._log.append(entry)
            stats = self._stats[name]
            stats.requests += 1
            stats.by_method[req.method] = stats.by_method.get(req.method, 0) + 1
            stats.by_status[str(status)] = stats.by_status.get(str(status), 0) + 1
            stats.rate_limited += resp.status == 429
            stats.writes += resp.wrote
            stats.faults += fault is not None

    # -- admin API -----------------------------------------------------------------------------

    def _admin(self, req: SandboxRequest, path: str) -> SandboxResponse:
        route = (req.method, path.rstrip("/") or "/")
        if route == ("GET", "/health"):
            platforms = {n: {"url_template": p.url_template} for n, p in self.platforms.items()}
            return json_response(200, {"status": "ok", "platforms": platforms})
        if route == ("GET", "/state"):
            return json_response(200, self.snapshot())
        if route == ("POST", "/state"):  # seed state: {"shopline": {...snapshot...}}
            data = _admin_json(req)
            if not isinstance(data, dict):
                raise Reject(json_response(400, {"error": "expected an object of platform snapshots"}))
            try:
                self.load_state(data)
            except (ValidationError, ValueError, TypeError) as exc:
                raise Reject(json_response(400, {"error": f"invalid snapshot: {exc}"})) from exc
            self.save_state()
            return json_response(200, self.snapshot())
        if route == ("POST", "/reset"):
            self.reset()
            return json_response(200, {"status": "reset"})
        if route == ("GET", "/requests"):
            return json_response(200, {"requests": self.request_log(req.query.get("platform", [None])[0])})
        if route == ("DELETE", "/requests"):
            with self._lock:
                self._log.clear()
            return json_response(200, {"requests": []})
        if route == ("GET", "/faults"):
            return json_response(200, {"faults": self._fault_list()})
        if route == ("POST", "/faults"):
            return json_response(200, {"fault": self._add_fault(_admin_json(req))})
        if route == ("DELETE", "/faults"):
            with self._lock:
                self._faults.clear()
            return json_response(200, {"faults": []})
        if route == ("GET", "/settings"):
            return json_response(200, self._settings_view())
        if route == ("POST", "/settings"):
            return json_response(200, self._patch_settings(_admin_json(req)))
        if route == ("GET", "/stats"):
            with self._lock:
                stats = {n: json.loads(json.dumps(vars(s))) for n, s in self._stats.items()}  # deep copy
            return json_response(200, {"platforms": stats})
        if route == ("POST", "/deliver"):  # signed sample events to a topic's subscriptions, on loopback
            from ._delivery import deliver  # on demand: it loads the samples and topic catalogs

            return deliver(self, _admin_json(req))
        if req.method == "GET" and route[1] in DASHBOARD_PATHS:  # the read-only HTML dashboard
            html = render_dashboard(route[1], self.snapshot(), self.request_log())
            return SandboxResponse(200, dict(DASHBOARD_HEADERS), html.encode())
        return json_response(404, {"error": f"no admin endpoint {req.method} {ADMIN_PREFIX}{path}"})

    def _add_fault(self, data: Any) -> dict[str, Any]:
        try:
            spec = FaultSpec.model_validate(data)
        except ValidationError as exc:
            raise Reject(json_response(400, {"error": _short(exc)})) from exc
        if spec.platform not in self.platforms:
            raise Reject(json_response(400, {"error": f"unknown platform {spec.platform!r}"}))
        with self._lock:
            self._fault_ids += 1
            self._faults.append(_Fault(self._fault_ids, spec, spec.count))
        return {"id": self._fault_ids, **spec.model_dump()}

    def _fault_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"id": f.id, "remaining": f.remaining, **f.spec.model_dump()} for f in self._faults]

    def _patch_settings(self, data: Any) -> dict[str, Any]:
        try:
            patch = SettingsPatch.model_validate(data)
        except ValidationError as exc:
            raise Reject(json_response(400, {"error": _short(exc)})) from exc
        with self._lock:
            for key in patch.model_fields_set:  # absent keys stay; an explicit null clears the token
                value = getattr(patch, key)
                if key == "token":
                    self.settings.token = value or None
                elif value is not None:
                    setattr(self.settings, key, value)
            self._buckets.clear()
        return self._settings_view()

    def _settings_view(self) -> dict[str, Any]:
        # The token itself is never echoed: it is a credential.
        s = self.settings
        return {"rate_limits": s.rate_limits, "latency": s.latency, "token_set": s.token is not None}


def _admin_json(req: SandboxRequest) -> Any:
    try:
        return json.loads(req.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Reject(json_response(400, {"error": f"body is not JSON: {exc}"})) from exc


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
