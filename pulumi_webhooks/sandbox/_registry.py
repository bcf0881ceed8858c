"""The platforms the sandbox serves. A new emulator registers here with one line."""

from __future__ import annotations

from collections.abc import Callable

from ._core import Platform
from .cjdropshipping import CjdropshippingPlatform
from .shoplazza import ShoplazzaPlatform
from .shopline import ShoplinePlatform
from .up42 import Up42Platform

PLATFORMS: dict[str, Callable[[], Platform]] = {
    "cjdropshipping": CjdropshippingPlatform,
    "up42": Up42Platform,
    "shopline": ShoplinePlatform,
    "shoplazza": ShoplazzaPlatform,
}


def default_platforms() -> list[Platform]:
    """A fresh instance of every registered platform (each sandbox owns its own state)."""
    return [factory() for factory in PLATFORMS.values()]
