"""Shoplazza webhook topics.

Sources (platforms.md §4.6 and "Round 2"; seed 003_496d880053325e1d.txt, the create-webhook reference page
https://www.shoplazza.dev/reference/create-webhook-copy for API version 2022-01):

- the list in Shoplazza's own 422 answer to an unknown topic ("Topic is not allowed, allowed topic are:
  …"), quoted on that page: 34 topics;
- the same page's request table gives ``app/subscriptions_update`` as an example topic although its 422
  list omits it. A documented example must not be refused at preview, so it is accepted too (35 in all).

Every topic the supported-webhook-events page confirms (collections/*, products/create and update,
orders/create, cancelled, delete and update, app/uninstalled) is in the list. We have no list for other
versions, so the same one applies to every supported API version.
"""

from __future__ import annotations

# The 422 answer's list, verbatim (the sandbox quotes it in its own 422 answer).
LISTED_IN_422: frozenset[str] = frozenset(
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

# Documented as an example topic on the create page, missing from the 422 list.
EXAMPLE_TOPICS: frozenset[str] = frozenset({"app/subscriptions_update"})

TOPICS: frozenset[str] = LISTED_IN_422 | EXAMPLE_TOPICS
