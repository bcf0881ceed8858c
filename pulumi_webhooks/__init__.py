"""Webhook subscriptions on CJdropshipping, SHOPLINE, UP42 and Shoplazza as Pulumi resources.

Import the platform you use (``import pulumi_webhooks.shopline as shopline``); this package's top level
stays small so that a program pays only for the platforms it imports.
"""

__version__ = "0.1.0"
