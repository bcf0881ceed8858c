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
import re
import socket
import sys
import textwrap
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_webhooks._core import deadline, errors, settings
from pulumi_webhooks._core.http import CONNECT_TIMEOUT, close_shared_clients
from pulumi_webhooks._core.naming import slug, unique_names, url_slug
from pulumi_webhooks._core.redact import RedactingFilter, clip, redact, register_secret, visible

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


# -- what discover reads: the environment and its own flags ------------------------------------------
Say = Callable[[str], None]  # one progress line on stderr (nothing with --quiet)


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


def _from_env(setting: settings.Setting) -> str | None:
    value = os.environ.get(setting.env_var) or None
    if value and setting.secret:
        register_secret(value)
    return value


def _credential(setting: settings.Setting, variable: str | None, flag: str) -> str | None:
    """A credential as discover reads it: from the variable ``flag`` names, else the setting's own
    environment variable. (The provider would also read a resource input and the stack config, which
    this process never sees.)"""
    return _env_secret(variable, flag) if variable else _from_env(setting)


def _set_it(setting: settings.Setting, flag: str) -> str:
    """How a missing credential is given to discover (and how to take it from the stack config)."""
    return (
        f"set environment variable {setting.env_var} (from the stack: "
        f"export {setting.env_var}=$(pulumi config get {setting.config_key})) or name another with {flag}"
    )


def _host(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _proxied(url: str) -> bool:
    """Whether the HTTP client goes through a proxy for ``url`` (the proxy environment variables)."""
    scheme, host = urllib.parse.urlsplit(url).scheme, _host(url)[0]
    return scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host)


def _check_reachable(platform: str, operation: str, url: str, source: str, say: Say) -> None:
    """Fail at once, naming the cause, when the host of ``url`` does not resolve or takes no connection:
    the HTTP client would retry those for seconds (8 attempts) before saying anything. ``source`` names
    the setting the URL comes from. Behind a proxy the proxy connects, not us: nothing to check."""
    host, port = _host(url)
    if _proxied(url):
        return
    say(f"connecting to {host}:{port}…")

    def refused(why: str) -> errors.ConnectionError:
        return errors.ConnectionError(
            platform=platform, operation=operation, detail=f"{why}; {source} sets the address"
        )

    left = deadline.remaining(f"{platform} {operation}")
    timeout = CONNECT_TIMEOUT if left is None else min(CONNECT_TIMEOUT, left)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    # (Worded as the HTTP client words the same causes, _core/http.py.)
    except socket.gaierror as exc:
        raise refused(f"could not resolve host {host} (DNS: {exc.strerror or 'resolution failed'})") from None
    except ConnectionRefusedError:
        raise refused(f"connection refused by {host}:{port} (nothing listens there)") from None
    except TimeoutError:
        raise refused(f"connecting to {host}:{port} timed out after {timeout:.1f} s") from None
    except OSError as exc:
        raise refused(f"cannot connect to {host}:{port} ({exc.strerror or type(exc).__name__})") from None


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


# -- platforms ---------------------------------------------------------------------------------------
def _shopline(args: argparse.Namespace, say: Say) -> Found:
    from pulumi_webhooks.shopline.provider import ACCESS_TOKEN, BASE_URL, ShoplineWebhookProvider

    token = _credential(ACCESS_TOKEN, args.token_env, "--token-env")
    if token is None:
        raise errors.ConfigurationError(f"no SHOPLINE access token: {_set_it(ACCESS_TOKEN, '--token-env')}")
    provider = ShoplineWebhookProvider()
    handle = args.handle
    api = provider.connect({"handle": handle, "access_token": token})
    _check_reachable("SHOPLINE", "list webhooks", api.base_url, BASE_URL.env_var, say)
    say(f"listing SHOPLINE webhooks of {handle}…")
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


def _shoplazza(args: argparse.Namespace, say: Say) -> Found:
    from pulumi_webhooks.shoplazza.provider import ACCESS_TOKEN, BASE_URL, ShoplazzaWebhookProvider

    token = _credential(ACCESS_TOKEN, args.token_env, "--token-env")
    if token is None:
        raise errors.ConfigurationError(f"no Shoplazza access token: {_set_it(ACCESS_TOKEN, '--token-env')}")
    provider = ShoplazzaWebhookProvider()
    shop = args.shop
    api = provider.connect({"shop": shop, "access_token": token})
    _check_reachable("Shoplazza", "list webhooks", api.base_url, BASE_URL.env_var, say)
    say(f"listing Shoplazza webhooks of {shop}…")
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


def _up42_missing(username: str | None, password: str | None) -> str | None:
    from pulumi_webhooks.up42.auth import ACCESS_TOKEN, PASSWORD, USERNAME

    token = f"an access token in {ACCESS_TOKEN.env_var} (or name another variable with --token-env)"
    if username and not password:
        return f"{USERNAME.env_var} is set but {PASSWORD.env_var} is not: set it, or give {token}"
    if password and not username:
        return f"{PASSWORD.env_var} is set but {USERNAME.env_var} is not: set it, or give {token}"
    if not username:
        return (
            f"no UP42 credentials: set environment variables {USERNAME.env_var} and {PASSWORD.env_var}, "
            f"or give {token}"
        )
    return None


def _up42(args: argparse.Namespace, say: Say) -> Found:
    from pulumi_webhooks.up42 import auth
    from pulumi_webhooks.up42.provider import Up42WebhookProvider, signing_secret_problem

    token = _credential(auth.ACCESS_TOKEN, args.token_env, "--token-env")
    missing = None if token else _up42_missing(_from_env(auth.USERNAME), _from_env(auth.PASSWORD))
    if missing:
        raise errors.ConfigurationError(missing)
    provider = Up42WebhookProvider()
    workspace = args.workspace
    api = provider.connect({"access_token": token})
    where = f"{auth.BASE_URL.env_var} or {auth.REGION.env_var}"
    _check_reachable("UP42", "list webhooks", api.base_url, where, say)
    token_url = auth.endpoints().token
    if not token and _host(token_url) != _host(api.base_url):  # signing in with username and password
        where = f"{auth.AUTH_URL.env_var} or {auth.REGION.env_var}"
        _check_reachable("UP42", auth.TOKEN_OPERATION, token_url, where, say)
    say(f"listing UP42 webhooks of workspace {workspace}…")
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
    names = unique_names(slug(w.name) or url_slug(w.url) or "webhook" for w in hooks)
    # One stack config key per webhook: `orders-2` and `orders2` would both make `orders2Secret`.
    keys = iter(unique_names(_config_key(name) for name, w in zip(names, hooks, strict=True) if w.secret))
    for name, w in zip(names, hooks, strict=True):
        inputs: dict[str, Any] = {
            "workspace_id": workspace,
            "url": w.url,
            "events": sorted(set(w.events)),
            "name": w.name,
            "active": w.active,
        }
        notes = _check_notes(provider, inputs)
        if w.secret:
            key = next(keys)
            problem = signing_secret_problem(w.secret)  # never quotes the value
            if problem:
                notes += (f"preview will refuse this until it is changed: secret: {problem}",)
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


def _cjdropshipping(args: argparse.Namespace, say: Say) -> Found:
    from pulumi_webhooks.cjdropshipping.api import parse_callback
    from pulumi_webhooks.cjdropshipping.provider import (
        ACCESS_TOKEN,
        API_KEY,
        BASE_URL,
        CjWebhookSettingsProvider,
    )
    from pulumi_webhooks.cjdropshipping.topics import GROUPS, REQUIRED_GROUPS, URL_FIELDS

    # A credential named by a flag wins; without flags, the API key is preferred (it renews itself).
    credentials = {
        "api_key": _env_secret(args.api_key_env, "--api-key-env"),
        "access_token": _env_secret(args.token_env, "--token-env"),
    }
    if not any(credentials.values()):
        credentials = {"api_key": _from_env(API_KEY), "access_token": _from_env(ACCESS_TOKEN)}
    if not any(credentials.values()):
        raise errors.ConfigurationError(
            f"no CJdropshipping credentials: set environment variable {API_KEY.env_var} (or name another "
            f"with --api-key-env), or an access token in {ACCESS_TOKEN.env_var} (or name another with "
            "--token-env)"
        )
    provider = CjWebhookSettingsProvider()
    api = provider.connect(credentials)
    _check_reachable("CJdropshipping", "read settings", api.base_url, BASE_URL.env_var, say)
    say("reading the CJdropshipping account's callback settings…")
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
    unreported = [g for g in REQUIRED_GROUPS if g not in groups]  # optional groups are left as they are
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
    run: Callable[[argparse.Namespace, Say], Found]
    environment: str  # the variables, for --help
    auth_hint: str  # what to check when the platform refuses the credentials, as discover reads them


PLATFORMS: dict[str, PlatformCommand] = {
    "shopline": PlatformCommand(
        "shopline",
        "the webhooks of one SHOPLINE store",
        _shopline,
        "SHOPLINE_ACCESS_TOKEN (or --token-env), SHOPLINE_BASE_URL, SHOPLINE_ADMIN_API_VERSION",
        "Check the access token in SHOPLINE_ACCESS_TOKEN (or the variable --token-env names) and that the "
        "app is installed on this store with webhook scopes",
    ),
    "shoplazza": PlatformCommand(
        "shoplazza",
        "the webhooks of one Shoplazza shop",
        _shoplazza,
        "SHOPLAZZA_ACCESS_TOKEN (or --token-env), SHOPLAZZA_BASE_URL, SHOPLAZZA_API_VERSION",
        "Check the access token in SHOPLAZZA_ACCESS_TOKEN (or the variable --token-env names) and that the "
        "app is installed on this shop with the webhook scopes",
    ),
    "up42": PlatformCommand(
        "up42",
        "the webhooks of one UP42 workspace",
        _up42,
        "UP42_USERNAME and UP42_PASSWORD, or UP42_ACCESS_TOKEN (or --token-env); UP42_REGION, UP42_BASE_URL, "
        "UP42_AUTH_URL",
        "Check the UP42 credentials in UP42_USERNAME and UP42_PASSWORD, or the access token in "
        "UP42_ACCESS_TOKEN (or the variable --token-env names; tokens live 5 minutes), and that the account "
        "may read webhooks of this workspace",
    ),
    "cjdropshipping": PlatformCommand(
        "cjdropshipping",
        "the callback settings of the CJdropshipping account",
        _cjdropshipping,
        "CJ_API_KEY (or --api-key-env) or CJ_ACCESS_TOKEN (or --token-env); CJ_BASE_URL, CJ_QPS",
        "Check the API key in CJ_API_KEY (or the variable --api-key-env names) or the access token in "
        "CJ_ACCESS_TOKEN (or the variable --token-env names)",
    ),
}


# -- output ------------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return visible(", ".join(str(v) for v in value))
    return visible(str(value))


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
    return _json(found.records, indent=2) + "\n"


def _json(value: Any, **options: Any) -> str:
    """JSON text, non-ASCII kept readable; escaped as ``\\uXXXX`` when it holds what no output can
    encode (a lone surrogate a platform sent)."""
    text = json.dumps(value, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **options)
    return text


def _literal(value: Any) -> str:
    """A Python literal. Strings are JSON-quoted (a valid Python literal), so that whatever a platform
    returns cannot break out of the string."""
    if isinstance(value, Code):
        return value.text
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return _json(str(value))


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
    talk = common.add_mutually_exclusive_group()
    talk.add_argument("-v", "--verbose", action="store_true", help="log every request (never a credential)")
    talk.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines on stderr (errors are still said)"
    )
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
    if isinstance(exc, errors.AuthenticationError) and exc.hint:
        # The platform's hint names every place the provider reads; discover reads only its own.
        return exc.message.replace(exc.hint, PLATFORMS[args.platform].auth_hint)
    if isinstance(exc, errors.WebhookError):
        # A setting's message names "stack config `k` or environment variable `V`": discover reads V.
        return _STACK_CONFIG_OR.sub("environment variable ", exc.message)
    # A bug: one line without secrets, as the provider does.
    return f"{args.platform} discover failed unexpectedly: {type(exc).__name__}: {clip(str(exc), 300)}"


_STACK_CONFIG_OR = re.compile(r"(?:the `\w+` input, )?stack config `[^`]+` or environment variable ")


def _log_to_stderr(verbose: bool) -> None:
    """The package's info lines (retries and waits) on stderr; ``-v`` adds our own request log (method,
    path, status, request id) and httpx's request lines, through the redactor; never httpcore's
    wire-level debug log, which prints raw headers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    handler.addFilter(RedactingFilter())
    package = logging.getLogger("pulumi_webhooks")
    package.addHandler(handler)
    package.setLevel(logging.DEBUG if verbose else logging.INFO)
    if verbose:
        logging.getLogger("httpx").addHandler(handler)
        logging.getLogger("httpx").setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _argument_problem(args)
    if problem:
        args.command_parser.error(problem)

    def say(line: str) -> None:
        if not args.quiet:
            print(f"{PROG}: {line}", file=sys.stderr, flush=True)

    if not args.quiet:
        _log_to_stderr(args.verbose)
    render = {"table": render_table, "json": render_json, "python": render_python}[args.output]
    try:
        with deadline.deadline_scope(settings.operation_timeout()):
            found = PLATFORMS[args.platform].run(args, say)
        text = render(found)
    except Exception as exc:
        print(f"{PROG}: {redact(_failure(args, exc))}", file=sys.stderr)
        return 1
    finally:
        close_shared_clients()
    if args.output != "python":
        for note in found.notes:
            print(f"{PROG}: {visible(note)}", file=sys.stderr)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
