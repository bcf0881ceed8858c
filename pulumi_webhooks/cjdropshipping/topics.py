"""CJdropshipping message groups: what one ``POST /webhook/set`` switches on or off.

CJ has no per-topic subscriptions: an account has one setting object. ``webhook/set`` requires four
groups and accepts two optional ones (``makeup``, ``privateOrder``: the current .cn/.com webhook page,
reference/platforms.md §1.3 and "Round 2"), each ``ENABLE`` or ``CANCEL`` with exactly one callback URL.
Each group delivers several message types (§1.6).
"""

from __future__ import annotations

from types import MappingProxyType

# The groups `webhook/set` requires, in the order the docs list them: always sent.
REQUIRED_GROUPS: tuple[str, ...] = ("product", "stock", "order", "logistics")
# The optional groups: sent only when the resource declares (or declared) them, so that an account whose
# stack never set them is left exactly as it is.
OPTIONAL_GROUPS: tuple[str, ...] = ("makeup", "privateOrder")
GROUPS: tuple[str, ...] = REQUIRED_GROUPS + OPTIONAL_GROUPS

# The resource input that holds each group's callback URL (snake_case of the group name).
URL_FIELDS: MappingProxyType[str, str] = MappingProxyType(
    {
        **{group: f"{group}_url" for group in REQUIRED_GROUPS},
        "makeup": "makeup_url",
        "privateOrder": "private_order_url",
    }
)

# The message `type`s each group delivers (payload envelope `type`, §1.6). VARIANT under product comes
# from third-party notes and ORDERSPLIT under order from its name; the docs do not map SOURCINGCREATE.
MESSAGE_TYPES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "product": ("PRODUCT", "VARIANT"),
        "stock": ("STOCK",),
        "order": ("ORDER", "ORDERSPLIT"),
        "logistics": ("LOGISTIC",),
        "makeup": ("MAKEUP",),
        "privateOrder": ("PRIVATE_ORDER",),
    }
)

ENABLE = "ENABLE"
CANCEL = "CANCEL"
