"""The one error tree every platform raises into.

Each error carries what a user needs to act on it: the platform, the operation, the HTTP status, the
platform's own code and message, and its request id. Messages are built once, here, and pass through
the redactor so that a token that slipped into a platform's answer never reaches the user.
"""

from __future__ import annotations

from typing import TypeVar

from pulumi_webhooks._core.redact import redact


class WebhookError(Exception):
    """Base of every error raised by pulumi-webhooks."""

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(WebhookError):
    """A setting is missing or malformed (stack config, environment or resource input)."""


class InputValidationError(WebhookError):
    """A resource input fails the platform's rules; raised before any call is made."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class OperationTimeoutError(WebhookError):
    """The operation's total deadline (retries included) ran out."""


class SignatureError(WebhookError):
    """A received webhook delivery failed its signature check (``pulumi_webhooks.verify``).

    The message names the platform and the reason (missing header, malformed value, mismatch, too old),
    never a header value or the secret.
    """

    def __init__(self, platform: str, reason: str) -> None:
        self.platform = platform
        self.reason = reason
        super().__init__(f"{platform} webhook signature rejected: {reason}")


class ApiError(WebhookError):
    """A platform answered with an error, or could not be reached."""

    def __init__(
        self,
        *,
        platform: str,
        operation: str,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.platform = platform
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        # Set by the HTTP client: True when a write may have reached the platform although no answer
        # arrived (lost response, 5xx); the provider must look before it writes again.
        self.may_have_committed = False
        # Set by a platform for an error that may be retried only so often (CJ: "busy" at most 3
        # times) or never (0); None leaves it to the client's attempt count.
        self.max_retries: int | None = None
        self.hint = hint
        self.attempts = 1
        self.elapsed: float | None = None
        self.out_of_time = False  # retries stopped because the operation deadline would pass
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"{self.platform} {self.operation} failed"]
        facts = []
        if self.status is not None:
            facts.append(f"HTTP {self.status}")
        if self.code:
            facts.append(f"code {self.code}")
        if self.request_id:
            facts.append(f"request id {self.request_id}")
        if self.attempts > 1 or self.out_of_time:
            tries = f"{self.attempts} attempt{'s' if self.attempts > 1 else ''}"
            facts.append(f"gave up after {tries} in {self.elapsed or 0:.1f} s")
        if self.out_of_time:
            facts.append(
                "out of time: the operation deadline pulumi-webhooks:operationTimeout / "
                "PULUMI_WEBHOOKS_OPERATION_TIMEOUT would pass before the next try"
            )
        if facts:
            parts.append(f" ({', '.join(facts)})")
        if self.detail:
            parts.append(f": {self.detail}")
        if self.hint:
            parts.append(f"{'' if parts[-1].endswith(('.', '!', '?')) else '.'} {self.hint}")
        return "".join(parts)

    def gave_up(self, attempts: int, elapsed: float, *, out_of_time: bool = False) -> None:
        """Record that retries were exhausted, or cut short by the operation deadline (the message then
        says so)."""
        self.attempts, self.elapsed, self.out_of_time = attempts, elapsed, out_of_time
        self.message = redact(self._render())
        self.args = (self.message,)


class AuthenticationError(ApiError):
    """The platform rejected the credentials (401/403 or the platform's own auth codes)."""


class NotFoundError(ApiError):
    """The subscription (or store, workspace) does not exist."""


class ConflictError(ApiError):
    """The platform already holds a subscription that collides with the declared one."""


class ApiValidationError(ApiError):
    """The platform rejected the request's content (400/422 or the platform's own codes)."""


class RateLimitedError(ApiError):
    """The platform throttled the request (429 or the platform's own code) after every retry."""


class ServerError(ApiError):
    """The platform failed (5xx) or answered with a body that could not be understood."""


class ConnectionError(ApiError):  # shadows the builtin on purpose: always used as errors.ConnectionError
    """The platform could not be reached, or the connection broke before an answer arrived."""


class TimeoutError(ConnectionError):  # shadows the builtin on purpose: always used as errors.ConnectionError
    """The platform did not answer within the request timeout."""


# Errors whose class says the platform refused the request, so nothing was written: also when a platform
# reports one inside a 2xx answer (UP42, CJ), where any other error may have committed a write.
REFUSED: tuple[type[ApiError], ...] = (
    AuthenticationError,
    ApiValidationError,
    NotFoundError,
    ConflictError,
    RateLimitedError,
)

Error = TypeVar("Error", bound=WebhookError)


def with_note(exc: Error, note: str) -> Error:
    """The error with a sentence added: what happened around the call that failed."""
    exc.message = redact(f"{exc.message.rstrip('.')}. {note[:1].upper()}{note[1:]}.")
    exc.args = (exc.message,)
    return exc


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


# Shown as ``pulumi_webhooks.errors.X`` in tracebacks and reprs: the public name, not the private module.
for _name in __all__:
    globals()[_name].__module__ = "pulumi_webhooks.errors"
