"""The SHOPLINE topic catalog equals the official Go SDK's supported-topic lists, version by version.

Source: github.com/shoplineos/shopline-sdk-go, read file by file with the search tool's read_file:
``webhook/v20260301/<area>/<file>.go`` at commit f67787f2517b04b5569d19a0d696c2b6814c43c2 (a few files at
ea97c028d5968ea8dc7388d2023f86ac759fb79b), each with one ``GetSupportedTopic()``; ``webhook/v20251201/``
(commit 32fb44c22e5fdd5632ac888a91fc84e5952b632b; before it the same files lived under ``webhook/<area>/`` at
2af1e68e3fc48653d320348d5282ecc3615383a5) holds the same files plus ``customers/customer_registered_login.go``.
"""

from __future__ import annotations

import pytest

from pulumi_webhooks.shopline import TOPICS
from pulumi_webhooks.shopline.topics import topics_for, unknown_topic_reason

# (file under webhook/v20260301/, the topic its GetSupportedTopic() returns)
SDK_V20260301 = (
    ("application/app_installation_status_changed", "apps/installed_uninstalled"),
    ("application/app_plan_activated", "appsubscription/create"),
    ("application/app_plan_expired", "appsubscription/expiration"),
    ("application/app_plan_subscription_payment_finalized", "appsubscription/paid"),
    ("batchoperation/bulk_task_status_updated", "others/update"),
    ("buildingstation/add_article", "article/create"),
    ("buildingstation/add_blogs", "blogs/create"),
    ("buildingstation/custom_page_created", "page/create"),
    ("buildingstation/custom_page_deleted", "page/delete"),
    ("buildingstation/custom_page_updated", "page/update"),
    ("buildingstation/delete_article", "article/delete"),
    ("buildingstation/delete_blogs", "blogs/delete"),
    ("buildingstation/theme_created", "themes/create"),
    ("buildingstation/theme_deleted", "themes/delete"),
    ("buildingstation/theme_published", "themes/publish"),
    ("buildingstation/theme_updated", "themes/update"),
    ("buildingstation/update_article", "article/update"),
    ("buildingstation/update_blogs", "blogs/update"),
    ("customers/customer_add", "customers/create"),
    ("customers/customer_delete", "customers/delete"),
    ("customers/customer_disable", "customers/disable"),
    ("customers/customer_editing", "customers/update"),
    ("customers/customer_enabled", "customers/enable"),
    ("customers/customer_group_creation", "customer_groups/create"),
    ("customers/customer_group_delete", "customer_groups/delete"),
    ("customers/customer_group_updates", "customer_groups/update"),
    ("customers/customer_subscription", "customers_marketing_consent/update"),
    ("customers/delete_customer_data_gdpr_specification", "customers/redact"),
    ("data/abandoned_order_attribution", "abandoned_order_attribution/create"),
    ("data/notice_completed_by_the_calculation_of_order_return", "order_attribution/create"),
    ("marketing/discount_code_added", "discountcode/add"),
    ("marketing/discount_code_delete_incident", "discountcode/delete"),
    ("marketing/flash_sale_campaign_created", "sales/create"),
    ("marketing/flash_sale_campaign_deleted", "sales/delete"),
    ("marketing/flash_sale_campaign_updated", "sales/update"),
    ("marketing/price_rule_created", "pricerule/create"),
    ("marketing/price_rule_delete", "pricerule/delete"),
    ("marketing/price_rule_updated", "pricerule/update"),
    ("membersystem/gift_card_update", "app_memberSystem_giftCard/challenged"),
    ("membersystem/membership_level_updated", "app_memberSystem_membershipLevels/challenged"),
    ("membersystem/paid_membership_updates", "app_memberSystem_paidMembership/challenged"),
    ("membersystem/points_name_updated", "app_memberSystem_points/update"),
    ("membersystem/points_updated", "app_memberSystem_points/challenged"),
    ("membersystem/store_credits_updated", "app_memberSystem_shoppingCredit/challenged"),
    ("membersystem/successful_invitation", "app_memberSystem_referral/challenged"),
    ("order/billing_attempts_fail", "subscribe/failure"),
    ("order/billing_attempts_to_succeed", "subscribe/success"),
    ("order/cancellation_request_for_fulfillment_order", "fulfillment_order/cancellation_request_submitted"),
    ("order/delivery_of_fulfillment_recovery", "fulfillment_order/released"),
    ("order/draft_order_created", "draft_orders/create"),
    ("order/draft_order_deleted", "draft_orders/delete"),
    ("order/fulfillment_created", "fulfillments/create"),
    ("order/fulfillment_location_update", "fulfillment_order/location_changed"),
    (
        "order/fulfillment_order_cancellation_request_accepted",
        "fulfillment_order/cancellation_request_accepted",
    ),
    (
        "order/fulfillment_order_cancellation_request_rejected",
        "fulfillment_order/cancellation_request_rejected",
    ),
    ("order/fulfillment_order_create", "fulfillment_order/create"),
    ("order/fulfillment_order_update", "fulfillment_order/update"),
    ("order/fulfillment_refused_request", "fulfillment_order/rejected"),
    ("order/fulfillment_suspension", "fulfillment_order/on_hold"),
    ("order/fulfillment_updated", "fulfillments/update"),
    ("order/order_cancelled", "orders/cancelled"),
    ("order/order_created", "orders/create"),
    ("order/order_editing", "orders/edited"),
    ("order/order_fulfilled", "orders/fulfilled"),
    ("order/order_paid_successfully", "orders/paid"),
    ("order/order_partially_fulfilled", "orders/partially_fulfilled"),
    ("order/order_payment_created", "order_transactions/create"),
    ("order/order_update", "orders/updated"),
    ("order/orders_deletion", "orders/delete"),
    ("order/refund_created", "refunds/create"),
    ("order/refund_update", "refunds/update"),
    ("order/request_for_fulfillment", "fulfillment_order/accepted"),
    ("order/submit_request_for_fulfillment", "fulfillment_order/submitted"),
    ("order/subscription_contract_cancellation", "subscribe/cancelled"),
    ("order/subscription_contract_creation", "subscribe/create"),
    ("order/subscription_contract_update", "subscribe/update"),
    ("product/collection_creation", "categories/create"),
    ("product/collection_delete", "categories/delete"),
    ("product/collection_relationship_creation", "collect/create"),
    ("product/collection_relationship_delete", "collect/delete"),
    ("product/collection_update", "categories/update"),
    ("product/create_a_company_location_catalog", "company/create"),
    ("product/create_inventory_object", "inventory_items/create"),
    ("product/create_product", "products/create"),
    ("product/create_taxonomy", "taxonomy_collection/create"),
    ("product/delete_a_company_location_catalog", "company/delete"),
    ("product/delete_inventory_object", "inventory_items/delete"),
    ("product/delete_product", "products/delete"),
    ("product/delete_taxonomy", "taxonomy_collection/delete"),
    ("product/inventory_horizontal_break", "inventory_levels/disconnect"),
    ("product/inventory_horizontal_connection", "inventory_levels/connect"),
    ("product/inventory_level_update", "inventory_levels/update"),
    ("product/product_status_changes", "products/status_changed"),
    ("product/sales_plan_group_creation", "sellingplan/create"),
    ("product/sales_plan_group_delete", "sellingplan/delete"),
    ("product/sales_plan_group_update", "sellingplan/update"),
    ("product/update_a_company_location_catalog", "company/update"),
    ("product/update_inventory_object", "inventory_items/update"),
    ("product/update_product", "products/update"),
    ("product/update_published_status_of_products_in_the_catalog", "company/status_changed"),
    ("product/update_taxonomy", "taxonomy_collection/update"),
    ("product/update_the_variant_pricing_rules_in_the_catalog", "company/action"),
    ("saleschannels/a_product_is_removed_from_the_sales_channel", "product_listings/remove"),
    ("saleschannels/add_product_collection_to_sales_channels", "collection_listings/add"),
    ("saleschannels/add_product_to_sales_channels", "product_listings/add"),
    ("saleschannels/changes_in_product_collection_in_sales_channels", "collection_listings/update"),
    ("saleschannels/product_collection_sold_channels_removed", "collection_listings/remove"),
    ("saleschannels/sales_channels_product_update", "product_listings/update"),
    ("store/store_data_delete_gdpr_specification", "merchants/redact"),
    ("store/store_package_status_changed_to_be_deprecated", "subscription/challenged"),
    ("store/store_plan_status_changed", "subscription/status_changed"),
    ("store/store_updated", "merchants/update"),
    ("transactions/cart_created", "carts/create"),
    ("transactions/cart_updated", "carts/update"),
    ("transactions/checkout_created", "checkouts/create"),
    ("transactions/checkout_updated", "checkouts/update"),
    ("transactions/company_credit_line_update", "company_credit/update"),
    ("transactions/create_checkout_payments", "checkout_payment/create"),
    ("transactions/location_created", "logistics/create"),
    ("transactions/location_delete", "logistics/delete"),
    ("transactions/location_update", "logistics/update"),
    ("transactions/return_create", "return/create"),
    ("transactions/return_order_create", "return_package/create"),
    ("transactions/return_order_update", "return_package/update"),
    ("transactions/return_update", "return/update"),
    ("transactions/update_checkout_payments", "checkout_payment/update"),
)
# webhook/v20251201/customers/customer_registered_login.go, absent from v20260301.
SDK_V20251201_ONLY = (("customers/customer_registered_login", "customers/action"),)


def test_catalog_counts_pin_the_sdk_lists() -> None:
    assert len(SDK_V20260301) == len({path for path, _ in SDK_V20260301}) == 126
    assert len(topics_for("v20260301")) == 126
    assert len(topics_for("v20251201")) == 127
    assert topics_for("v20251201") == TOPICS


def test_catalog_equals_the_sdk_topics_per_version() -> None:
    v20260301 = {topic for _, topic in SDK_V20260301}
    assert topics_for("v20260301") == v20260301
    assert topics_for("v20251201") == v20260301 | {topic for _, topic in SDK_V20251201_ONLY}


@pytest.mark.parametrize(
    ("version", "list_of"),
    [
        ("v20240601", "v20251201"),  # older than any SDK list: the oldest published one
        ("v20250901", "v20251201"),
        ("v20251201", "v20251201"),
        ("v20260301", "v20260301"),
        ("v20260601", "v20260301"),  # newer than any SDK list: the newest published one
        ("v20270301", "v20260301"),
    ],
)
def test_versions_without_an_sdk_list_use_the_nearest_one(version: str, list_of: str) -> None:
    assert topics_for(version) == topics_for(list_of)


def test_prose_spelling_points_at_the_delivered_topic() -> None:
    assert unknown_topic_reason("orders/updated", "v20260301") is None
    for version in ("v20251201", "v20260301", None):
        reason = unknown_topic_reason("orders/update", version)
        assert reason is not None and "did you mean 'orders/updated'" in reason
    assert "did you mean 'orders/create'" in (unknown_topic_reason("orders/creat", None) or "")
    assert unknown_topic_reason("customers/action", "v20251201") is None
    assert unknown_topic_reason("customers/action", "v20260301") is not None
