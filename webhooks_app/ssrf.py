"""Server-side request forgery guard: a user-supplied URL must not reach our own network.

`url_check` runs at registration (a URL that names or resolves to a forbidden address is
refused); `url_resolve` runs again at every delivery and returns the checked addresses, which
the transport then connects to directly (pinned), so a DNS answer that changes between the
check and the connection (rebinding) cannot slip a private address through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not covered by the `ipaddress` flags on every Python version, or worth naming anyway.
_EXTRA_FORBIDDEN = [
    ipaddress.ip_network("0.0.0.0/8"),  # "this network"; 0.0.0.0 reaches localhost on Linux
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT (shared address space)
    ipaddress.ip_network("169.254.0.0/16"),  # link-local, incl. cloud metadata 169.254.169.254
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("240.0.0.0/4"),  # reserved, incl. broadcast
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_FORBIDDEN_NAMES = ("localhost", "localhost.localdomain")
_FORBIDDEN_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")


class UnsafeUrl(ValueError):
    """The URL may not be called; the message says why, in words a user can act on."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (hostname or IP literal), lower-case, no brackets
    port: int
    path: str  # path + query, never empty


def address_is_forbidden(ip: IPAddress) -> bool:
    """True for loopback, private, link-local, multicast, reserved, unspecified and
    shared (CGNAT) addresses, including IPv4 addresses embedded in IPv6 forms."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and address_is_forbidden(embedded):
            return True
    if (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    ):
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return True
    return any(ip in net for net in _EXTRA_FORBIDDEN if net.version == ip.version)


def url_target(url: str) -> Target:
    """Parse and check what can be checked without the network: scheme, host, port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"Invalid URL: {exc}") from None
    if port is not None and not 1 <= port <= 65535:
        # urlsplit accepts port 0, which no server listens on (and which the default port
        # would silently replace below).
        raise UnsafeUrl("The URL's port must be between 1 and 65535.")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl("Only http and https URLs are accepted.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("Credentials in the URL are not supported.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(
        scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80), path=path
    )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _name_is_forbidden(host: str) -> bool:
    return host in _FORBIDDEN_NAMES or host.endswith(_FORBIDDEN_SUFFIXES)


def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    return seen


def _refuse(ip: IPAddress, host: str) -> UnsafeUrl:
    shown = str(ip) if str(ip) == host else f"{host} ({ip})"
    return UnsafeUrl(
        f"{shown} is a private, loopback, link-local, multicast or reserved address; "
        "webhooks must point to a public address."
    )


def url_check(url: str) -> Target:
    """Registration-time check. A name that does not resolve (yet) is accepted: it is
    checked again, after resolution, at every delivery."""
    target = url_target(url)
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return target
    literal = _literal(target.host)
    if literal is not None:
        if address_is_forbidden(literal):
            raise _refuse(literal, target.host)
        return target
    if _name_is_forbidden(target.host):
        raise UnsafeUrl(f"{target.host} is a local name; webhooks must point to a public host.")
    try:
        addresses = _resolve(target.host, target.port)
    except (OSError, UnicodeError):
        return target
    for ip in addresses:
        if address_is_forbidden(ip):
            raise _refuse(ip, target.host)
    return target


def url_resolve(url: str) -> tuple[Target, list[IPAddress]]:
    """Delivery-time check: resolve now and refuse if ANY address is forbidden. The caller
    must connect to one of the returned addresses, never resolve the name again."""
    target = url_target(url)
    literal = _literal(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        if not settings.WEBHOOK_ALLOW_PRIVATE_URLS and _name_is_forbidden(target.host):
            raise UnsafeUrl(f"{target.host} is a local name; webhooks must point to a public host.")
        try:
            addresses = _resolve(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeUrl(f"Cannot resolve {target.host}: {exc}") from None
        if not addresses:
            raise UnsafeUrl(f"Cannot resolve {target.host}")
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        for ip in addresses:
            if address_is_forbidden(ip):
                raise _refuse(ip, target.host)
    return target, addresses
