"""Serve :class:`WebhooksProvider` over gRPC the way the Pulumi CLI starts a plugin.

The CLI runs ``pulumi-resource-webhooks <engine address>`` and reads the port from the first line of
stdout. The SDK's own ``server.main`` does the same, but its servicer appends a Python stack to every
error message (``_raise_with_traceback``), which the engine would show as a multi-line error. This
servicer answers a failed request with one redacted line instead, keeping the stack for ``--debug``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from pulumi_webhooks._core import engine_log
from pulumi_webhooks._core.redact import get_logger
from pulumi_webhooks.plugin._provider import WebhooksProvider, one_line
from pulumi_webhooks.plugin._schema import VERSION

log = get_logger("pulumi_webhooks.plugin")

# The RPCs the SDK's servicer implements; each gets the one-line error answer.
RPCS = (
    "GetSchema",
    "CheckConfig",
    "DiffConfig",
    "Configure",
    "Check",
    "Diff",
    "Create",
    "Read",
    "Update",
    "Delete",
    "Invoke",
    "Parameterize",
    "Construct",
    "Call",
)

Handler = Callable[[Any, Any, Any], Awaitable[Any]]


def _original(exc: BaseException) -> BaseException:
    """The provider's own exception: the SDK re-raises it as ``Exception("<message>:\\n<stack>")``
    from inside its ``except`` block, so the original is that exception's context."""
    if type(exc) is Exception and exc.__context__ is not None:
        return exc.__context__
    return exc


def _one_line_errors(rpc: Handler, name: str) -> Handler:
    async def handler(self: Any, request: Any, context: Any) -> Any:
        try:
            return await rpc(self, request, context)
        except grpc.aio.AbortError:
            raise
        except NotImplementedError as exc:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, one_line(exc))
        except Exception as exc:
            original = _original(exc)
            log.debug("%s failed", name, exc_info=original)
            await context.abort(grpc.StatusCode.UNKNOWN, one_line(original))

    handler.__name__ = name
    return handler


class OneLineErrorServicer(ProviderServicer):
    """The SDK's servicer, answering every failure with one line."""


for _name in RPCS:
    setattr(OneLineErrorServicer, _name, _one_line_errors(getattr(ProviderServicer, _name), _name))


async def serve(engine_address: str, provider: WebhooksProvider, args: Sequence[str] = ()) -> None:
    """Listen on a free loopback port, print it (the CLI's handshake) and serve until terminated."""
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    servicer = OneLineErrorServicer(list(args), VERSION, provider, engine_address=engine_address)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


USAGE = "usage: pulumi-resource-webhooks ENGINE_ADDRESS   (started by the Pulumi CLI)"


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pulumi-resource-webhooks`` executable: ``pulumi-resource-webhooks <engine address>``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        print(USAGE)
        return 0
    address = engine_log.address_from_argv(args)
    if address is None:
        print(USAGE, file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):  # the CLI ends plugins with a signal
        asyncio.run(serve(address, WebhooksProvider(), args))
    return 0
