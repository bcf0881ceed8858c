"""The platforms the sandbox serves. A new emulator registers here with one line."""

from __future__ import annotations

from collections.abc import Callable

from ._core import Platform
from .shopline import ShoplinePlatform

PLATFORMS: dict[str, Callable[[], Platform]] = {
    "shopline": ShoplinePlatform,
}


def default_platforms() -> list[Platform]:
    """A fresh instance of every registered platform (each sandbox owns its own state)."""
    return [factory() for factory in PLATFORMS.values()]
