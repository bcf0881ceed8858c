"""Secrets audit: recognisable secrets run through every scenario, and none of them may show up in state
outputs not marked secret, in an error message, in a log record (every logger, DEBUG and up) or in an
exception's repr. The CJ token cache files are private (0600) and named without the key.

The fault matrix (test_fault_matrix.py) audits its 144 cells the same way, with credentials from the
stack config. Here the credentials are resource inputs, and the scenarios are the ones where a secret is
most at risk: a rejected credential (the platform's error body is quoted), a check failure next to a
secret input, an adoption conflict (the existing subscription is described), a validation error
quoting the platform, an update of a signing secret, refresh, destroy.
"""

from __future__ import annotations

import http.server
import io
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from conftest import SandboxProcess
from engine import Engine, Result

import pulumi_webhooks.cjdropshipping as cj
import pulumi_webhooks.shoplazza as shoplazza
import pulumi_webhooks.shopline as shopline
import pulumi_webhooks.up42 as up42
from pulumi_webhooks import errors
from pulumi_webhooks._core.redact import get_logger, register_secret
from pulumi_webhooks._core.tokens import Token
from pulumi_webhooks.cjdropshipping.auth import AccessTokenAuth, ApiKeyAuth
from pulumi_webhooks.cjdropshipping.provider import CjWebhookSettingsProvider
from pulumi_webhooks.shoplazza.provider import ShoplazzaWebhookProvider
from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider
from pulumi_webhooks.up42.auth import Credentials, Up42Auth
from pulumi_webhooks.up42.models import Up42Webhook
from pulumi_webhooks.up42.provider import Up42WebhookProvider
from reliability.harness import (
    SECRETS,
    SHOPLAZZA_TOKEN,
    SHOPLINE_TOKEN,
    UP42_PASSWORD,
    UP42_SIGNING_SECRET,
    UP42_TOKEN_PATH,
    UP42_TOKEN_PREFIX,
    UP42_USER,
    CjTenant,
    ShoplazzaTenant,
    ShoplineTenant,
    Up42Tenant,
    cj_cache_secrets,
    leaks,
    start_host,
)

WRONG_SHOPLINE = "shpat-WRONG-7d6c5b4a"
WRONG_SHOPLAZZA = "szat-WRONG-1a2b3c4d"
WRONG_UP42_PASSWORD = "pw-WRONG-up42-5e6f"
WRONG_CJ_TOKEN = "cjat-WRONG-0f1e2d3c4b5a"
SECOND_SIGNING_SECRET = "whsec-REL-second-4d3c"
ALL = (*SECRETS, WRONG_SHOPLINE, WRONG_SHOPLAZZA, WRONG_UP42_PASSWORD, WRONG_CJ_TOKEN, SECOND_SIGNING_SECRET)


class Audit:
    """Runs engine commands and keeps every text the audit scans."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.logs: list[str] = []
        self.plaintext: list[str] = []
        self.engines: list[Engine] = []

    def engine(
        self, env: dict[str, str], config: dict[str, str] | None = None, secret: tuple[str, ...] = ()
    ) -> Engine:
        engine = Engine(start_host(env, config, secret))
        self.engines.append(engine)
        return engine

    def run(self, command: Callable[[], Result], *, ok: bool) -> Result:
        result = command()
        self.errors += [s.error for s in result.steps if s.error]
        self.errors += [f"{p}: {r}" for s in result.steps for p, r in s.failures]
        assert result.ok is ok, result.steps
        return result

    def close(self) -> None:
        for engine in self.engines:
            engine.host.close()
            self.logs.append(engine.host.logs())
            self.plaintext.append(repr(engine.secret_plaintext_outputs()))
            for state in engine.state.values():
                self.plaintext.append(
                    repr({k: v for k, v in state.inputs.items() if k not in state.secret_outputs})
                )

    def leaks(self, secrets: list[str]) -> list[str]:
        assert any("LOG DEBUG" in log for log in self.logs), (
            "host logging is off: the audit would see nothing"
        )
        return leaks(secrets, errors=self.errors, logs=self.logs, state=self.plaintext)


@pytest.fixture
def audit() -> Iterator[Audit]:
    found = Audit()
    try:
        yield found
    finally:
        found.close()


def shopline_program(token: str, address: str = "https://hooks.example.com/audit") -> Callable[[], None]:
    def run() -> None:
        shopline.Webhook(
            "hook",
            handle="rel-audit",
            topic="orders/create",
            address=address,
            api_version="v20260301",
            access_token=token,
        )

    return run


def shoplazza_program(token: str, address: str = "https://hooks.example.com/audit") -> Callable[[], None]:
    def run() -> None:
        shoplazza.Webhook(
            "hook", shop="rel-audit", topic="orders/create", address=address, access_token=token
        )

    return run


def test_shopline_and_shoplazza_tokens_given_as_inputs(sandbox: SandboxProcess, audit: Audit) -> None:
    for token, wrong, env, program in (
        (SHOPLINE_TOKEN, WRONG_SHOPLINE, ShoplineTenant("audit", sandbox).env(), shopline_program),
        (SHOPLAZZA_TOKEN, WRONG_SHOPLAZZA, ShoplazzaTenant("audit", sandbox).env(), shoplazza_program),
    ):
        sandbox.settings(token=token)  # the platform accepts this token alone
        engine = audit.engine(env)
        audit.run(lambda: engine.preview(program(token, "http://localhost/x")), ok=False)  # noqa: B023
        audit.run(lambda: engine.up(program(wrong)), ok=False)  # noqa: B023
        audit.run(lambda: engine.up(program(token)), ok=True)  # noqa: B023
        audit.run(lambda: engine.up(program(token, "https://hooks.example.com/audit-2")), ok=True)  # noqa: B023
        audit.run(engine.refresh, ok=True)
        audit.run(engine.destroy, ok=True)
    audit.close()
    assert audit.leaks(list(ALL)) == []
    assert not leaks(ALL, sandbox_log=[repr(sandbox.requests())])


def test_up42_password_signing_secrets_and_given_token(sandbox: SandboxProcess, audit: Audit) -> None:
    Up42Tenant.prepare(sandbox)
    workspace = Up42Tenant("audit", sandbox)
    url = workspace.url("hook")

    def program(secret: str, **extra: Any) -> Callable[[], None]:
        def run() -> None:
            up42.Webhook(
                "hook",
                workspace_id=workspace.workspace,
                url=url,
                events=["job.status"],
                secret=secret,
                **extra,
            )

        return run

    refused = audit.engine(
        workspace.env(), {**workspace.config(), "up42:password": WRONG_UP42_PASSWORD}, ("up42:password",)
    )
    audit.run(lambda: refused.up(program(UP42_SIGNING_SECRET)), ok=False)

    engine = audit.engine(workspace.env(), workspace.config(), workspace.secret_keys())
    audit.run(lambda: engine.up(program(UP42_SIGNING_SECRET)), ok=True)
    audit.run(lambda: engine.up(program(SECOND_SIGNING_SECRET)), ok=True)
    audit.run(engine.refresh, ok=True)

    # Someone else's webhook at the same url: the conflict error describes it (never its secret).
    given = httpx.post(
        f"{sandbox.url}{UP42_TOKEN_PATH}",
        data={
            "grant_type": "password",
            "client_id": "up42-api",
            "username": workspace.config()["up42:username"],
            "password": UP42_PASSWORD,
        },
    ).json()["access_token"]
    other = audit.engine(workspace.env())
    conflict = program(UP42_SIGNING_SECRET, access_token=given, name="other")
    audit.run(lambda: other.up(conflict), ok=False)
    audit.run(engine.destroy, ok=True)
    audit.run(lambda: other.up(conflict), ok=True)  # the given token, as an input
    audit.run(other.destroy, ok=True)
    audit.close()
    assert audit.leaks([*ALL, given, UP42_TOKEN_PREFIX]) == []


def test_cj_api_key_access_token_and_open_id(sandbox: SandboxProcess, audit: Audit, tmp_path: Path) -> None:
    account = CjTenant("audit", sandbox, cache_dir=tmp_path)
    CjTenant.prepare(sandbox)
    env = account.env()

    def program(
        product_url: str | None = None,
        order_url: str | None = None,
        api_key: str | None = None,
        access_token: str | None = None,
    ) -> Callable[[], None]:
        def run() -> None:
            cj.WebhookSettings(
                "cj", product_url=product_url, order_url=order_url, api_key=api_key, access_token=access_token
            )

        return run

    refused = audit.engine(env)
    audit.run(
        lambda: refused.up(program(product_url=account.url("p"), access_token=WRONG_CJ_TOKEN)), ok=False
    )

    engine = audit.engine(env)
    key = account.api_key
    audit.run(lambda: engine.preview(program(product_url="https://10.0.0.1/x", api_key=key)), ok=False)
    audit.run(lambda: engine.up(program(product_url=account.url("p"), api_key=key)), ok=True)
    unreachable = "https://receiver.unreachable.example/cj"  # CJ probes it and quotes its failure
    audit.run(lambda: engine.up(program(product_url=unreachable, api_key=key)), ok=False)
    audit.run(lambda: engine.up(program(order_url=account.url("o"), api_key=key)), ok=True)
    audit.run(engine.refresh, ok=True)
    audit.run(engine.destroy, ok=True)
    audit.close()
    assert audit.leaks([*ALL, *cj_cache_secrets(tmp_path)]) == []


# -- in-process: exception reprs and the objects that hold credentials -------------------------------
def in_process_failures(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> list[BaseException]:
    """Real failures of every provider, raised in this process: rejected credentials, a platform that
    keeps failing until the operation's deadline."""
    monkeypatch.setenv("PULUMI_WEBHOOKS_OPERATION_TIMEOUT", "1.5")
    monkeypatch.setenv("PULUMI_WEBHOOKS_CACHE_DIR", str(tmp_path))
    for name, value in {
        **ShoplineTenant("inproc", sandbox).env(),
        **ShoplazzaTenant("inproc", sandbox).env(),
        **Up42Tenant("inproc", sandbox).env(),
        **CjTenant("inproc", sandbox, cache_dir=tmp_path).env(),
    }.items():
        monkeypatch.setenv(name, value)
    workspace = Up42Tenant("inproc", sandbox).workspace
    api_key = CjTenant("inproc", sandbox).api_key
    cases: list[tuple[Callable[[], None], Callable[[], Any]]] = [
        (  # a platform that keeps failing until the deadline
            lambda: sandbox.fault("cjdropshipping", "status", path="webhook/set", status=503, count=100),
            lambda: CjWebhookSettingsProvider().update(
                "cjdropshipping-webhook-settings",
                {},
                {"order_url": "https://hooks.example.com/i", "api_key": api_key},
            ),
        ),
        (
            lambda: None,
            lambda: CjWebhookSettingsProvider().create(
                {"product_url": "https://hooks.example.com/i", "access_token": WRONG_CJ_TOKEN}
            ),
        ),
        (  # from here on, SHOPLINE and Shoplazza accept one token alone
            lambda: sandbox.settings(token=SHOPLINE_TOKEN),
            lambda: ShoplineWebhookProvider().create(
                {
                    "handle": "rel-inproc",
                    "topic": "orders/create",
                    "address": "https://hooks.example.com/i",
                    "api_version": "v20260301",
                    "access_token": WRONG_SHOPLINE,
                }
            ),
        ),
        (
            lambda: None,
            lambda: ShoplazzaWebhookProvider().read(
                "rel-inproc/abc",
                {
                    "shop": "rel-inproc",
                    "topic": "orders/create",
                    "address": "https://hooks.example.com/i",
                    "access_token": WRONG_SHOPLAZZA,
                },
            ),
        ),
        (
            lambda: Up42Tenant.prepare(sandbox),
            lambda: Up42WebhookProvider().delete(
                f"{workspace}/w1",
                {
                    "workspace_id": workspace,
                    "url": "https://hooks.example.com/i",
                    "events": ["job.status"],
                    "name": "n",
                    "secret": UP42_SIGNING_SECRET,
                },
            ),
        ),
    ]
    monkeypatch.setenv("UP42_USERNAME", "someone@example.com")
    monkeypatch.setenv("UP42_PASSWORD", WRONG_UP42_PASSWORD)
    found: list[BaseException] = []
    for prepare, case in cases:
        prepare()
        with pytest.raises(errors.WebhookError) as failure:
            case()
        found.append(failure.value)
    return found


def test_exception_reprs_and_credential_holders_show_no_secret(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    failures = in_process_failures(sandbox, monkeypatch, tmp_path)
    texts = [
        text
        for exc in failures
        for text in (str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc)))
    ]
    assert all(exc.__cause__ is None and exc.__suppress_context__ for exc in failures)  # no chained soup
    holders = [
        Credentials(access_token=SHOPLINE_TOKEN, username="u", password=UP42_PASSWORD),
        Up42Auth(Credentials(username="u", password=UP42_PASSWORD), "https://auth.example.com/token"),
        ApiKeyAuth("https://api.example.com", f"CJ1{CJ_SUFFIX}"),
        AccessTokenAuth(WRONG_CJ_TOKEN),
        Token(SHOPLAZZA_TOKEN, expires_at=0.0, extra={"refresh_token": WRONG_SHOPLAZZA}),
        Up42Webhook(
            id="w", url="https://hooks.example.com/x", name="n", events=[], secret=UP42_SIGNING_SECRET
        ),
    ]
    texts += [repr(h) for h in holders]
    assert leaks([*ALL, *cj_cache_secrets(tmp_path)], reprs=texts) == []


CJ_SUFFIX = SECRETS[-1]


def test_log_records_are_redacted_with_their_tracebacks() -> None:
    secret = "audit-log-secret-31f2"
    register_secret(secret)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = get_logger("pulumi_webhooks.audit")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        try:
            raise ValueError(f"a bug that quotes {secret}")
        except ValueError:
            log.debug("failed unexpectedly", exc_info=True)  # what the provider logs for a bug
        log.info("value %s", secret, stack_info=True)
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "ValueError: a bug that quotes [redacted]" in text and "Stack (most recent call last)" in text
    assert secret not in text


# -- credentials with a line break (echo into a secret store): refused at check, naming the source -------
def text_forms(value: str) -> list[str]:
    """The spellings of ``value`` a log or message could carry: as is, without its whitespace, repr-,
    bytes-repr- and JSON-escaped, percent-encoded."""
    return [
        value,
        value.strip(),
        repr(value)[1:-1],
        repr(value.encode())[2:-1],
        json.dumps(value)[1:-1],
        quote(value, safe=""),
    ]


# Each platform's resource with valid inputs: (resource class, inputs).
VALID_RESOURCES: dict[str, tuple[Callable[..., object], dict[str, Any]]] = {
    "shopline": (
        shopline.Webhook,
        {
            "handle": "rel-newline",
            "topic": "orders/create",
            "address": "https://hooks.example.com/newline",
            "api_version": "v20260301",
        },
    ),
    "shoplazza": (
        shoplazza.Webhook,
        {"shop": "rel-newline", "topic": "orders/create", "address": "https://hooks.example.com/nl"},
    ),
    "up42": (
        up42.Webhook,
        {
            "workspace_id": "0cb1eaa0-89a3-11ec-a8a3-0242ac120002",
            "url": "https://hooks.example.com/newline",
            "events": ["job.status"],
        },
    ),
    "cjdropshipping": (cj.WebhookSettings, {"product_url": "https://hooks.example.com/newline"}),
}


def program_for(platform: str, **inputs: Any) -> Callable[[], None]:
    """A program declaring ``platform``'s resource, ``inputs`` added to its valid ones."""
    resource, valid = VALID_RESOURCES.get(platform, VALID_RESOURCES["cjdropshipping"])

    def run() -> None:
        resource("hook", **valid, **inputs)

    return run


def platform_env(platform: str, sandbox: SandboxProcess, tmp_path: Path) -> dict[str, str]:
    return {
        "shopline": lambda: ShoplineTenant("newline", sandbox).env(),
        "shoplazza": lambda: ShoplazzaTenant("newline", sandbox).env(),
        "up42": lambda: Up42Tenant("newline", sandbox).env(),
        "cjdropshipping": lambda: CjTenant("newline", sandbox, cache_dir=tmp_path).env(),
    }[platform]()


# (platform, where the value is set: env / config / input, env var or config key or input, field, value)
NEWLINE_CASES = [
    ("shopline", "env", "SHOPLINE_ACCESS_TOKEN", "access_token", "shpat-NL-5f0c1d2e3a4b\n"),
    ("shopline", "config", "shopline:accessToken", "access_token", "shpat-NL-6a7b8c9d0e1f\r\n"),
    ("shopline", "input", "access_token", "access_token", "shpat-NL-7e8f9a0b1c2d\n"),
    ("shopline", "env", "SHOPLINE_ACCESS_TOKEN", "access_token", " shpat-NL-leading-space-9f8e"),
    ("shoplazza", "env", "SHOPLAZZA_ACCESS_TOKEN", "access_token", "szat-NL-8a7b6c5d4e3f\n"),
    ("shoplazza", "input", "access_token", "access_token", "szat-NL-ñ-non-ascii-4d3c"),
    ("up42", "env", "UP42_ACCESS_TOKEN", "access_token", "up42-NL-token-0a1b2c3d\n"),
    ("up42", "config", "up42:password", "", "pw-NL-up42-c0ffee77\n"),
    ("cjdropshipping", "env", "CJ_API_KEY", "api_key", "CJ4@api@NL0a1b2c3d4e5f60718293a4b5\n"),
    ("cjdropshipping", "input", "access_token", "access_token", "cjat-NL-0f1e2d3c4b5a\x85"),
]


@pytest.mark.parametrize(
    ("platform", "where", "name", "field", "value"),
    NEWLINE_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in NEWLINE_CASES],
)
def test_a_credential_with_a_line_break_fails_check_naming_field_and_source(
    sandbox: SandboxProcess,
    audit: Audit,
    tmp_path: Path,
    platform: str,
    where: str,
    name: str,
    field: str,
    value: str,
) -> None:
    env = platform_env(platform, sandbox, tmp_path)
    config: dict[str, str] = {}
    inputs: dict[str, str] = {}
    if where == "env":
        env[name] = value
    elif where == "config":
        config = {name: value}
        if platform == "up42":
            config["up42:username"] = UP42_USER
    else:
        inputs[name] = value
    engine = audit.engine(env, config, tuple(config))
    for command in (engine.preview, engine.up):
        result = audit.run(lambda command=command: command(program_for(platform, **inputs)), ok=False)  # type: ignore[misc]
        (step,) = result.steps
        assert [p for p, _ in step.failures] == [field], step.failures
        reason = step.failures[0][1]
        source = {"env": f"environment variable `{name}`", "config": f"stack config `{name}`"}.get(where)
        assert source is None or source in reason, reason
        assert "must" in reason and step.error is None
    # The malformed credential never left the process (UP42's public event catalog takes no credential).
    assert [r for r in sandbox.requests(platform) if not r["path"].endswith("/webhooks/events")] == []
    audit.close()
    assert audit.leaks(text_forms(value)) == []


def test_a_credential_with_a_line_break_fails_refresh_and_destroy_before_any_request(
    sandbox: SandboxProcess, audit: Audit
) -> None:
    """A credential that went bad after the last check (a refresh or a destroy runs no check) fails with
    the same words, before any request could carry it."""
    tenant = ShoplineTenant("newline-later", sandbox)
    sandbox.settings(token=SHOPLINE_TOKEN)
    good = audit.engine(tenant.env(), tenant.config(), tenant.secret_keys())
    audit.run(lambda: good.up(program_for("shopline")), ok=True)
    bad_token = SHOPLINE_TOKEN + "\n"
    bad = audit.engine({**tenant.env(), "SHOPLINE_ACCESS_TOKEN": bad_token})
    bad.state = dict(good.state)
    sandbox.clear_log()
    for command in (bad.refresh, bad.destroy):
        result = audit.run(command, ok=False)
        (step,) = result.steps
        assert step.error and "environment variable `SHOPLINE_ACCESS_TOKEN` must not contain line breaks" in (
            step.error
        ), step.error
    assert sandbox.requests("shopline") == []
    audit.run(good.destroy, ok=True)
    audit.close()
    assert audit.leaks(text_forms(bad_token)) == []


# -- a server that echoes the credential: headers (httpcore DEBUG logs them), an error page -------------
class QuietHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


Server = TypeVar("Server", bound="LoopbackServer")


class LoopbackServer:
    """A real HTTP server on loopback, serving ``handler`` on its own thread while in a ``with``."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self: Server) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class EchoServer(LoopbackServer):
    """A real HTTP server on loopback that answers every request 401 and echoes ``secret`` back: in
    three response headers (as is, percent-encoded, JSON-escaped) and in an HTML error page where the
    secret starts around character 190 (so a message cut at 200 would keep its first characters)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.requests = 0
        echo = self

        class Handler(QuietHandler):
            def do_any(self) -> None:
                echo.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = (
                    "<html><head><title>401 Unauthorized</title></head><body><h1>Unauthorized</h1>"
                    + "<p>"
                    + "." * 110
                    + f" token {echo.secret} was refused; "
                    + f"encoded {quote(echo.secret, safe='')} json {json.dumps(echo.secret)}</p></body></html>"
                ).encode()
                self.send_response(401)
                self.send_header("Content-Type", "text/html")
                self.send_header("X-Echo", echo.secret)
                self.send_header("X-Echo-Percent", quote(echo.secret, safe=""))
                self.send_header("X-Echo-Json", json.dumps(echo.secret).replace("/", "\\/"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_any

        super().__init__(Handler)


ECHO_CASES = {
    "shopline": ("SHOPLINE_ACCESS_TOKEN", "shpat/ECHO+7f3c=9a1b2c3d4e", "SHOPLINE_BASE_URL", "/{handle}"),
    "shoplazza": ("SHOPLAZZA_ACCESS_TOKEN", "szat/ECHO+8e4d=0b1c2d3e4f", "SHOPLAZZA_BASE_URL", "/{shop}"),
    "up42": ("UP42_ACCESS_TOKEN", "up42/ECHO+9f5e=1c2d3e4f5a", "UP42_BASE_URL", ""),
    "cjdropshipping": ("CJ_ACCESS_TOKEN", "cjat/ECHO+0a6f=2d3e4f5a6b", "CJ_BASE_URL", ""),
}


@pytest.mark.parametrize("platform", list(ECHO_CASES))
def test_a_server_echoing_the_token_gets_it_into_no_log_and_no_error(
    audit: Audit, tmp_path: Path, platform: str
) -> None:
    variable, token, base_variable, template = ECHO_CASES[platform]
    with EchoServer(token) as server:
        env = {variable: token, base_variable: server.url + template}
        env |= {"PULUMI_WEBHOOKS_CACHE_DIR": str(tmp_path), "PULUMI_WEBHOOKS_OPERATION_TIMEOUT": "20"}
        engine = audit.engine(env)
        result = audit.run(lambda: engine.up(program_for(platform)), ok=False)
    (step,) = result.steps
    assert step.error and "HTTP 401" in step.error and "Unauthorized" in step.error, step.error
    assert server.requests >= 1
    audit.close()
    assert any("httpcore" in log and "receive_response_headers" in log for log in audit.logs)
    prefixes = [token[:size] for size in range(6, len(token))]  # a message cut inside the token
    assert leaks(prefixes, errors=audit.errors) == []
    forms = [token, quote(token, safe=""), quote(token, safe="").lower(), json.dumps(token)[1:-1]]
    assert audit.leaks([*forms, json.dumps(token).replace("/", "\\/")[1:-1]]) == []


# -- a server that sets a session cookie: one shared client, two credentials ------------------------
class CookieSettingShopline(LoopbackServer):
    """A real HTTP server on loopback speaking SHOPLINE's listing and create, which sets a session cookie
    named after the credential on every answer and records the Cookie header of every request."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []  # (Authorization, Cookie) of each request
        server = self

        class Handler(QuietHandler):
            def answer(self, status: int, payload: dict[str, Any]) -> None:
                authorization = self.headers.get("Authorization", "")
                server.seen.append((authorization, self.headers.get("Cookie")))
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Set-Cookie", f"session=for-{authorization[-6:]}; Path=/; HttpOnly")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.answer(200, {"webhooks": []})

            def do_POST(self) -> None:
                sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["webhook"]
                self.answer(201, {"webhook": {"id": 1000 + len(server.seen), **sent}})

        super().__init__(Handler)


def test_a_cookie_one_credential_is_given_never_reaches_another(audit: Audit) -> None:
    # Two apps (tokens) on one store share the process's client for that origin: the session cookie the
    # store sets in answer to one app must not be sent with the other's requests (nor kept at all).
    tokens = ("shpat-COOKIE-app-one-a1b2c3", "shpat-COOKIE-app-two-d4e5f6")

    def program() -> None:
        for index, token in enumerate(tokens):
            shopline.Webhook(
                f"app-{index}",
                handle="cookie-store",
                topic="orders/create",
                address=f"https://hooks.example.com/app-{index}",
                api_version="v20260301",
                access_token=token,
            )

    with CookieSettingShopline() as server:
        engine = audit.engine({"SHOPLINE_BASE_URL": f"{server.url}/{{handle}}", "SHOPLINE_QPS": "unlimited"})
        audit.run(lambda: engine.up(program), ok=True)
    assert {authorization for authorization, _ in server.seen} == {f"Bearer {t}" for t in tokens}
    assert len(server.seen) == 4, server.seen  # a listing and a create per app
    assert [cookie for _, cookie in server.seen if cookie is not None] == []
    audit.close()
    assert audit.leaks(list(tokens)) == []


# -- a signing secret too short to be safe; secrets in reprs ------------------------------------------
def test_a_short_up42_signing_secret_fails_check(sandbox: SandboxProcess, audit: Audit) -> None:
    workspace = Up42Tenant("short-secret", sandbox)
    engine = audit.engine(workspace.env(), workspace.config(), workspace.secret_keys())
    for secret in ("x", "abc", "0123456789abcde"):
        result = audit.run(lambda secret=secret: engine.preview(program_for("up42", secret=secret)), ok=False)  # type: ignore[misc]
        (step,) = result.steps
        assert step.failures == (("secret", f"must be at least 16 characters (got {len(secret)})"),)
    audit.run(lambda: engine.preview(program_for("up42", secret="0123456789abcdef")), ok=True)


def test_args_and_wire_models_never_show_a_secret_in_their_repr() -> None:
    from pulumi_webhooks.cjdropshipping.api import CallbackSettings
    from pulumi_webhooks.cjdropshipping.models import AccountSettings, TokenGrant

    secrets = ["args-token-5e4d3c2b", "args-key-@api@9a8b7c", "args-secret-1f2e3d4c5b", "open-id-424242"]
    holders: list[object] = [
        shopline.WebhookArgs(handle="h", topic="t", address="a", api_version="v", access_token=secrets[0]),
        shoplazza.WebhookArgs(shop="s", topic="t", address="a", access_token=secrets[0]),
        up42.WebhookArgs(workspace_id="w", url="u", events=["e"], secret=secrets[2], access_token=secrets[0]),
        cj.WebhookSettingsArgs(product_url="https://hooks.example.com/p", api_key=secrets[1]),
        cj.WebhookSettingsArgs(access_token=secrets[0]),
        TokenGrant.model_validate(
            {"openId": secrets[3], "accessToken": secrets[0], "refreshToken": secrets[1]}
        ),
        AccountSettings.model_validate({"openId": secrets[3]}),
        CallbackSettings(secrets[3], {"product": "https://hooks.example.com/p"}),
        shopline.SubscriptionsArgs(
            handle="h", topics=["t"], address="a", api_version="v", access_token=secrets[0]
        ),
        shoplazza.SubscriptionsArgs(shop="s", topics=["t"], address="a", access_token=secrets[0]),
    ]
    texts = [repr(h) for h in holders] + [str(h) for h in holders]
    assert leaks(secrets, reprs=texts) == []
    assert "access_token=<secret>" in repr(holders[0]) and "topic='t'" in repr(holders[0])
    assert "api_key=<secret>" in repr(holders[3]) and "access_token=None" in repr(holders[3])
