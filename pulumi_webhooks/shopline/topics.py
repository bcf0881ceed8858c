"""SHOPLINE webhook topics per event version (v20240601 and later).

Source: the ``GetSupportedTopic()`` values of the official Go SDK, github.com/shoplineos/shopline-sdk-go:
every ``webhook/v20260301/**/*.go`` file (commit f67787f2517b04b5569d19a0d696c2b6814c43c2, a few files
at ea97c028d5968ea8dc7388d2023f86ac759fb79b) gives one topic, 126 in all; ``webhook/v20251201/**`` (commit
32fb44c22e5fdd5632ac888a91fc84e5952b632b, earlier at 2af1e68e3fc48653d320348d5282ecc3615383a5 under
``webhook/<area>/``) gives the same 126 plus ``customers/action`` (``customer_registered_login.go``): 127.

The order-update topic is ``orders/updated`` in both (``order/order_update.go``) and on the vendor's event
page; ``orders/update`` appears only in one prose example and no vendor source says it is delivered, so it
is refused with a pointer to the real name.

Versions the SDK has no list for: anything before v20260301 (v20240601 ... v20250901) gets the v20251201
list, the oldest the vendor publishes; v20260301 and later get the v20260301 list, the newest.
"""

from __future__ import annotations

from pulumi_webhooks._core.catalog import unknown_name_reason

V20260301: frozenset[str] = frozenset(
    """
    orders/create orders/updated orders/paid orders/cancelled orders/fulfilled
    orders/partially_fulfilled orders/edited orders/delete
    order_transactions/create order_attribution/create abandoned_order_attribution/create draft_orders/create
    draft_orders/delete refunds/create refunds/update return/create return/update return_package/create
    return_package/update
    fulfillments/create fulfillments/update fulfillment_order/create fulfillment_order/update
    fulfillment_order/accepted fulfillment_order/rejected fulfillment_order/submitted fulfillment_order/released
    fulfillment_order/on_hold fulfillment_order/location_changed fulfillment_order/cancellation_request_submitted
    fulfillment_order/cancellation_request_accepted fulfillment_order/cancellation_request_rejected
    products/create products/update products/delete products/status_changed product_listings/add
    product_listings/update product_listings/remove collection_listings/add collection_listings/update
    collection_listings/remove collect/create collect/delete categories/create categories/update
    categories/delete taxonomy_collection/create taxonomy_collection/update taxonomy_collection/delete
    inventory_items/create inventory_items/update inventory_items/delete inventory_levels/update
    inventory_levels/connect inventory_levels/disconnect
    customers/create customers/update customers/delete customers/enable customers/disable customers/redact
    customers_marketing_consent/update customer_groups/create customer_groups/update customer_groups/delete
    company/create company/update company/delete company/status_changed company/action company_credit/update
    carts/create carts/update checkouts/create checkouts/update checkout_payment/create checkout_payment/update
    discountcode/add discountcode/delete pricerule/create pricerule/update pricerule/delete sales/create
    sales/update sales/delete
    sellingplan/create sellingplan/update sellingplan/delete subscribe/create subscribe/update
    subscribe/cancelled subscribe/success subscribe/failure subscription/status_changed subscription/challenged
    app_memberSystem_points/update app_memberSystem_points/challenged app_memberSystem_giftCard/challenged
    app_memberSystem_membershipLevels/challenged app_memberSystem_paidMembership/challenged
    app_memberSystem_referral/challenged app_memberSystem_shoppingCredit/challenged
    merchants/update merchants/redact apps/installed_uninstalled appsubscription/create appsubscription/paid
    appsubscription/expiration others/update
    themes/create themes/update themes/publish themes/delete page/create page/update page/delete
    blogs/create blogs/update blogs/delete article/create article/update article/delete
    logistics/create logistics/update logistics/delete
    """.split()
)
V20251201: frozenset[str] = V20260301 | {"customers/action"}

# Every topic of any version: what `pulumi_webhooks.shopline.TOPICS` lists.
TOPICS: frozenset[str] = V20251201

FIRST_WITHOUT_CUSTOMERS_ACTION = "v20260301"

# Names people write that SHOPLINE does not deliver, and the topic they mean.
MISNAMED: dict[str, str] = {"orders/update": "orders/updated"}


def topics_for(api_version: str) -> frozenset[str]:
    """The topics an event version accepts (see the module docstring for versions without a list)."""
    return V20251201 if api_version < FIRST_WITHOUT_CUSTOMERS_ACTION else V20260301


def unknown_topic_reason(topic: str, api_version: str | None) -> str | None:
    """Why ``topic`` is refused for ``api_version`` (None: any version), or None when it is accepted."""
    catalog = TOPICS if api_version is None else topics_for(api_version)
    if topic in catalog:
        return None
    where = "SHOPLINE" if api_version is None else f"SHOPLINE event version {api_version}"
    meant = MISNAMED.get(topic)
    if meant is not None:
        return f"unknown topic {topic!r} for {where}; did you mean {meant!r}? (SHOPLINE delivers {meant!r})"
    return unknown_name_reason(topic, catalog, what="topic", where=where)
