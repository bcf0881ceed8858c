"""Lazy imports: package exports (PEP 562) and modules loaded at their first attribute access.

The provider host, the sandbox and ``pulumi-webhooks trigger`` need a platform's topic catalog or its
provider, not the program-side resource classes; those load when a program first touches them. A
platform's wire shapes (pydantic) load on another thread once the first request's headers go out.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
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


class LazyModule:
    """Stands for module ``name`` and imports it at the first attribute access. Thread-safe through the
    import system's own module lock (``importlib.util.LazyLoader`` is not, before Python 3.12)."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __getattr__(self, attribute: str) -> Any:
        module: ModuleType = importlib.import_module(self.__name__)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name__!r}>"


_background: set[str] = set()
_background_lock = threading.Lock()


def import_in_background(name: str) -> None:
    """Start importing module ``name`` on another thread (once per process, unless it is loaded). The
    thread that needs the module imports it as usual: the import system's module lock makes it wait for
    this import to finish, and an import that fails raises there."""
    if name in sys.modules:
        return
    with _background_lock:
        if name in _background:
            return
        _background.add(name)
    with contextlib.suppress(RuntimeError):  # no thread to spare: the module loads when first needed
        threading.Thread(target=_import_quietly, args=(name,), name=f"import {name}").start()


def _import_quietly(name: str) -> None:
    with contextlib.suppress(Exception):  # the thread that needs the module imports it again, and raises
        importlib.import_module(name)
