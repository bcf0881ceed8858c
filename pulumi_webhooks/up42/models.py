"""UP42's wire shapes: one pydantic model per shape its webhook, event-catalog and token endpoints
answer with, and the body of a webhook write.

Loaded while the run's first request is on the wire (``_core/http.py``), not when ``api`` is imported.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pulumi_webhooks._core.redact import register_secret


class Up42Webhook(BaseModel):
    """One webhook as UP42 returns it. The secret comes back in clear text (``""`` when none): it is
    registered with the redactor as soon as it is parsed and never shown by ``repr``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    url: str
    name: str
    events: list[str]
    active: bool = False
    secret: str | None = Field(default=None, repr=False)
    created_at: str | None = Field(default=None, alias="createdAt")
    updated_at: str | None = Field(default=None, alias="updatedAt")

    def model_post_init(self, _context: Any) -> None:
        register_secret(self.secret)


class WebhookEvent(BaseModel):
    """One entry of the event catalog (``GET /webhooks/events``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    title: str | None = None
    category: str | None = None
    description: str | None = None
    documentation: str | None = None


class WebhookTestResult(BaseModel):
    """The answer of ``POST /workspaces/{ws}/webhooks/{id}/tests``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    started_at: str | None = Field(default=None, alias="startedAt")
    tests_run: int = Field(alias="testsRun")
    tests_succeeded: int = Field(alias="testsSucceeded")
    tests_failed: int | None = Field(default=None, alias="testsFailed")  # missing in the SDK's fixture
    tests: list[Any] = Field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.tests_failed if self.tests_failed is not None else self.tests_run - self.tests_succeeded

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        return f"testsRun {self.tests_run}, testsSucceeded {self.tests_succeeded}, testsFailed {self.failed}"


class WebhookEnvelope(BaseModel):
    data: Up42Webhook


class WebhookListEnvelope(BaseModel):
    data: list[Up42Webhook]


class EventListEnvelope(BaseModel):
    data: list[WebhookEvent]


class TestResultEnvelope(BaseModel):
    __test__ = False  # not a pytest class

    data: WebhookTestResult


class WebhookWrite(BaseModel):
    """The body of a create or a full replacement (PUT). ``secret`` is an optional string in the
    reference (no null shown): without one it is left out, never sent as ``null``."""

    model_config = ConfigDict(extra="forbid")

    events: list[str]
    name: str
    url: str
    secret: str | None = Field(default=None, repr=False)
    # Ours defaults to True where UP42's defaults to false: a deliberate difference (docs/up42.md).
    active: bool = True

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class TokenAnswer(BaseModel):
    """The OpenID Connect token endpoint's answer (the fields we use)."""

    access_token: str = Field(min_length=1)
    expires_in: float = Field(default=300.0, gt=0)
