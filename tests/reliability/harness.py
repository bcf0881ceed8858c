"""What the reliability tests share: provider hosts that log everything, one "tenant" per platform (a
store, shop, workspace or account of its own, so that cases never see each other's subscriptions), and
the check that the platform holds exactly what a program declares and state matches it.

Every value that must stay secret is recognisable (``SECRETS``), so the secrets audit can search for it
in state, errors and logs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import CACHE_DIR_ENV, SandboxProcess
from engine import Engine, ProviderHost, ResourceState, Result, urn_name

import pulumi_webhooks.cjdropshipping as cj
import pulumi_webhooks.shoplazza as shoplazza
import pulumi_webhooks.shopline as shopline
import pulumi_webhooks.up42 as up42
from pulumi_webhooks._core.pacing import RatePolicy
from pulumi_webhooks._core.tokens import credential_key
from pulumi_webhooks.cjdropshipping.api import CjApi
from pulumi_webhooks.cjdropshipping.auth import ApiKeyAuth

HERE = Path(__file__).resolve().parent
HOST_LOGGING = HERE / "host_logging"  # its sitecustomize.py turns on every log record of a host
PLATFORM_PREFIXES = ("SHOPLINE_", "SHOPLAZZA_", "UP42_", "CJ_", "PULUMI_WEBHOOKS_")

# Recognisable secrets: credentials, signing secrets. Tokens the sandbox issues are found by prefix
# (UP42) or read back from the token cache (CJ) by the audit.
SHOPLINE_TOKEN = "shpat-REL-5f0c1d2e3a4b"
SHOPLAZZA_TOKEN = "szat-REL-8a7b6c5d4e3f"
UP42_USER = "reliability@example.com"
UP42_PASSWORD = "pw-REL-up42-c0ffee77"
UP42_SIGNING_SECRET = "whsec-REL-9e8d7c6b"
UP42_TOKEN_PREFIX = "sbx-up42."
CJ_KEY_SUFFIX = "@api@REL0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SECRETS = (SHOPLINE_TOKEN, SHOPLAZZA_TOKEN, UP42_PASSWORD, UP42_SIGNING_SECRET, CJ_KEY_SUFFIX)

SHOPLINE_VERSION = "v20260301"
SHOPLAZZA_STAGE_TOPICS = (
    "products/create",
    "products/update",
    "products/delete",
    "customers/create",
    "customers/update",
    "customers/delete",
    "collections/create",
    "collections/update",
    "collections/delete",
    "cart/create",
    "cart/update",
)
# How errors name each platform (the sandbox's name -> the label).
LABELS = {
    "shopline": "SHOPLINE",
    "shoplazza": "Shoplazza",
    "up42": "UP42",
    "cjdropshipping": "CJdropshipping",
}
UP42_TOKEN_PATH = "/up42/auth/realms/public/protocol/openid-connect/token"
CJ_QPS = 40  # most cases are not about CJ's pacing


def start_host(
    env: Mapping[str, str], config: Mapping[str, str] | None = None, secret_keys: tuple[str, ...] = ()
) -> ProviderHost:
    """A provider host whose environment is ``env`` alone (the test's own platform variables are not
    inherited; CJ's token cache is this test process's own unless ``env`` names one) and whose every
    log record, DEBUG and up, goes to its stderr (``host.logs()``)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_PREFIXES)}
    pythonpath = os.pathsep.join(p for p in (str(HOST_LOGGING), clean.get("PYTHONPATH")) if p)
    cache = {CACHE_DIR_ENV: os.environ[CACHE_DIR_ENV]} if CACHE_DIR_ENV in os.environ else {}
    return ProviderHost(
        config=dict(config or {}),
        secret_keys=list(secret_keys),
        env={**clean, **cache, **env, "PYTHONPATH": pythonpath},
        inherit_env=False,
    ).start()


def last_line(error: str) -> str:
    """The exception line of an error the provider host reports (it sends a short traceback)."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("pulumi_webhooks.errors.") if lines else ""


def clear_error_problem(error: str, platform_label: str) -> str | None:
    """Why ``error`` is not a clear error (None when it is): one exception from our error tree, naming
    the platform, after a short traceback (not a stack of frames)."""
    lines = error.strip().splitlines()
    if not lines or not lines[-1].startswith("pulumi_webhooks.errors."):
        return f"not one of our errors: {error[-300:]!r}"
    if platform_label not in lines[-1]:
        return f"does not name {platform_label}: {lines[-1]!r}"
    if len(lines) >= 12:
        return f"{len(lines)} lines: a traceback soup"
    return None


def cj_cache_secrets(cache_dir: Path) -> list[str]:
    """The tokens and openIds in CJ's token cache under ``cache_dir``, after checking that every file
    there is private (0600) and named without the API key."""
    found: list[str] = []
    for path in sorted(cache_dir.rglob("*")):
        assert "@api@" not in path.name and not path.name.startswith("CJ"), (
            f"a key in a file name: {path.name}"
        )
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path.name, oct(path.stat().st_mode))
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            assert CJ_KEY_SUFFIX not in path.read_text(), f"{path.name} holds the API key"
            found += [str(data[k]) for k in ("access_token", "refresh_token", "open_id") if data.get(k)]
    assert found, f"no CJ token cache under {cache_dir}"
    return found


def leaks(secrets: Iterable[str], **texts: Iterable[str]) -> list[str]:
    """Where any of ``secrets`` appears in ``texts`` (name -> texts): empty when nowhere."""
    haystacks = {name: list(values) for name, values in texts.items()}
    return [
        f"{name}: {secret[:12]}…"
        for secret in secrets
        for name, values in haystacks.items()
        if any(secret in value for value in values)
    ]


def shopline_webhook_program(address: str) -> Callable[[], None]:
    """A program declaring one valid SHOPLINE webhook of store `open001` for `address`."""

    def program() -> None:
        shopline.Webhook(
            "hook", handle="open001", api_version=SHOPLINE_VERSION, topic="orders/create", address=address
        )

    return program


def step_outcome(result: Result, name: str | None = None) -> str | None:
    """None when the step (or every step) succeeded, else its error."""
    steps = [s for s in result.steps if name is None or s.name == name]
    assert steps, f"no step {name!r} in {result.ops}"
    errors = [s.error or "; ".join(f"{p}: {r}" for p, r in s.failures) for s in steps if not s.ok]
    return errors[0] if errors else None


def wait_for_faults(sandbox: SandboxProcess, platform: str, applied: int, timeout: float = 15.0) -> None:
    """Wait until the sandbox has answered ``applied`` faulted requests of ``platform`` in all: a delayed
    request is still running after the client gave up on it, and must land before the next case."""
    give_up = time.monotonic() + timeout
    while sandbox.stats()["platforms"][platform]["faults"] < applied:
        if time.monotonic() > give_up:
            raise AssertionError(f"{platform}: the sandbox did not finish its faulted requests")
        time.sleep(0.05)


def pending_faults(sandbox: SandboxProcess, platform: str) -> list[dict[str, Any]]:
    faults: list[dict[str, Any]] = sandbox.admin.get("/_sandbox/faults").json()["faults"]
    return [f for f in faults if f["platform"] == platform]


Spec = dict[str, dict[str, Any]]  # resource name -> inputs


@dataclass
class Tenant:
    """One platform's store (shop, workspace, account) used by one case, and how to check it."""

    slug: str
    sandbox: SandboxProcess
    cache_dir: Path | None = None  # CJ's token cache (PULUMI_WEBHOOKS_CACHE_DIR)

    platform: str = ""  # the sandbox's name
    label: str = ""  # how errors name the platform
    # (method, path regex searched in the platform's sub-path) of each operation's main request
    requests: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Subclasses name their store and the requests of each operation here."""

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def config(self) -> dict[str, str]:
        return {}

    def secret_keys(self) -> tuple[str, ...]:
        return ()

    def engine(
        self,
        *,
        fresh_process_per_run: bool = True,
        env: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
    ) -> Engine:
        """An engine on a new provider host for this tenant (``env`` and ``config`` add to the
        platform's variables and stack config)."""
        host = start_host(
            {**self.env(), **(env or {})}, {**self.config(), **(config or {})}, self.secret_keys()
        )
        return Engine(host, fresh_process_per_run=fresh_process_per_run)

    def program(self, spec: Spec) -> Callable[[], None]:
        raise NotImplementedError

    def problems(self, engine: Engine, spec: Spec) -> list[str]:
        """What differs between the program, the platform and the state (empty when they agree)."""
        raise NotImplementedError


class ListTenant(Tenant):
    """A platform of many subscriptions per store: the common check.

    ``stage(k)`` is what the program declares at step ``k`` of a sequence of cases: from one stage to
    the next, ``u`` is updated, ``c{k-1}`` deleted and ``c{k}`` created."""

    store = ""  # the store (shop, workspace) part of this tenant's resource ids

    def stage(self, k: int) -> Spec:
        raise NotImplementedError

    def live(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def key(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """What makes a subscription the declared one, from the platform's record or state outputs."""
        raise NotImplementedError

    def declared_key(self, name: str, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError

    def resource_id(self, record: Mapping[str, Any]) -> str:
        return f"{self.store}/{record['id']}"

    def problems(self, engine: Engine, spec: Spec) -> list[str]:
        live = self.live()
        problems: list[str] = []
        held = sorted(map(self.key, live))
        declared = sorted(self.declared_key(n, i) for n, i in spec.items())
        if held != declared:
            problems.append(f"the platform holds {held}, the program declares {declared}")
        states: dict[str, ResourceState] = {
            urn_name(u): s for u, s in engine.state.items() if s.id.startswith(f"{self.store}/")
        }
        if sorted(states) != sorted(spec):
            problems.append(f"state holds {sorted(states)}, the program declares {sorted(spec)}")
        by_id = {self.resource_id(r): r for r in live}
        for name, state in sorted(states.items()):
            record = by_id.get(state.id)
            if record is None:
                problems.append(f"{name}: its id {state.id} is not on the platform")
            elif self.key(state.outputs) != self.key(record):
                problems.append(f"{name}: state {self.key(state.outputs)} != platform {self.key(record)}")
        return problems


class ShoplineTenant(ListTenant):
    def __post_init__(self) -> None:
        self.platform = "shopline"
        self.label = LABELS[self.platform]
        self.handle = self.store = f"rel-{self.slug}"
        prefix = rf"^/{self.handle}/admin/openapi/[^/]+"
        self.requests = {
            "create": ("POST", prefix + r"/webhooks\.json$"),
            "read": ("GET", prefix + r"/webhooks\.json$"),
            "update": ("PUT", prefix + r"/\d+/webhooks\.json$"),
            "delete": ("DELETE", prefix + r"/\d+/webhooks\.json$"),
        }

    def env(self) -> dict[str, str]:
        return {"SHOPLINE_BASE_URL": self.sandbox.base_url("shopline", "/{handle}")}

    def config(self) -> dict[str, str]:
        return {"shopline:accessToken": SHOPLINE_TOKEN}

    def secret_keys(self) -> tuple[str, ...]:
        return ("shopline:accessToken",)

    def url(self, name: str, variant: str = "") -> str:
        return f"https://hooks.example.com/{self.slug}/{name}{variant}"

    def stage(self, k: int) -> Spec:
        return {
            "u": {"topic": "orders/create", "address": self.url("u", f"-v{k}")},
            f"c{k}": {"topic": "orders/paid", "address": self.url(f"c{k}")},
        }

    def program(self, spec: Spec) -> Callable[[], None]:
        def run() -> None:
            for name, inputs in spec.items():
                shopline.Webhook(name, handle=self.handle, api_version=SHOPLINE_VERSION, **inputs)

        return run

    def live(self) -> list[dict[str, Any]]:
        hooks: list[dict[str, Any]] = self.sandbox.state()["shopline"]["stores"].get(self.handle, [])
        return hooks

    def key(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        return (record.get("topic"), record.get("address"), record.get("api_version"))

    def declared_key(self, name: str, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        return (inputs["topic"], inputs["address"], SHOPLINE_VERSION)


class ShoplazzaTenant(ListTenant):
    def __post_init__(self) -> None:
        self.platform = "shoplazza"
        self.label = LABELS[self.platform]
        self.shop = self.store = f"rel-{self.slug}"
        prefix = rf"^/{self.shop}/openapi/[^/]+"
        self.requests = {
            "create": ("POST", prefix + r"/webhooks$"),
            "read": ("GET", prefix + r"/webhooks$"),
            "update": ("PUT", prefix + r"/webhooks/[^/]+$"),
            "delete": ("DELETE", prefix + r"/webhooks/[^/]+$"),
        }

    def env(self) -> dict[str, str]:
        return {"SHOPLAZZA_BASE_URL": self.sandbox.base_url("shoplazza", "/{shop}")}

    def config(self) -> dict[str, str]:
        return {"shoplazza:accessToken": SHOPLAZZA_TOKEN}

    def secret_keys(self) -> tuple[str, ...]:
        return ("shoplazza:accessToken",)

    def url(self, name: str, variant: str = "") -> str:
        return f"https://hooks.example.com/{self.slug}/{name}{variant}"

    def stage(self, k: int) -> Spec:
        # A shop holds one subscription per topic: every stage's new one has a topic of its own.
        return {
            "u": {"topic": "orders/create", "address": self.url("u", f"-v{k}")},
            f"c{k}": {"topic": SHOPLAZZA_STAGE_TOPICS[k], "address": self.url(f"c{k}")},
        }

    def program(self, spec: Spec) -> Callable[[], None]:
        def run() -> None:
            for name, inputs in spec.items():
                shoplazza.Webhook(name, shop=self.shop, **inputs)

        return run

    def live(self) -> list[dict[str, Any]]:
        hooks: list[dict[str, Any]] = self.sandbox.state()["shoplazza"]["shops"].get(self.shop, [])
        return hooks

    def key(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        return (record.get("topic"), record.get("address"))

    def declared_key(self, name: str, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        return (inputs["topic"], inputs["address"])


class Up42Tenant(ListTenant):
    def __post_init__(self) -> None:
        self.platform = "up42"
        self.label = LABELS[self.platform]
        self.workspace = self.store = str(uuid.uuid5(uuid.NAMESPACE_URL, f"reliability/{self.slug}"))
        prefix = rf"^/api/workspaces/{self.workspace}/webhooks"
        self.requests = {
            "create": ("POST", prefix + "$"),
            "read": ("GET", prefix + "$"),
            "update": ("PUT", prefix + "/[^/]+$"),
            "delete": ("DELETE", prefix + "/[^/]+$"),
        }

    @staticmethod
    def prepare(sandbox: SandboxProcess) -> None:
        """One UP42 account, so that only its password signs in."""
        account = {"username": UP42_USER, "password": UP42_PASSWORD}
        sandbox.admin.post("/up42/_admin/settings", json={"account": account}).raise_for_status()

    def env(self) -> dict[str, str]:
        return {
            "UP42_BASE_URL": f"{self.sandbox.url}/up42/api",
            "UP42_AUTH_URL": f"{self.sandbox.url}{UP42_TOKEN_PATH}",
        }

    def config(self) -> dict[str, str]:
        return {"up42:username": UP42_USER, "up42:password": UP42_PASSWORD}

    def secret_keys(self) -> tuple[str, ...]:
        return ("up42:password",)

    def url(self, name: str, variant: str = "") -> str:
        return f"https://hooks.example.com/{self.slug}/{name}{variant}"

    def stage(self, k: int) -> Spec:
        return {
            "u": {"url": self.url("u", f"-v{k}"), "events": ["job.status"], "secret": UP42_SIGNING_SECRET},
            f"c{k}": {"url": self.url(f"c{k}"), "events": ["job.status", "order.status"]},
        }

    def program(self, spec: Spec) -> Callable[[], None]:
        def run() -> None:
            for name, inputs in spec.items():
                up42.Webhook(name, workspace_id=self.workspace, **inputs)

        return run

    def live(self) -> list[dict[str, Any]]:
        hooks: list[dict[str, Any]] = self.sandbox.state()["up42"]["workspaces"].get(self.workspace, [])
        return hooks

    def key(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        events = record.get("events")
        return (record.get("url"), tuple(sorted(events or ())), record.get("name"))

    def declared_key(self, name: str, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        return (inputs["url"], tuple(sorted(inputs["events"])), inputs.get("name", name))


CJ_GROUP_FIELDS = {
    "product": "product_url",
    "stock": "stock_url",
    "order": "order_url",
    "logistics": "logistics_url",
}


class CjTenant(Tenant):
    """One CJ account (its own API key); the one resource is named ``cj``."""

    def __post_init__(self) -> None:
        self.platform = "cjdropshipping"
        self.label = LABELS[self.platform]
        number = int(hashlib.sha256(self.slug.encode()).hexdigest()[:6], 16)
        self.account = f"CJ{number}"
        self.api_key = f"{self.account}{CJ_KEY_SUFFIX}"
        self.requests = {
            "create": ("POST", r"/webhook/set$"),
            "read": ("GET", r"/setting/get$"),
            "update": ("POST", r"/webhook/set$"),
            "delete": ("POST", r"/webhook/set$"),
        }

    @staticmethod
    def prepare(sandbox: SandboxProcess) -> None:
        sandbox.admin.post(
            "/cjdropshipping/_sandbox/settings", json={"account_qps": CJ_QPS}
        ).raise_for_status()

    def env(self) -> dict[str, str]:
        assert self.cache_dir is not None, "a CJ tenant needs a token cache directory"
        return {
            "CJ_BASE_URL": self.sandbox.base_url("cjdropshipping", "/api2.0/v1"),
            "CJ_QPS": str(CJ_QPS),
            "PULUMI_WEBHOOKS_CACHE_DIR": str(self.cache_dir),
        }

    def config(self) -> dict[str, str]:
        return {"cjdropshipping:apiKey": self.api_key}

    def secret_keys(self) -> tuple[str, ...]:
        return ("cjdropshipping:apiKey",)

    def url(self, group: str, variant: str = "") -> str:
        return f"https://hooks.example.com/{self.slug}/cj/{group}{variant}"

    def specs(self) -> tuple[Spec, Spec]:
        first = {"cj": {"product_url": self.url("product"), "order_url": self.url("order")}}
        second = {"cj": {"product_url": self.url("product", "-v2"), "stock_url": self.url("stock")}}
        return first, second

    def program(self, spec: Spec) -> Callable[[], None]:
        def run() -> None:
            for name, inputs in spec.items():
                cj.WebhookSettings(name, **inputs)

        return run

    def enabled(self) -> dict[str, str]:
        accounts = self.sandbox.state()["cjdropshipping"]["accounts"]
        groups = accounts.get(self.account, {}).get("callback", {})
        return {g: v["urls"][0] for g, v in groups.items() if v["type"] == "ENABLE" and v["urls"]}

    def problems(self, engine: Engine, spec: Spec) -> list[str]:
        problems: list[str] = []
        enabled = self.enabled()
        declared = {
            g: url for inputs in spec.values() for g, f in CJ_GROUP_FIELDS.items() if (url := inputs.get(f))
        }
        if enabled != declared:
            problems.append(f"the account enables {enabled}, the program declares {declared}")
        states = {urn_name(u): s for u, s in engine.state.items()}
        if sorted(states) != sorted(spec):
            problems.append(f"state holds {sorted(states)}, the program declares {sorted(spec)}")
        for name, state in states.items():
            stored = {g: url for g, f in CJ_GROUP_FIELDS.items() if (url := state.outputs.get(f))}
            if stored != enabled:
                problems.append(f"{name}: state {stored} != platform {enabled}")
        return problems


TENANTS: dict[str, type[Tenant]] = {
    "shopline": ShoplineTenant,
    "shoplazza": ShoplazzaTenant,
    "up42": Up42Tenant,
    "cjdropshipping": CjTenant,
}


@dataclass
class CjAccount:
    """A new CJ account on the sandbox (its own API key), and its clients as the provider builds them:
    one rate-limit bucket per key and endpoint, shared by every client of the process."""

    sandbox: SandboxProcess
    rate: RatePolicy
    api_key: str = field(default_factory=lambda: f"CJ{uuid.uuid4().int % 10**7}@api@{uuid.uuid4().hex}")

    def __post_init__(self) -> None:
        self.sandbox.admin.post(
            "/cjdropshipping/_sandbox/settings", json={"account_qps": 100}
        ).raise_for_status()
        self.base_url = self.sandbox.base_url("cjdropshipping", "/api2.0/v1")

    def client(self) -> CjApi:
        return CjApi(
            self.base_url,
            auth=ApiKeyAuth(self.base_url, self.api_key),
            pace_key=f"cjdropshipping {credential_key(self.base_url, self.api_key)}",
            rate=self.rate,
        )
