"""Shoplazza webhook topics.

Source: the list in Shoplazza's own 422 answer to an unknown topic ("Topic is not allowed, allowed topic
are: …"), quoted on the create-webhook reference page for API version 2022-01 (shared/reference/
platforms.md §4.6). We have no list for other versions, so the same one applies to every supported API
version. The create page's prose also names ``app/subscriptions_update`` as an example, but the 422
list does not contain it: we follow the list.
"""

from __future__ import annotations

TOPICS: frozenset[str] = frozenset(
    """
    app/expired app/uninstalled
    cart/create cart/update
    collections/create collections/delete collections/update
    customers/create customers/delete customers/update
    fulfillments/create fulfillments/update
    orders/cancelled orders/create orders/delete orders/finished orders/fulfilled orders/paid
    orders/partially_fulfilled orders/partially_refunded orders/refunded orders/update
    procurements/create procurements/update
    products/create products/delete products/publish products/unpublish products/update
    shop/update
    stores/subscribe
    suppliers/create suppliers/delete suppliers/update
    """.split()
)
