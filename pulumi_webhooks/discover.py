"""``pulumi-webhooks discover PLATFORM ...``: the subscriptions a platform already holds.

``pulumi import`` does not work for dynamic resources (pulumi/pulumi#16175), so bringing existing
subscriptions under Pulumi goes the other way round: list them here, paste the declarations that
``--python`` prints into the program, and let ``pulumi up`` take each one over (``adopt=True``; an
identical subscription is taken over without any write).

Output: a table (default), ``--json`` (a list of objects, for scripts) or ``--python`` (a Pulumi program
fragment). Credentials and endpoints come from the environment, the same variables the provider reads
(``SHOPLINE_ACCESS_TOKEN``, ``SHOPLINE_BASE_URL``, …): the stack config lives in the Pulumi stack and only
reaches the provider while ``pulumi`` runs. ``--token-env NAME`` reads the token from another variable
(a token on the command line would land in shell history and process lists). Secrets are never printed:
UP42 returns webhook signing secrets in clear, and the declarations read them from the stack config.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_webhooks._core import errors, settings
from pulumi_webhooks._core.deadline import deadline_scope
from pulumi_webhooks._core.http import close_shared_clients
from pulumi_webhooks._core.naming import slug, unique_names, url_slug
from pulumi_webhooks._core.redact import RedactingFilter, redact, register_secret

PROG = "pulumi-webhooks discover"


# -- what a platform reports -------------------------------------------------------------------------
@dataclass(frozen=True)
class Code:
    """Python source written as is into a declaration (a config look-up), not quoted as a value."""

    text: str


@dataclass(frozen=True)
class Declaration:
    """One resource of the ``--python`` fragment."""

    module: str  # the platform package: `import pulumi_webhooks.{module} as {module}`
    class_name: str
    name: str
    inputs: dict[str, Any]  # str, bool, list of str, or Code
    notes: tuple[str, ...] = ()  # comment lines written above it


@dataclass(frozen=True)
class Found:
    """What one platform holds, in the three shapes the command prints."""

    where: str  # "SHOPLINE store 'open001'", for messages
    columns: tuple[tuple[str, str], ...]  # (record key, table header)
    records: list[dict[str, Any]]
    declarations: list[Declaration]
    notes: tuple[str, ...] = field(default=())  # said on stderr (table, json) or as comments (python)


# -- platforms ---------------------------------------------------------------------------------------
def _env_secret(variable: str | None, flag: str) -> str | None:
    """The secret in the environment variable a ``--…-env`` flag names (None when no flag was given)."""
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise errors.ConfigurationError(
            f"environment variable {variable} (named by {flag}) is not set or empty"
        )
    register_secret(value)
    return value


def _check_notes(provider: Any, inputs: Mapping[str, Any]) -> tuple[str, ...]:
    """What ``pulumi preview`` would refuse in a declaration (the platform may hold what we never accept,
    e.g. an http:// address): said above the declaration, so the user fixes it before pasting."""
    plain = {k: v for k, v in inputs.items() if not isinstance(v, Code)}
    failures = provider.check({}, plain).failures
    return tuple(
        f"preview will refuse this until it is changed: {f.property}: {f.reason}"
        for f in failures
        if f.property in plain
    )


def _shopline(args: argparse.Namespace) -> Found:
    from pulumi_webhooks.shopline.provider import ShoplineWebhookProvider

    provider = ShoplineWebhookProvider()
    handle = args.handle
    api = provider.connect({"handle": handle, "access_token": _env_secret(args.token_env, "--token-env")})
    hooks = sorted(api.list_webhooks(), key=lambda w: (w.topic, w.id))
    records = [
        {
            "id": f"{handle}/{w.id}",
            "webhook_id": str(w.id),
            "handle": handle,
            "topic": w.topic,
            "address": w.address,
            "api_version": w.api_version,
            "created_at": w.created_at,
            "updated_at": w.updated_at,
        }
        for w in hooks
    ]
    declarations = []
    for name, w in zip(unique_names(slug(w.topic) or "webhook" for w in hooks), hooks, strict=True):
        inputs = {"handle": handle, "topic": w.topic, "address": w.address, "api_version": w.api_version}
        notes = _check_notes(provider, inputs)
        declarations.append(Declaration("shopline", "Webhook", name, {**inputs, "adopt": True}, notes))
    return Found(
        where=f"SHOPLINE store {handle!r}",
        columns=(
            ("webhook_id", "ID"),
            ("topic", "TOPIC"),
            ("address", "ADDRESS"),
            ("api_version", "API VERSION"),
            ("created_at", "CREATED AT"),
        ),
        records=records,
        declarations=declarations,
    )


def _shoplazza(args: argparse.Namespace) -> Found:
    from pulumi_webhooks.shoplazza.provider import ShoplazzaWebhookProvider

    provider = ShoplazzaWebhookProvider()
    shop = args.shop
    api = provider.connect({"shop": shop, "access_token": _env_secret(args.token_env, "--token-env")})
    hooks = sorted(api.list_webhooks(), key=lambda w: (w.topic, w.created_at or "", w.id))
    records = [
        {
            "id": f"{shop}/{w.id}",
            "webhook_id": w.id,
            "shop": shop,
            "topic": w.topic,
            "address": w.address,
            "created_at": w.created_at,
            "updated_at": w.updated_at,
        }
        for w in hooks
    ]
    declarations = []
    for name, w in zip(unique_names(slug(w.topic) or "webhook" for w in hooks), hooks, strict=True):
        inputs = {"shop": shop, "topic": w.topic, "address": w.address}
        notes = _check_notes(provider, inputs)
        declarations.append(Declaration("shoplazza", "Webhook", name, {**inputs, "adopt": True}, notes))
    return Found(
        where=f"Shoplazza shop {shop!r}",
        columns=(
            ("webhook_id", "ID"),
            ("topic", "TOPIC"),
            ("address", "ADDRESS"),
            ("created_at", "CREATED AT"),
        ),
        records=records,
        declarations=declarations,
    )


def _config_key(name: str) -> str:
    """A stack config key for a resource's signing secret (``job-status`` -> ``jobStatusSecret``)."""
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest) + "Secret"


def _up42(args: argparse.Namespace) -> Found:
    from pulumi_webhooks.up42.provider import Up42WebhookProvider

    provider = Up42WebhookProvider()
    workspace = args.workspace
    api = provider.connect({"access_token": _env_secret(args.token_env, "--token-env")})
    hooks = sorted(api.list_webhooks(workspace), key=lambda w: (w.created_at or "", w.id))
    # The webhook's signing secret comes back in clear: it is registered with the redactor (api.py) and
    # only ever shown as "set" or not.
    records = [
        {
            "id": f"{workspace}/{w.id}",
            "webhook_id": w.id,
            "workspace_id": workspace,
            "name": w.name,
            "url": w.url,
            "events": sorted(set(w.events)),
            "active": w.active,
            "secret_set": bool(w.secret),
            "created_at": w.created_at,
            "updated_at": w.updated_at,
        }
        for w in hooks
    ]
    declarations = []
    wanted = (slug(w.name) or url_slug(w.url) or "webhook" for w in hooks)
    for name, w in zip(unique_names(wanted), hooks, strict=True):
        inputs: dict[str, Any] = {
            "workspace_id": workspace,
            "url": w.url,
            "events": sorted(set(w.events)),
            "name": w.name,
            "active": w.active,
        }
        notes = _check_notes(provider, inputs)
        if w.secret:
            key = _config_key(name)
            inputs["secret"] = Code(f"config.require_secret({json.dumps(key)})")
            notes += (
                f"This webhook signs its deliveries. First: pulumi config set --secret {key} <its secret>",
                "(the same value takes it over without a write; a new one replaces the secret on UP42).",
            )
        declarations.append(Declaration("up42", "Webhook", name, {**inputs, "adopt": True}, notes))
    return Found(
        where=f"UP42 workspace {workspace!r}",
        columns=(
            ("webhook_id", "ID"),
            ("name", "NAME"),
            ("events", "EVENTS"),
            ("url", "URL"),
            ("active", "ACTIVE"),
            ("secret_set", "SECRET"),
            ("created_at", "CREATED AT"),
        ),
        records=records,
        declarations=declarations,
    )


def _cjdropshipping(args: argparse.Namespace) -> Found:
    from pulumi_webhooks.cjdropshipping.api import parse_callback
    from pulumi_webhooks.cjdropshipping.provider import CjWebhookSettingsProvider
    from pulumi_webhooks.cjdropshipping.topics import GROUPS, URL_FIELDS

    provider = CjWebhookSettingsProvider()
    credentials = {
        "api_key": _env_secret(args.api_key_env, "--api-key-env"),
        "access_token": _env_secret(args.token_env, "--token-env"),
    }
    api = provider.connect(credentials)
    groups = parse_callback(api.get_settings().callback)  # the openId it carries is never shown
    where = "CJdropshipping account"
    columns = (("group", "GROUP"), ("status", "STATUS"), ("url", "URL"))
    if not groups:
        note = "CJ's setting/get answer shows no callback groups: there is nothing to list or to adopt"
        return Found(where, columns, [], [], (note,))
    records = [
        {"group": g, "input": URL_FIELDS[g], "status": "ENABLE" if groups[g] else "CANCEL", "url": groups[g]}
        for g in GROUPS
        if g in groups
    ]
    inputs: dict[str, Any] = {URL_FIELDS[g]: url for g, url in groups.items() if url}
    notes = _check_notes(provider, inputs)
    unreported = [g for g in GROUPS if g not in groups]
    if unreported:
        notes += (
            f"CJ did not report the group(s) {', '.join(unreported)}: declared without a URL they are "
            "switched off (CANCEL); add their URLs if they should deliver",
        )
    declaration = Declaration(
        "cjdropshipping", "WebhookSettings", "webhook-settings", {**inputs, "adopt": True}, notes
    )
    return Found(where, columns, records, [declaration])


@dataclass(frozen=True)
class PlatformCommand:
    name: str
    help: str
    run: Callable[[argparse.Namespace], Found]
    environment: str  # the variables, for --help


PLATFORMS: dict[str, PlatformCommand] = {
    "shopline": PlatformCommand(
        "shopline",
        "the webhooks of one SHOPLINE store",
        _shopline,
        "SHOPLINE_ACCESS_TOKEN (or --token-env), SHOPLINE_BASE_URL, SHOPLINE_ADMIN_API_VERSION",
    ),
    "shoplazza": PlatformCommand(
        "shoplazza",
        "the webhooks of one Shoplazza shop",
        _shoplazza,
        "SHOPLAZZA_ACCESS_TOKEN (or --token-env), SHOPLAZZA_BASE_URL, SHOPLAZZA_API_VERSION",
    ),
    "up42": PlatformCommand(
        "up42",
        "the webhooks of one UP42 workspace",
        _up42,
        "UP42_USERNAME and UP42_PASSWORD, or UP42_ACCESS_TOKEN (or --token-env); UP42_REGION, UP42_BASE_URL, "
        "UP42_AUTH_URL",
    ),
    "cjdropshipping": PlatformCommand(
        "cjdropshipping",
        "the callback settings of the CJdropshipping account",
        _cjdropshipping,
        "CJ_API_KEY (or --api-key-env) or CJ_ACCESS_TOKEN (or --token-env); CJ_BASE_URL, CJ_QPS",
    ),
}


# -- output ------------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def render_table(found: Found) -> str:
    if not found.records:
        return f"No webhook subscriptions on the {found.where}.\n"
    headers = [header for _, header in found.columns]
    rows = [[_cell(record.get(key)) for key, _ in found.columns] for record in found.records]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    return "\n".join(lines) + "\n"


def render_json(found: Found) -> str:
    return json.dumps(found.records, indent=2, ensure_ascii=False) + "\n"


def _literal(value: Any) -> str:
    """A Python literal. Strings are JSON-quoted (a valid Python literal), so that whatever a platform
    returns cannot break out of the string."""
    if isinstance(value, Code):
        return value.text
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _comments(text: str) -> list[str]:
    # Split on every kind of line break first: a platform's value must not end a comment.
    return [f"# {line}" for line in textwrap.wrap(" ".join(text.split()), width=100)]


def render_python(found: Found) -> str:
    lines = _comments(f"Found on the {found.where} by `pulumi-webhooks discover`.")
    lines += [line for note in found.notes for line in _comments(note)]
    if not found.declarations:
        return "\n".join([*lines, *_comments("Nothing to declare.")]) + "\n"
    lines += [
        "# adopt=True: the next `pulumi up` takes each subscription over instead of creating another one",
        "# (an identical one without any write). Once the stack holds them, adopt can go.",
    ]
    needs_config = any(isinstance(v, Code) for d in found.declarations for v in d.inputs.values())
    lines += ["import pulumi"] if needs_config else []
    lines += sorted({f"import pulumi_webhooks.{d.module} as {d.module}" for d in found.declarations})
    if needs_config:
        lines += ["", "config = pulumi.Config()"]
    for declaration in found.declarations:
        lines += ["", *(line for note in declaration.notes for line in _comments(note))]
        lines.append(f"{declaration.module}.{declaration.class_name}(")
        lines.append(f"    {_literal(declaration.name)},")
        lines += [f"    {key}={_literal(value)}," for key, value in declaration.inputs.items()]
        lines.append(")")
    return "\n".join(lines) + "\n"


# -- the command -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List the webhook subscriptions a platform holds (a table, --json for scripts), or print "
        "Pulumi declarations that adopt them (--python).",
        epilog=(
            "Settings come from the environment, as for the provider; the stack config is not read (it\n"
            "reaches the provider only while `pulumi` runs). To reuse it:\n"
            "  SHOPLINE_ACCESS_TOKEN=$(pulumi config get shopline:accessToken) \\\n"
            "    pulumi-webhooks discover shopline --handle open001 --python"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    output = common.add_mutually_exclusive_group()
    output.add_argument("--json", dest="output", action="store_const", const="json", help="a JSON list")
    output.add_argument(
        "--python",
        dest="output",
        action="store_const",
        const="python",
        help="Pulumi declarations (adopt=True)",
    )
    common.add_argument(
        "--token-env", metavar="NAME", help="read the access token from environment variable NAME"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log every request (never a credential)")
    sub = parser.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    commands = {
        name: sub.add_parser(
            name,
            parents=[common],
            help=command.help,
            description=f"{command.help}. Environment: {command.environment}.",
        )
        for name, command in PLATFORMS.items()
    }
    commands["shopline"].add_argument(
        "--handle", required=True, help="the store handle ({handle}.myshopline.com)"
    )
    commands["shoplazza"].add_argument("--shop", required=True, help="the shop ({shop}.myshoplaza.com)")
    commands["up42"].add_argument(
        "--workspace", required=True, metavar="WORKSPACE_ID", help="the workspace id"
    )
    commands["cjdropshipping"].add_argument(
        "--api-key-env", metavar="NAME", help="read the API key from environment variable NAME"
    )
    for command in commands.values():
        command.set_defaults(output="table", api_key_env=None, command_parser=command)
    return parser


def _argument_problem(args: argparse.Namespace) -> str | None:
    """The preview-time rules of the store identifiers, so a typo fails before any request."""
    if args.platform == "shopline":
        from pulumi_webhooks.shopline.provider import handle_problem

        problem = handle_problem(args.handle)
        return f"--handle {problem}" if problem else None
    if args.platform == "shoplazza":
        from pulumi_webhooks.shoplazza.provider import shop_problem

        problem = shop_problem(args.shop)
        return f"--shop {problem}" if problem else None
    if args.platform == "up42":
        from pulumi_webhooks.up42.provider import workspace_problem

        problem = workspace_problem(args.workspace)
        return f"--workspace {problem}" if problem else None
    return None


def _failure(args: argparse.Namespace, exc: BaseException) -> str:
    if isinstance(exc, errors.WebhookError):
        message = exc.message
        if "stack config" in message:  # the platform hints name every source; discover reads one
            message += " (discover reads settings from the environment, not from the stack config)"
        return message
    # A bug: one line without secrets, as the provider does.
    return f"{args.platform} discover failed unexpectedly: {type(exc).__name__}: {redact(str(exc))[:300]}"


def _log_requests() -> None:
    """``-v``: our own request log (method, path, status, request id) and httpx's request lines, through
    the redactor; not httpcore's wire-level debug log, which prints raw headers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.getLogger().addHandler(handler)
    logging.getLogger("pulumi_webhooks").setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _argument_problem(args)
    if problem:
        args.command_parser.error(problem)
    if args.verbose:
        _log_requests()
    try:
        with deadline_scope(settings.operation_timeout()):
            found = PLATFORMS[args.platform].run(args)
    except Exception as exc:
        print(f"{PROG}: {redact(_failure(args, exc))}", file=sys.stderr)
        return 1
    finally:
        close_shared_clients()
    render = {"table": render_table, "json": render_json, "python": render_python}[args.output]
    if args.output != "python":
        for note in found.notes:
            print(f"{PROG}: {note}", file=sys.stderr)
    sys.stdout.write(render(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
