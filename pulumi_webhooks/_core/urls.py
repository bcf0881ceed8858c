"""Rules for URLs: callback addresses the platforms deliver to, and the API base URLs we call.

A callback must be ``https://`` on a public host: the platforms reject (or silently never deliver to)
localhost, loopback, private, link-local and reserved addresses, so we say so at preview time instead.

The host is judged in the form a client resolves, not as written: it is normalised with IDNA 2008 /
UTS 46 first (``localhost`` in full-width letters is ``localhost``, ``127。0。0。1`` is ``127.0.0.1``),
``xn--`` labels are decoded and must be valid IDNA 2008, the legacy IPv4 spellings resolvers accept
(``2130706433``, ``0x7f.1``, ``127.1``, octal) are read as addresses, and an IPv6 address that embeds an
IPv4 one (mapped, translated, compatible, NAT64, 6to4, Teredo) is judged by both. Addresses are judged
by the ``ipaddress`` properties (not a list of ranges). Control, invisible, bidirectional and space
characters are refused anywhere in the URL. What no rule can see: a public name whose DNS answer is a
private address (no DNS is asked at preview).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

import idna

from pulumi_webhooks._core.redact import excerpt

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that can never be reached from the platforms' side.
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "broadcasthost"}
_LOCAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".lan",
    ".home",
    ".home.arpa",
    ".invalid",
    ".test",
    ".corp",
    ".onion",
    ".alt",
    ".arpa",
)
_IPV4_LEGACY_CHARS = set("0123456789abcdefx.")
# Unicode categories refused anywhere in a URL: controls (C0, C1 with U+0085), format characters (bidi
# overrides such as U+202E, zero-width spaces and joiners, the BOM, soft hyphens), line and paragraph
# separators, and every space (U+0020, no-break U+00A0, ideographic U+3000 ...).
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
# The ASCII characters of those categories (C0 controls, the space, DEL), and the backslash: an ASCII URL
# without any of them holds no refused character, which spares the per-character lookup.
_REFUSED_ASCII = re.compile(r"[\x00-\x20\x7f\\]")
# NAT64 prefixes (RFC 6052, RFC 8215): the well-known one embeds the IPv4 address in its last 32 bits;
# the local-use one is never public, whatever it embeds.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 (SIIT)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291, deprecated


def _refused_character(url: str) -> tuple[int, str] | None:
    """The first character no URL may hold (position from 1, and its name), if any."""
    if url.isascii() and _REFUSED_ASCII.search(url) is None:
        return None
    for position, char in enumerate(url, 1):
        if unicodedata.category(char) in _REFUSED_CATEGORIES or char == "\\":
            return position, f"U+{ord(char):04X}" + (
                f" {unicodedata.name(char)}" if unicodedata.name(char, "") else ""
            )
    return None


def _parse_ip(host: str) -> IPAddress | None:
    """The address a host literal denotes, including the legacy IPv4 forms resolvers still accept
    (``2130706433``, ``0x7f.1``, ``127.1``, ``0177.0.0.1``)."""
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


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-translated, IPv4-compatible,
    NAT64 (64:ff9b::/96), 6to4 (2002::/16) and both ends of a Teredo address."""
    found: list[ipaddress.IPv4Address] = []
    last32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in _IPV4_TRANSLATED or address in _NAT64:
        found.append(last32)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        found.append(last32)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def is_public_address(address: IPAddress) -> bool:
    """Whether the platforms can reach ``address``: globally routable by every ``ipaddress`` property,
    and so is every IPv4 address it embeds."""
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    ):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local or address in _NAT64_LOCAL:
            return False
        return all(is_public_address(inner) for inner in embedded_ipv4(address))
    return True


def _described(address: IPAddress) -> str:
    inner = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    return f"{address} (which embeds {', '.join(map(str, inner))})" if inner else str(address)


def normalise_host(host: str) -> str:
    """The host as a client resolves it: UTS 46 mapping (case, full-width forms, ideographic full
    stops), then IDNA 2008 A-labels; ``xn--`` labels must decode to valid IDNA 2008. Raises
    ``ValueError`` for a host no client could resolve."""
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError) as error:
        raise ValueError(str(error)) from None
    labels = mapped.split(".")
    if labels and labels[-1] == "":  # one trailing dot: the absolute form of the same name
        labels.pop()
    ascii_labels: list[str] = []
    for label in labels:
        if not label:
            raise ValueError("empty label")
        try:
            if label.isascii() and not label.startswith("xn--"):
                ascii_labels.append(label)
                continue
            unicode_label = idna.decode(label) if label.startswith("xn--") else label
            if unicode_label.isascii():
                raise ValueError(f"the label {label} is not a valid internationalised name")
            ascii_labels.append(idna.alabel(unicode_label).decode("ascii"))
        except (idna.IDNAError, UnicodeError) as error:
            raise ValueError(str(error)) from None
    return ".".join(ascii_labels)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses: the only hosts plain http is allowed to."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _parse_ip(host)
    return address is not None and address.is_loopback


def callback_url_problem(url: str, *, max_length: int | None = None) -> str | None:
    """Why ``url`` cannot be a webhook callback address, or None when it can. The URL itself is never
    quoted in full (a host at most, as a short excerpt)."""
    if not url.strip():
        return "must not be empty"
    refused = _refused_character(url)
    if refused is not None:
        position, name = refused
        return (
            "must not contain spaces, backslashes, control, invisible or bidirectional characters "
            f"(character {position} is {name})"
        )
    if max_length is not None and len(url) > max_length:
        return f"must be at most {max_length} characters (got {len(url)})"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL (its host or port cannot be read)"
    del port
    if parts.scheme.lower() != "https":
        shown = excerpt(parts.scheme, 16) if parts.scheme else "no scheme"
        return f"must be an https:// URL (got {shown}); the platforms deliver only over HTTPS"
    if parts.username is not None or parts.password is not None:
        return "must not contain user info (user@host); put credentials in a signing secret instead"
    if parts.fragment or url.endswith("#"):
        return "must not contain a #fragment; it is never sent to the receiver"
    host = parts.hostname or ""
    if not host:
        return "must name a host"
    bracketed = "[" in parts.netloc
    if "%" in host and not bracketed:
        return f"has a percent-encoded host name {excerpt(host)}; write the host as it is"
    return _host_problem(host, bracketed=bracketed)


@functools.lru_cache(maxsize=256)  # a stack's callbacks share a few hosts; check redacts what it shows
def _host_problem(host: str, *, bracketed: bool) -> str | None:
    not_public = (
        "must point to a public host; {} is a loopback, private, link-local or reserved address the "
        "platform cannot reach (use a public HTTPS tunnel for local receivers)"
    )
    if bracketed:  # an IPv6 literal; a zone id (fe80::1%eth0) names a link-local interface
        address = _parse_ip(host)
        if "%" in host:
            return f"has an IPv6 zone id in {excerpt(host)}: it names a link-local interface of this machine"
        if address is None:
            return f"has an invalid IPv6 address {excerpt(host)}"
        return None if is_public_address(address) else not_public.format(_described(address))
    try:
        ascii_host = normalise_host(host)
    except ValueError:
        return f"has an invalid host name {excerpt(host)} (not valid IDNA 2008)"
    address = _parse_ip(ascii_host)
    if address is not None:
        return None if is_public_address(address) else not_public.format(address)
    shown = excerpt(ascii_host) if ascii_host == host.rstrip(".") else f"{excerpt(host)} ({ascii_host})"
    if ascii_host in _LOCAL_NAMES or ascii_host.endswith(_LOCAL_SUFFIXES):
        return (
            f"must point to a public host; {shown} is local to your network "
            "(use a public HTTPS tunnel for local receivers)"
        )
    labels = ascii_host.split(".")
    if len(labels) < 2:
        return f"must point to a public host name with a domain (got {shown})"
    if not all(_is_hostname_label(label) for label in labels):
        return f"has an invalid host name {shown}"
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        return f"has an invalid host name {shown} (numeric top-level domain)"
    return None


def _is_hostname_label(label: str) -> bool:
    """An ASCII label (IDNs are A-labels by now): letters, digits, hyphens and underscores."""
    if not 0 < len(label) <= 63 or label.startswith("-") or label.endswith("-"):
        return False
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in label)


@functools.lru_cache(maxsize=64)  # asked at every check and every client built: one per base URL suffices
def api_base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an API base URL: https, or http to a loopback host (the sandbox)."""
    if _refused_character(url) is not None:
        return "must not contain spaces, backslashes, control or invisible characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL (its host cannot be read)"
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
