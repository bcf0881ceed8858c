"""The exceptions pulumi-webhooks raises; all derive from :class:`WebhookError`.

::

    WebhookError
    ├── ConfigurationError        missing or malformed setting (names the config key and variable)
    ├── InputValidationError      a resource input breaks the platform's rules (names the field)
    ├── OperationTimeoutError     the operation's total deadline ran out
    ├── SignatureError            a received delivery failed its signature check (pulumi_webhooks.verify)
    └── ApiError                  the platform answered with an error or could not be reached
        ├── AuthenticationError   401/403, rejected credentials
        ├── NotFoundError         404
        ├── ConflictError         a colliding subscription already exists
        ├── ApiValidationError    400/422, the platform rejected the content
        ├── RateLimitedError      429 after every retry
        ├── ServerError           5xx, or a body that could not be understood
        └── ConnectionError       unreachable, or the connection broke
            └── TimeoutError      no answer within the request timeout
"""

from pulumi_webhooks._core.errors import (
    ApiError,
    ApiValidationError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ConnectionError,
    InputValidationError,
    NotFoundError,
    OperationTimeoutError,
    RateLimitedError,
    ServerError,
    SignatureError,
    TimeoutError,
    WebhookError,
)

__all__ = [
    "ApiError",
    "ApiValidationError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionError",
    "InputValidationError",
    "NotFoundError",
    "OperationTimeoutError",
    "RateLimitedError",
    "ServerError",
    "SignatureError",
    "TimeoutError",
    "WebhookError",
]
