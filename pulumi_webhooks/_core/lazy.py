"""Lazy package exports (PEP 562), so that importing a platform's catalog does not load the SDK.

The provider host, the sandbox and ``pulumi-webhooks trigger`` need a platform's topic catalog or its
provider, not the program-side resource classes; those load when a program first touches them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each public name to the submodule
    that defines it, imported on first access."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
