"""The sandbox dashboard: a read-only HTML page of every platform's subscriptions and recent requests.

Rendering only (a state snapshot and the request log in, HTML out); `_core.Sandbox` serves it at
`GET /_sandbox/` and `GET /_sandbox/dashboard`. The page is rendered on the server and refreshes
itself: a small inline script fetches `/_sandbox/dashboard/fragment` (the same tables without the page
around them) every 2 s. So rendering lives in one place, every value is escaped here, and the browser
never receives a secret: a platform view picks the fields it shows (UP42's signing secrets, CJ's
openId and token hashes are never picked), and a platform without a view is shown as JSON with every
secret-looking key masked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import Any

PAGE_PATHS = frozenset({"/", "/dashboard"})
FRAGMENT_PATH = "/dashboard/fragment"
DASHBOARD_PATHS = PAGE_PATHS | {FRAGMENT_PATH}
RECENT_REQUESTS = 100  # newest first; the log itself holds more
REFRESH_MS = 2000
MASK = "••••"
NOTHING = "\u2014"  # an em dash: the cell has no value (CJ settings have no id or times)
SECRET_KEY = re.compile(r"secret|token|password|passwd|open_?id|api_?key|credential|signature", re.IGNORECASE)


@dataclass(frozen=True)
class Subscription:
    """One row of a platform's table, reduced to what every platform has."""

    owner: str  # the store, shop, workspace or account the subscription belongs to
    id: str
    topics: tuple[str, ...]
    addresses: tuple[str, ...]
    details: str = ""
    created: str = ""
    updated: str = ""


@dataclass(frozen=True)
class PlatformView:
    title: str
    owner_label: str
    subscriptions: Callable[[Mapping[str, Any]], list[Subscription]]


def _shopline(state: Mapping[str, Any]) -> list[Subscription]:
    return [
        Subscription(
            store,
            str(w["id"]),
            (w["topic"],),
            (w["address"],),
            f"API {w['api_version']}",
            w["created_at"],
            w["updated_at"],
        )
        for store, hooks in sorted(state["stores"].items())
        for w in hooks
    ]


def _shoplazza(state: Mapping[str, Any]) -> list[Subscription]:
    return [
        Subscription(
            shop,
            w["id"],
            (w["topic"],),
            (w["address"],),
            f"format {w['format']}",
            w["created_at"],
            w["updated_at"],
        )
        for shop, hooks in sorted(state["shops"].items())
        for w in hooks
    ]


def _up42(state: Mapping[str, Any]) -> list[Subscription]:
    return [
        Subscription(
            workspace,
            w["id"],
            tuple(w["events"]),
            (w["url"],),
            w["name"] if w["active"] else f"{w['name']} (inactive)",
            w["createdAt"],
            w["updatedAt"],
        )
        for workspace, hooks in sorted(state["workspaces"].items())
        for w in hooks
    ]


def _cjdropshipping(state: Mapping[str, Any]) -> list[Subscription]:
    # CJ keeps one callback setting per group and account, with no id or timestamps.
    return [
        Subscription(account, "", (group,), tuple(setting["urls"]), setting["type"])
        for account, data in sorted(state["accounts"].items())
        for group, setting in data["callback"].items()
    ]


VIEWS: dict[str, PlatformView] = {
    "shopline": PlatformView("SHOPLINE", "Store", _shopline),
    "shoplazza": PlatformView("Shoplazza", "Shop", _shoplazza),
    "up42": PlatformView("UP42", "Workspace", _up42),
    "cjdropshipping": PlatformView("CJdropshipping", "Account", _cjdropshipping),
}


def render_dashboard(path: str, snapshot: Mapping[str, Any], requests: Sequence[Mapping[str, Any]]) -> str:
    """The page (a path of `PAGE_PATHS`) or the fragment its script polls (`FRAGMENT_PATH`)."""
    fragment = render_fragment(snapshot, requests)
    return fragment if path == FRAGMENT_PATH else _PAGE.replace("{content}", fragment)


def render_fragment(snapshot: Mapping[str, Any], requests: Sequence[Mapping[str, Any]]) -> str:
    sections = [_platform_section(name, state) for name, state in snapshot.items()]
    count = sum(n for n, _ in sections)
    summary = (
        f"{len(snapshot)} platforms · {count} subscription{'s' * (count != 1)} · "
        f"{len(requests)} request{'s' * (len(requests) != 1)} logged"
    )
    return "\n".join(
        [
            f'<p class="summary">{escape(summary)}</p>',
            *(html for _, html in sections),
            _requests_section(requests),
        ]
    )


def masked(value: Any) -> Any:
    """`value` with the value of every secret-looking key (token, secret, password, openId...) masked."""
    if isinstance(value, Mapping):
        return {k: MASK if SECRET_KEY.search(str(k)) else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


# -- HTML ----------------------------------------------------------------------------------------


def _platform_section(name: str, state: Mapping[str, Any]) -> tuple[int, str]:
    view = VIEWS.get(name)
    try:
        subscriptions = view.subscriptions(state) if view is not None else None
    except (KeyError, TypeError, AttributeError):  # a snapshot this view does not know: show it raw
        subscriptions = None
    if view is None or subscriptions is None:
        text = json.dumps(masked(state), indent=1, sort_keys=True, ensure_ascii=False)
        return 0, _section(name, view.title if view else name, "", f'<pre class="mono">{escape(text)}</pre>')
    head = ("ID", "Topics", "Address", "Details", "Created", "Updated")
    by_owner: dict[str, list[Subscription]] = {}
    for sub in subscriptions:
        by_owner.setdefault(sub.owner, []).append(sub)
    groups = [
        f'<tbody data-owner="{escape(owner)}"><tr class="owner"><th colspan="{len(head)}">'
        f'{escape(view.owner_label)} <span class="mono">{escape(owner)}</span></th></tr>'
        f"{''.join(_subscription_row(sub) for sub in subs)}</tbody>"
        for owner, subs in by_owner.items()
    ]
    count = f'<span class="count">{len(subscriptions)}</span>'
    table = _table(head, groups, "No subscriptions.", "subscriptions")
    return len(subscriptions), _section(name, view.title, count, table)


def _subscription_row(sub: Subscription) -> str:
    return _row(
        _cell(sub.id, "mono nowrap") if sub.id else _cell(NOTHING, "muted"),
        _lines(sub.topics, "mono"),
        _lines(sub.addresses, "mono addr") if sub.addresses else _cell("none", "muted"),
        _cell(sub.details),
        _time_cell(sub.created),
        _time_cell(sub.updated),
    )


def _requests_section(requests: Sequence[Mapping[str, Any]]) -> str:
    head = ("Time (UTC)", "Platform", "Method", "Path", "Status", "Duration", "Fault")
    rows = [_request_row(e) for e in reversed(requests[-RECENT_REQUESTS:])]
    table = _table(head, [f"<tbody>{''.join(rows)}</tbody>"] if rows else [], "No requests yet.")
    hint = f"the last {RECENT_REQUESTS}, newest first" if len(requests) > RECENT_REQUESTS else "newest first"
    return _section("requests", "Recent requests", f'<span class="hint">{hint}</span>', table)


def _request_row(entry: Mapping[str, Any]) -> str:
    moment = datetime.fromtimestamp(entry["time"], timezone.utc)
    status = entry["status"]
    fault = entry.get("fault")
    return _row(
        _cell(moment.strftime("%H:%M:%S.%f")[:-3], "mono nowrap", moment.isoformat()),
        _cell(entry["platform"]),
        _cell(entry["method"], "mono"),
        _cell(entry["path"], "mono addr"),
        _cell("dropped", "status s5") if status is None else _cell(str(status), f"status s{status // 100}"),
        _cell(f"{entry['duration_ms']:.1f} ms", "num nowrap"),
        f'<td><span class="badge">{escape(fault)}</span></td>' if fault else "<td></td>",
    )


def _section(name: str, title: str, extra: str, body: str) -> str:
    return (
        f'<section id="{escape(name)}" data-platform="{escape(name)}"><h2>{escape(title)} {extra}</h2>'
        f"{body}</section>"
    )


def _table(head: Sequence[str], bodies: Sequence[str], empty: str, cls: str = "") -> str:
    if not bodies:
        return f'<p class="empty">{escape(empty)}</p>'
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    attrs = f' class="{cls}"' if cls else ""
    return f"<table{attrs}><thead><tr>{cells}</tr></thead>{''.join(bodies)}</table>"


def _row(*cells: str) -> str:
    return f"<tr>{''.join(cells)}</tr>"


def _cell(text: str, cls: str = "", title: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' title="{escape(title)}"' if title else "")
    return f"<td{attrs}>{escape(text)}</td>"


def _lines(values: Iterable[str], cls: str) -> str:
    return f'<td class="{cls}">{"<br>".join(escape(v) for v in values)}</td>'


def _time_cell(value: str) -> str:
    """Platforms stamp times in their own formats and zones; one UTC format reads better (raw as title)."""
    if not value:
        return _cell(NOTHING, "muted")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))  # Python 3.10 does not read "Z"
    except ValueError:
        return _cell(value, "nowrap")
    if moment.tzinfo is None:
        return _cell(value, "nowrap")
    return _cell(moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"), "nowrap", value)


_STYLE = """
:root { color-scheme: light; --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --soft: #eaeef2; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 24px; background: #24292f; color: #fff; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header .path { color: #afb8c1; font-size: 13px; }
#live { margin-left: auto; font-size: 12px; color: #d0d7de; }
#live::before { content: "\\25CF"; margin-right: 6px; color: #8c959f; }
#live.ok::before { color: #2da44e; }
#live.down::before { color: #fa4549; }
main { padding: 12px 24px 32px; }
.summary { margin: 0 0 12px; color: var(--muted); }
section { margin: 0 0 16px; overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
h2 { display: flex; align-items: center; gap: 8px; margin: 0; padding: 8px 12px; font-size: 15px;
  background: #f6f8fa; border-bottom: 1px solid var(--line); }
.count { padding: 0 8px; font-size: 12px; font-weight: 500; color: var(--muted); background: var(--soft);
  border-radius: 10px; }
.hint { font-size: 12px; font-weight: 400; color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
/* One column grid for every platform's table, so that they line up; long values wrap anywhere. */
table.subscriptions { min-width: 960px; table-layout: fixed; }
table.subscriptions td { overflow-wrap: anywhere; }
table.subscriptions th:nth-child(1) { width: 23%; }
table.subscriptions th:nth-child(2) { width: 12%; }
table.subscriptions th:nth-child(3) { width: 23%; }
table.subscriptions th:nth-child(4) { width: 14%; }
table.subscriptions th:nth-child(5), table.subscriptions th:nth-child(6) { width: 14%; }
th, td { padding: 5px 10px; text-align: left; vertical-align: baseline; border-bottom: 1px solid var(--soft); }
th { font-size: 11px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
thead th { border-bottom: 1px solid var(--line); }
tr.owner th { padding-top: 7px; font-size: 12.5px; color: var(--fg); text-transform: none; letter-spacing: 0;
  background: #f6f8fa; }
tr.owner .mono { font-weight: 500; }
tbody tr:not(.owner):nth-child(odd) { background: #fafbfc; }
table tbody:last-child tr:last-child td { border-bottom: 0; }
.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
.addr { min-width: 24ch; word-break: break-all; }
.nowrap { white-space: nowrap; }
.num, #requests th:nth-child(6) { text-align: right; }
.muted, .empty { color: var(--muted); }
.empty { margin: 0; padding: 10px 12px; }
.status { font-weight: 600; }
.s2 { color: #1a7f37; } .s3 { color: #0969da; } .s4 { color: #9a6700; } .s5 { color: #cf222e; }
.badge { padding: 0 6px; font-size: 12px; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 4px; }
pre { margin: 0; padding: 10px 12px; overflow: auto; }
"""

_SCRIPT = f"""
"use strict";
(() => {{
  const content = document.getElementById("content");
  const live = document.getElementById("live");
  let last = null;
  const refresh = async () => {{
    try {{
      const resp = await fetch("/_sandbox{FRAGMENT_PATH}", {{ cache: "no-store" }});
      if (!resp.ok) throw new Error(`HTTP ${{resp.status}}`);
      const html = await resp.text();  // rendered and escaped by the sandbox
      if (html !== last) {{ content.innerHTML = html; last = html; }}  // unchanged: keep any text selection
      live.className = "ok";
      live.textContent = `live, updated ${{new Date().toLocaleTimeString()}}`;
    }} catch (err) {{
      live.className = "down";
      live.textContent = `sandbox unreachable (${{err.message}}), retrying`;
    }}
    setTimeout(refresh, {REFRESH_MS});
  }};
  setTimeout(refresh, {REFRESH_MS});
}})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Defence in depth behind the escaping: only this page's own script and style may run, nothing loads
# from elsewhere, and the script may only call back the sandbox.
DASHBOARD_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        f"default-src 'none'; script-src {_sha256(_SCRIPT)}; style-src {_sha256(_STYLE)}; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pulumi-webhooks sandbox</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style>
</head>
<body>
<header><h1>pulumi-webhooks sandbox</h1><span class="path">/_sandbox/dashboard</span>
<span id="live">refreshes every {REFRESH_MS // 1000} s</span></header>
<main id="content">
{{content}}
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""
