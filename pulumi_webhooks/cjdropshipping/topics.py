"""CJdropshipping message groups: what one ``POST /webhook/set`` switches on or off.

CJ has no per-topic subscriptions: an account has one setting object with four required groups, each
``ENABLE`` or ``CANCEL`` with exactly one callback URL (reference/platforms.md §1.3). Each group
delivers several message types (§1.6). The current docs also show two optional groups, ``makeup`` and
``privateOrder``; they are not part of the public contract, so they are never sent and stay as they are.
"""

from __future__ import annotations

from types import MappingProxyType

# The four groups `webhook/set` requires, in the order the docs list them.
GROUPS: tuple[str, ...] = ("product", "stock", "order", "logistics")

# The resource input that holds each group's callback URL.
URL_FIELDS: MappingProxyType[str, str] = MappingProxyType({group: f"{group}_url" for group in GROUPS})

# The message `type`s each group delivers (payload envelope `type`, §1.6). VARIANT under product comes
# from third-party notes and ORDERSPLIT under order from its name; the docs do not map SOURCINGCREATE.
MESSAGE_TYPES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "product": ("PRODUCT", "VARIANT"),
        "stock": ("STOCK",),
        "order": ("ORDER", "ORDERSPLIT"),
        "logistics": ("LOGISTIC",),
    }
)

ENABLE = "ENABLE"
CANCEL = "CANCEL"
