"""The documentation against the code: examples that run, settings and errors that exist, links that resolve.

Each resource's docstring carries the example of its page (the same text, so the two cannot drift), and
that example runs as a Pulumi program. The configuration page names every setting the providers declare,
the troubleshooting page every error class.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from engine import collect

import pulumi_webhooks.cjdropshipping as cjdropshipping
import pulumi_webhooks.errors
import pulumi_webhooks.shoplazza as shoplazza
import pulumi_webhooks.shopline as shopline
import pulumi_webhooks.up42 as up42

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

# class -> (its page, the type it registers as its first resource)
RESOURCES: dict[str, tuple[Any, str, str]] = {
    "shopline.Webhook": (shopline.Webhook, "shopline.md", "pulumi-python:dynamic/shopline:Webhook"),
    "shoplazza.Webhook": (shoplazza.Webhook, "shoplazza.md", "pulumi-python:dynamic/shoplazza:Webhook"),
    "up42.Webhook": (up42.Webhook, "up42.md", "pulumi-python:dynamic/up42:Webhook"),
    "cjdropshipping.WebhookSettings": (
        cjdropshipping.WebhookSettings,
        "cjdropshipping.md",
        "pulumi-python:dynamic/cjdropshipping:WebhookSettings",
    ),
    "shopline.Subscriptions": (
        shopline.Subscriptions,
        "subscriptions.md",
        "pulumi-webhooks:shopline:Subscriptions",
    ),
    "shoplazza.Subscriptions": (
        shoplazza.Subscriptions,
        "subscriptions.md",
        "pulumi-webhooks:shoplazza:Subscriptions",
    ),
}


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


def docstring_example(cls: Any) -> str:
    doc = inspect.getdoc(cls) or ""
    match = re.search(r"Example::\n\n(.*)", doc, re.S)
    assert match, f"{cls.__qualname__} has no Example:: block"
    return textwrap.dedent(match[1]).strip() + "\n"


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_the_docstring_carries_the_pages_example(name: str) -> None:
    cls, page, _ = RESOURCES[name]
    assert docstring_example(cls) in python_blocks(page)


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_the_example_runs_as_a_program(name: str) -> None:
    cls, _, type_token = RESOURCES[name]
    code = compile(docstring_example(cls), f"{name} example", "exec")

    def program() -> None:
        exec(code, {"__name__": "__main__"})  # noqa: S102 (our own documentation)

    registered = collect(
        program, config={"up42WebhookSecret": "whsec-docs"}, secret_keys=["up42WebhookSecret"]
    )
    assert registered and registered[0].type == type_token


def package_settings() -> list[tuple[str, str]]:
    """(config key, variable) of every setting the package declares, from a fresh interpreter: the test
    process also holds settings other tests declare."""
    code = (
        "import json, pulumi_webhooks.shopline.provider, pulumi_webhooks.shoplazza.provider, "
        "pulumi_webhooks.up42.provider, pulumi_webhooks.cjdropshipping.provider\n"
        "from pulumi_webhooks._core import settings\n"
        "print(json.dumps([[s.config_key, s.env_var] for s in settings._known.values()]))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return [(key, var) for key, var in json.loads(done.stdout)]


def test_the_configuration_page_names_every_setting() -> None:
    page = (DOCS / "configuration.md").read_text()
    declared = package_settings()
    assert len(declared) > 10
    missing = [(key, var) for key, var in declared if f"`{key}`" not in page or f"`{var}`" not in page]
    assert missing == []
    assert "`PULUMI_WEBHOOKS_CACHE_DIR`" in page


def test_the_troubleshooting_page_names_every_error_class() -> None:
    page = (DOCS / "troubleshooting.md").read_text()
    missing = [name for name in pulumi_webhooks.errors.__all__ if name not in page]
    assert missing == []


PAGES = sorted(
    [REPO / "README.md", REPO / "ARCHITECTURE.md", REPO / "CHANGELOG.md", *DOCS.glob("*.md")],
    key=lambda p: p.relative_to(REPO).as_posix(),
)


def _prose(path: Path) -> str:
    """A page without its fenced code blocks (shell sessions, programs: not links, not headings)."""
    return re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(m[1]) for m in re.finditer(r"^#+ (.*)$", _prose(path), re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link goes to a file that exists, and its #anchor to a heading of that page."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # https://…, mailto:…
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or (
            anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)
        ):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_cited_pages_exist(page: Path) -> None:
    """A page named in the text without a link (`see docs/x.md`) exists too, beside the page or from
    the repository root."""
    text = re.sub(r"[a-z][a-z0-9+.-]*://\S+", "", _prose(page))  # URLs are not ours to check
    cited = re.findall(r"(?<![\w./-])(\w[\w./-]*\.md)\b", text)
    missing = sorted({c for c in cited if not (page.parent / c).exists() and not (REPO / c).exists()})
    assert missing == []


def _tables(text: str, header: str) -> list[str]:
    """Every markdown table of ``text`` whose header row starts with ``header``, as one string each."""
    return re.findall(rf"^{re.escape(header)}.*\n(?:\|.*\n?)*", text, re.M)


def test_the_readme_quotes_the_recorded_benchmarks() -> None:
    """README's benchmark figures are those of benchmarks/RESULTS.md (what `make bench --record`
    wrote), copied as they are: not numbers of its own that a rerun does not give."""
    recorded = _tables((REPO / "benchmarks" / "RESULTS.md").read_text(), "| measure |")
    assert len(recorded) == 1
    readme = (REPO / "README.md").read_text()
    assert _tables(readme, "| measure |") == recorded
    assert "](benchmarks/RESULTS.md)" in readme
