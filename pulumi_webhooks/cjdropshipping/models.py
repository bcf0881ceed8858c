"""CJdropshipping's wire shapes: the ``data`` of the token and ``setting/get`` answers, one pydantic
model each (the ``callback`` block is parsed tolerantly by ``api.parse_callback``).

Loaded while the run's first request is on the wire (``_core/http.py``), not when ``api`` is imported.
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from pydantic import BeforeValidator, ConfigDict, Field

# A Long on the wire; kept as text because it is the HMAC key CJ signs deliveries with.
OpenId = Annotated[str | None, BeforeValidator(lambda value: None if value is None else str(value))]


class TokenGrant(pydantic.BaseModel):
    """``data`` of getAccessToken and refreshAccessToken (refresh answers without ``openId``)."""

    model_config = ConfigDict(extra="ignore")

    # repr=False: the tokens and the openId (the delivery signing key) never show in a repr.
    open_id: OpenId = Field(None, alias="openId", repr=False)
    access_token: str = Field(alias="accessToken", min_length=1, repr=False)
    access_token_expiry: str | None = Field(None, alias="accessTokenExpiryDate")
    refresh_token: str | None = Field(None, alias="refreshToken", repr=False)
    refresh_token_expiry: str | None = Field(None, alias="refreshTokenExpiryDate")


class TokenEnvelope(pydantic.BaseModel):
    data: TokenGrant


class AccountSettings(pydantic.BaseModel):
    """``data`` of ``GET /setting/get``: only what we use; the ``callback`` block is parsed tolerantly."""

    model_config = ConfigDict(extra="ignore")

    open_id: OpenId = Field(None, alias="openId", repr=False)  # the delivery signing key
    setting: dict[str, Any] | None = None
    callback: Any = None


class SettingsEnvelope(pydantic.BaseModel):
    data: AccountSettings
