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

import io
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
from pulumi_webhooks.up42.api import Up42Webhook
from pulumi_webhooks.up42.auth import Credentials, Up42Auth
from pulumi_webhooks.up42.provider import Up42WebhookProvider
from reliability.harness import (
    SECRETS,
    SHOPLAZZA_TOKEN,
    SHOPLINE_TOKEN,
    UP42_PASSWORD,
    UP42_SIGNING_SECRET,
    UP42_TOKEN_PATH,
    UP42_TOKEN_PREFIX,
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
