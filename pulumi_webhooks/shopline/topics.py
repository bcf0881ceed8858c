"""SHOPLINE webhook topics (event versions v20240601 and later).

Source: the ``GetSupportedTopic()`` values of the official Go SDK for event versions v20251201 and
v20260301 (shared/reference/platforms.md §2.6). The SDK spells the order update ``orders/updated``
while the docs' prose says ``orders/update``; both are accepted (check the event page of your version).
"""

from __future__ import annotations

TOPICS: frozenset[str] = frozenset(
    """
    orders/create orders/updated orders/update orders/paid orders/cancelled orders/fulfilled
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

# Topics that exist only before a given event version (the SDK drops them from v20260301 on).
ONLY_BEFORE: dict[str, str] = {"customers/action": "v20260301"}


def topics_for(api_version: str) -> frozenset[str]:
    """The topics an event version accepts."""
    extra = {topic for topic, until in ONLY_BEFORE.items() if api_version < until}
    return TOPICS | extra
