"""Rules for URLs: callback addresses the platforms deliver to, and the API base URLs we call.

A callback must be ``https://`` on a public host: the platforms reject (or silently never deliver to)
localhost, loopback, private, link-local and reserved addresses, so we say so at preview time instead.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

# Names that can never be reached from the platforms' side.
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "broadcasthost"}
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".invalid", ".test", ".corp")
_IPV4_LEGACY_CHARS = set("0123456789abcdefx.")


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host literal denotes, including the legacy IPv4 forms resolvers still accept
    (``2130706433``, ``0x7f.1``, ``127.1``)."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and set(host) <= _IPV4_LEGACY_CHARS and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return _not_public(mapped)
    return not address.is_global or address.is_multicast


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses: the only hosts plain http is allowed to."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _parse_ip(host)
    return address is not None and address.is_loopback


def callback_url_problem(url: str, *, max_length: int | None = None) -> str | None:
    """Why ``url`` cannot be a webhook callback address, or None when it can."""
    if not url.strip():
        return "must not be empty"
    if url != url.strip() or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return "must not contain spaces or control characters"
    if max_length is not None and len(url) > max_length:
        return f"must be at most {max_length} characters (got {len(url)})"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"is not a valid URL ({error})"
    del port
    if parts.scheme.lower() != "https":
        shown = parts.scheme or "no scheme"
        return f"must be an https:// URL (got {shown}); the platforms deliver only over HTTPS"
    if parts.username is not None or parts.password is not None:
        return "must not contain user info (user@host); put credentials in a signing secret instead"
    if parts.fragment or url.endswith("#"):
        return "must not contain a #fragment; it is never sent to the receiver"
    host = (parts.hostname or "").lower()
    if not host:
        return "must name a host"
    bare = host.rstrip(".")
    address = _parse_ip(bare)
    if address is not None:
        if _not_public(address):
            return (
                f"must point to a public host; {bare} is a loopback, private, link-local or reserved "
                "address the platform cannot reach (use a public HTTPS tunnel for local receivers)"
            )
        return None
    if bare in _LOCAL_NAMES or bare.endswith(_LOCAL_SUFFIXES):
        return (
            f"must point to a public host; {bare} is local to your network "
            "(use a public HTTPS tunnel for local receivers)"
        )
    labels = bare.split(".")
    if len(labels) < 2 or not all(labels):
        return f"must point to a public host name with a domain (got {bare!r})"
    if not all(_is_hostname_label(label) for label in labels):
        return f"has an invalid host name {bare!r}"
    if labels[-1].isdigit():
        return f"has an invalid host name {bare!r} (numeric top-level domain)"
    return None


def _is_hostname_label(label: str) -> bool:
    if len(label) > 63 or label.startswith("-") or label.endswith("-"):
        return False
    return all(c.isalnum() or c in "-_" for c in label) or label.startswith("xn--")


def api_base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an API base URL: https, or http to a loopback host (the sandbox)."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if not parts.hostname:
        return "must be an absolute URL with a host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return None
    return "must be https:// (plain http:// is accepted only for loopback hosts such as the sandbox)"


def base_url_template_problem(placeholder: str) -> Callable[[str], str | None]:
    """The rule for a per-store base URL template: it names the store with ``placeholder`` and is an
    acceptable API base URL."""

    def problem(template: str) -> str | None:
        if placeholder not in template:
            return f"must contain {placeholder}"
        return api_base_url_problem(template)

    return problem
