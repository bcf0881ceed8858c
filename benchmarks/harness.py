"""What every measure shares: the sandbox subprocess, provider hosts wired to it, programs, and readings
taken from outside the code under measurement (the sandbox's request log and counters, ``/proc``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from engine import Engine, ProviderHost, Registration, Result, collect  # noqa: E402  (tests/ is put on the path above)

import pulumi_webhooks.cjdropshipping as cjdropshipping  # noqa: E402
import pulumi_webhooks.shoplazza as shoplazza  # noqa: E402
import pulumi_webhooks.shopline as shopline  # noqa: E402
import pulumi_webhooks.up42 as up42  # noqa: E402

__all__ = [  # what the measures use, the engine's names included
    "ENGINE_PARALLEL",
    "REPO",
    "UP42_CATALOG_PATH",
    "WORKERS",
    "Engine",
    "Registration",
    "Result",
    "Sandbox",
    "Traffic",
    "collect",
    "cpu_seconds",
    "engine",
    "host_pid",
    "machine",
    "median",
    "memory_kib",
    "minimal_program",
    "mixed_program",
    "one_of_each_program",
    "shopline_program",
    "timed",
]

READY = re.compile(r"pulumi-webhooks sandbox listening on (http://127\.0\.0\.1:\d+)")
PLATFORM_PREFIXES = ("SHOPLINE_", "SHOPLAZZA_", "UP42_", "CJ_", "PULUMI_WEBHOOKS_")
WORKERS = 4  # the dynamic provider host serves at most 4 RPCs at once (ThreadPoolExecutor(max_workers=4))
# The CLI's --parallel is unbounded by default, so the host's 4 workers are the bound; the engine stand-in
# runs with more steps in flight than that so that it never is (tests/engine.py defaults to 4).
ENGINE_PARALLEL = 16
TOKEN_PATHS = ("/up42/auth/", "/authentication/getAccessToken", "/authentication/refreshAccessToken")
UP42_CATALOG_PATH = "/up42/api/webhooks/events"
RECEIVER = "https://hooks.example.com"
API_VERSION = "v20260301"

Program = Callable[[], None]


# ----------------------------------------------------------------------------- the sandbox


@dataclass(frozen=True)
class Request:
    """One entry of the sandbox's request log (method, path and outcome only; never headers or bodies)."""

    platform: str
    method: str
    path: str
    status: int | None
    end: float  # when the answer was ready (time.time())
    duration: float  # seconds, the injected latency included

    @property
    def start(self) -> float:
        return self.end - self.duration

    @property
    def is_token(self) -> bool:
        return any(part in self.path for part in TOKEN_PATHS)

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD") and not self.is_token


@dataclass(frozen=True)
class Traffic:
    """What the platforms saw during one step."""

    requests: list[Request]

    def count(self, keep: Callable[[Request], bool] = lambda _: True) -> int:
        return sum(1 for r in self.requests if keep(r))

    @property
    def writes(self) -> int:
        return self.count(lambda r: r.is_write)

    def tokens_by_platform(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for r in self.requests:
            if r.is_token:
                found[r.platform] = found.get(r.platform, 0) + 1
        return found

    @property
    def window(self) -> float:
        """Seconds from the start of the first request to the last answer, as the platform saw them."""
        if not self.requests:
            return 0.0
        return max(r.end for r in self.requests) - min(r.start for r in self.requests)

    def by_platform(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for r in self.requests:
            found[r.platform] = found.get(r.platform, 0) + 1
        return found


class Sandbox:
    """The sandbox as a subprocess (so that its work never competes with the engine's for one GIL)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi_webhooks.sandbox", "--port", "0", "--latency", str(latency)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        match = READY.search(self._proc.stdout.readline())
        if match is None:
            self._proc.kill()
            raise RuntimeError("the sandbox did not start")
        self.url = match[1]
        self.admin = httpx.Client(base_url=self.url, timeout=60)
        templates: dict[str, Any] = self.admin.get("/_sandbox/health").json()["platforms"]
        self.templates = {name: self.url + str(p["url_template"]) for name, p in templates.items()}

    def close(self) -> None:
        self.admin.close()
        self._proc.send_signal(signal.SIGTERM)
        self._proc.wait(timeout=10)

    def reset(self) -> None:
        """Empty state, log and counters; settings back to the start-up ones (latency, rate limits on)."""
        self.admin.post("/_sandbox/reset", json={}).raise_for_status()

    def settings(self, **values: Any) -> None:
        self.admin.post("/_sandbox/settings", json=values).raise_for_status()

    def clear_log(self) -> None:
        self.admin.delete("/_sandbox/requests").raise_for_status()

    def traffic(self) -> Traffic:
        """The requests logged since the last `clear_log` (the log keeps the last 2000)."""
        entries: list[dict[str, Any]] = self.admin.get("/_sandbox/requests").json()["requests"]
        return Traffic(
            [
                Request(
                    platform=str(e["platform"]),
                    method=str(e["method"]),
                    path=str(e["path"]),
                    status=e["status"],
                    end=float(e["time"]),
                    duration=float(e["duration_ms"]) / 1000,
                )
                for e in entries
            ]
        )

    def stats(self, platform: str) -> dict[str, Any]:
        stats: dict[str, Any] = self.admin.get("/_sandbox/stats").json()["platforms"][platform]
        return stats

    def env(self, cache_dir: str, **extra: str) -> dict[str, str]:
        """A provider host's environment: every platform pointed at the sandbox, nothing inherited from
        this process's own platform variables."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_PREFIXES)}
        return {
            **clean,
            "SHOPLINE_BASE_URL": self.templates["shopline"],
            "SHOPLINE_ACCESS_TOKEN": "bench-shopline-token",
            "SHOPLAZZA_BASE_URL": self.templates["shoplazza"],
            "SHOPLAZZA_ACCESS_TOKEN": "bench-shoplazza-token",
            "UP42_BASE_URL": f"{self.url}/up42/api",
            "UP42_AUTH_URL": f"{self.url}/up42/auth/realms/public/protocol/openid-connect/token",
            "UP42_USERNAME": "bench@example.com",
            "UP42_PASSWORD": "bench-password",
            "CJ_BASE_URL": self.templates["cjdropshipping"],
            "PULUMI_WEBHOOKS_CACHE_DIR": cache_dir,  # CJ's token cache: never the user's own
            **extra,
        }


@contextmanager
def engine(sandbox: Sandbox, **extra_env: str) -> Iterator[Engine]:
    """An engine whose commands each run in a new provider-host process (as the CLI's do)."""
    with tempfile.TemporaryDirectory(prefix="pulumi-webhooks-bench-") as cache_dir:
        host = ProviderHost(env=sandbox.env(cache_dir, **extra_env), inherit_env=False, project="bench")
        host.start()
        try:
            yield Engine(host)
        finally:
            host.close()


def host_pid(eng: Engine) -> int:
    proc = eng.host._proc
    assert proc is not None, "the provider host is not running"
    return proc.pid


# ----------------------------------------------------------------------------- readings from /proc


def memory_kib(pid: int) -> tuple[int, int]:
    """(resident set size, its peak) of a process, in KiB (``VmRSS``, ``VmHWM`` of /proc/<pid>/status)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _commit() -> str:
    """The checkout's commit, marked when the working tree has changes on top of it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} (with uncommitted changes)" if dirty else head


def machine() -> dict[str, str]:
    """What the figures ran on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.partition(":")[2].strip()
            break
    return {
        "uname -a": subprocess.run(
            ["uname", "-a"], capture_output=True, text=True, check=True
        ).stdout.strip(),
        "CPU": cpu,
        "commit": _commit(),
        "cores": str(os.cpu_count()),
        "Python": sys.version.split()[0],
        "load average at start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


# ----------------------------------------------------------------------------- programs


def _uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pulumi-webhooks-bench/{name}"))


SHOPLAZZA_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/cancelled",
    "products/create",
    "products/update",
    "customers/create",
)


def mixed_program(*, shopline_stores: int = 4, per_store: int = 20) -> Program:
    """200 resources over the four platforms: 80 SHOPLINE (4 stores), 60 Shoplazza (10 shops x 6 topics:
    a shop holds one subscription per topic), 56 UP42 (4 workspaces), 4 CJ accounts (one each)."""

    def program() -> None:
        for store in range(shopline_stores):
            for i in range(per_store):
                shopline.Webhook(
                    f"shopline-{store}-{i}",
                    handle=f"bench-{store}",
                    topic="orders/create",
                    address=f"{RECEIVER}/shopline/{store}/{i}",
                    api_version=API_VERSION,
                )
        for shop in range(10):
            for topic in SHOPLAZZA_TOPICS:
                shoplazza.Webhook(
                    f"shoplazza-{shop}-{topic}",
                    shop=f"bench-{shop}",
                    topic=topic,
                    address=f"{RECEIVER}/shoplazza/{shop}/{topic}",
                )
        for workspace in range(4):
            for i in range(14):
                up42.Webhook(
                    f"up42-{workspace}-{i}",
                    workspace_id=_uuid(f"workspace-{workspace}"),
                    url=f"{RECEIVER}/up42/{workspace}/{i}",
                    events=["job.status"],
                )
        for account in range(4):
            cjdropshipping.WebhookSettings(
                f"cj-{account}",
                api_key=f"CJBench{account}@api@bench-key-{account}",
                order_url=f"{RECEIVER}/cj/{account}/orders",
            )

    return program


def shopline_program(count: int, *, stores: int = 1, prefix: str = "bench") -> Program:
    """``count`` SHOPLINE subscriptions spread evenly over ``stores`` stores."""

    def program() -> None:
        for i in range(count):
            shopline.Webhook(
                f"{prefix}-{i}",
                handle=f"{prefix}-{i % stores}",
                topic="orders/create",
                address=f"{RECEIVER}/shopline/{i}",
                api_version=API_VERSION,
            )

    return program


def minimal_program(count: int, *, prefix: str = "minimal") -> Program:
    """``count`` webhooks on one store through the minimal provider (``benchmarks/minimal.py``)."""
    from benchmarks.minimal import MinimalWebhook

    def program() -> None:
        for i in range(count):
            MinimalWebhook(
                f"{prefix}-{i}",
                handle=prefix,
                topic="orders/create",
                address=f"{RECEIVER}/shopline/{i}",
                api_version=API_VERSION,
            )

    return program


def one_of_each_program() -> Program:
    def program() -> None:
        shopline.Webhook(
            "shopline", handle="bench", topic="orders/create", address=RECEIVER, api_version=API_VERSION
        )
        shoplazza.Webhook("shoplazza", shop="bench", topic="orders/create", address=RECEIVER)
        up42.Webhook("up42", workspace_id=_uuid("workspace"), url=RECEIVER, events=["job.status"])
        cjdropshipping.WebhookSettings("cj", order_url=RECEIVER)

    return program


def median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
