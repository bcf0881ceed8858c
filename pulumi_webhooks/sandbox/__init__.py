"""Local emulator of the platforms' webhook APIs (`pulumi-webhooks sandbox`, `python -m ...sandbox`).

Standard library and pydantic only. See `_core.Sandbox` for the admin API under `/_sandbox/` and
`_registry.PLATFORMS` for the mounted platforms.
"""

from ._core import (
    Headers,
    Platform,
    Reject,
    Sandbox,
    SandboxRequest,
    SandboxResponse,
    Settings,
    empty_response,
    json_response,
)
from ._main import main
from ._registry import PLATFORMS, default_platforms
from ._server import RunningSandbox, SandboxServer, serve, start_sandbox

__all__ = [
    "PLATFORMS",
    "Headers",
    "Platform",
    "Reject",
    "RunningSandbox",
    "Sandbox",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxServer",
    "Settings",
    "default_platforms",
    "empty_response",
    "json_response",
    "main",
    "serve",
    "start_sandbox",
]
