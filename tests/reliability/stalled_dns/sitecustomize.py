"""Put on a provider host's PYTHONPATH by the stalled-resolver test: Python imports ``sitecustomize`` at
start-up, and this one makes every name under ``.stalled-dns.test`` a lookup that a resolver never
answers (``getaddrinfo`` blocks for two minutes, as a resolver retrying an unreachable server does)."""

from __future__ import annotations

import socket
import time
from typing import Any

_getaddrinfo = socket.getaddrinfo


def _stalling(host: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, str) and host.endswith(".stalled-dns.test"):
        time.sleep(120)
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _stalling
