"""Outbound HTTP to user-supplied URLs (webhooks, sources), guarded against server-side
request forgery: a user's URL must not reach our own network.

`url_check` runs when a URL is registered (a URL that names or resolves to a forbidden
address is refused); `url_resolve` runs again before every request and returns the checked
addresses, which the caller then connects to directly (pinned), so a DNS answer that changes
between the check and the connection (rebinding) cannot slip a private address through.

`fetch` is a guarded GET for reading a page or file: every redirect hop is checked and
pinned again (at most MAX_REDIRECTS), the body is cut off past `max_bytes` while it
streams, and the whole exchange has a deadline.

OUTBOUND_ALLOW_PRIVATE_URLS (alias WEBHOOK_ALLOW_PRIVATE_URLS) lifts the address rules for
tests and self-hosted intranets; schemes, credentials and size limits stay checked.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3
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


class Unresolvable(UnsafeUrl):
    """The host name does not resolve (no network, or no such host)."""


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
        "only public addresses can be reached."
    )


def private_allowed() -> bool:
    """Whether the address rules are lifted (tests, self-hosted intranets)."""
    return bool(
        getattr(settings, "OUTBOUND_ALLOW_PRIVATE_URLS", False)
        or getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    )


def url_check(url: str) -> Target:
    """Registration-time check. A name that does not resolve (yet) is accepted: it is
    checked again, after resolution, at every delivery."""
    target = url_target(url)
    if private_allowed():
        return target
    literal = _literal(target.host)
    if literal is not None:
        if address_is_forbidden(literal):
            raise _refuse(literal, target.host)
        return target
    if _name_is_forbidden(target.host):
        raise UnsafeUrl(f"{target.host} is a local name; only public hosts can be reached.")
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
        if not private_allowed() and _name_is_forbidden(target.host):
            raise UnsafeUrl(f"{target.host} is a local name; only public hosts can be reached.")
        try:
            addresses = _resolve(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise Unresolvable(f"Cannot resolve {target.host}: {exc}") from None
        if not addresses:
            raise Unresolvable(f"Cannot resolve {target.host}")
    if not private_allowed():
        for ip in addresses:
            if address_is_forbidden(ip):
                raise _refuse(ip, target.host)
    return target, addresses


# --- Pinned connections and the guarded GET ------------------------------------------------

MAX_REDIRECTS = 5
USER_AGENT = "PodNex/1.0 (+https://podnex.app)"
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


def connection_pool(
    target: Target, ip: str, timeout: urllib3.Timeout
) -> urllib3.HTTPConnectionPool:
    """A one-connection pool to the checked address `ip`; Host, SNI and the certificate
    check still use the URL's host name."""
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            ip,
            target.port,
            timeout=timeout,
            maxsize=1,
            retries=False,
            server_hostname=target.host,  # SNI names the host, not the pinned address
            assert_hostname=target.host,  # and the certificate must be the host's
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(ip, target.port, timeout=timeout, maxsize=1, retries=False)


def host_header(target: Target) -> str:
    host = target.host if ":" not in target.host else f"[{target.host}]"
    default_port = 443 if target.scheme == "https" else 80
    return host if target.port == default_port else f"{host}:{target.port}"


class FetchError(Exception):
    """The URL could not be read; the message says why, in words a user can act on."""


class TooLarge(FetchError):
    pass


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str  # media type only, lower-case ("text/html"); "" when not sent
    charset: str | None
    body: bytes
    redirects: list[str] = field(default_factory=list)


def fetch(
    url: str, *, max_bytes: int, timeout: float, accept: str = "*/*", user_agent: str = USER_AGENT
) -> Fetched:
    """GET `url` within `timeout` seconds in all and at most `max_bytes` of (decoded) body.
    Raises FetchError (UnsafeUrl's reasons included) with a readable message."""
    deadline = time.monotonic() + timeout
    redirects: list[str] = []
    while True:
        try:
            target, addresses = url_resolve(url)
        except Unresolvable as exc:
            raise FetchError(
                f"Cannot reach the site: {exc} (is the network up, is the address right?)"
            ) from None
        except UnsafeUrl as exc:
            raise FetchError(f"Refused: {exc}") from None
        response, pool = _get_pinned(target, addresses, accept, user_agent, deadline)
        try:
            if response.status in _REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"HTTP {response.status} redirect without a Location")
                if len(redirects) >= MAX_REDIRECTS:
                    raise FetchError(f"Too many redirects (more than {MAX_REDIRECTS})")
                url = urljoin(url, location.strip())
                redirects.append(url)
                continue
            if response.status >= 400:
                raise FetchError(_status_message(response.status, response.reason))
            media_type, charset = _content_type(response.headers.get("Content-Type", ""))
            body = _read_capped(response, max_bytes, deadline)
            return Fetched(
                url=url,
                status=response.status,
                content_type=media_type,
                charset=charset,
                body=body,
                redirects=redirects,
            )
        finally:
            response.release_conn()
            pool.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("The site took too long to answer (time limit reached)")
    return left


class NoAddressConnected(Exception):
    """Every checked address refused the connection; `last` is the last refusal (None when
    there was no address to try)."""

    def __init__(self, last: Exception | None):
        super().__init__(str(last) if last else "no address to connect to")
        self.last = last


def urlopen_pinned(target: Target, addresses, method: str, timeout, **kwargs):
    """`method` to the first checked address that takes the connection, the host name kept
    for TLS and Host but never resolved again: (response, pool), the body unread. `timeout`
    is a urllib3 Timeout or a callable giving one per address. The pool is closed when the
    request fails; NoAddressConnected when no address connects; other urllib3 errors pass."""
    last: Exception | None = None
    for ip in addresses:
        pool = connection_pool(target, str(ip), timeout() if callable(timeout) else timeout)
        try:
            response = pool.urlopen(
                method,
                target.path,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
                **kwargs,
            )
        except urllib3.exceptions.NewConnectionError as exc:
            pool.close()
            last = exc
            continue  # try the next checked address
        except BaseException:
            pool.close()
            raise
        return response, pool
    raise NoAddressConnected(last)


def _get_pinned(target: Target, addresses, accept: str, user_agent: str, deadline: float):
    headers = {
        "Host": host_header(target),
        "User-Agent": user_agent,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
    }

    def timeout_left() -> urllib3.Timeout:
        left = _remaining(deadline)
        return urllib3.Timeout(connect=left, read=left)

    try:
        return urlopen_pinned(target, addresses, "GET", timeout_left, headers=headers)
    except NoAddressConnected as exc:
        if exc.last is None:
            raise FetchError(str(exc)) from None
        raise FetchError(f"Could not connect to {target.host}: {error_reason(exc.last)}") from None
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError):
        raise FetchError("The site took too long to answer (time limit reached)") from None
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"Could not read {target.host}: {error_reason(exc)}") from None


def _read_capped(response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"The file is larger than the {_size(max_bytes)} limit")
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            _remaining(deadline)
            # read1: what has arrived, so a server dripping bytes meets the deadline.
            chunk = response.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:  # counted after decompression: a gzip bomb stops here
                raise TooLarge(f"The file is larger than the {_size(max_bytes)} limit")
            chunks.append(chunk)
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError):
        raise FetchError("The site took too long to answer (time limit reached)") from None
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"The download broke off: {error_reason(exc)}") from None
    return b"".join(chunks)


def _content_type(header: str) -> tuple[str, str | None]:
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip().strip('"').lower()
    return media_type.strip().lower(), charset


def _status_message(status: int, reason: str | None) -> str:
    shown = f"HTTP {status}{f' {reason}' if reason else ''}"
    if status in (401, 402, 403, 451):
        return (
            f"The site refused access ({shown}): the page may need a login or a "
            "subscription (paywall)"
        )
    if status in (404, 410):
        return f"The page was not found ({shown})"
    if status == 429:
        return f"The site is limiting requests ({shown}); try again later"
    if status >= 500:
        return f"The site had an error ({shown}); try again later"
    return f"The site answered {shown}"


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n} bytes"


def error_reason(exc: Exception) -> str:
    """What went wrong, in at most 300 characters (urllib3 wraps the cause as `reason`)."""
    reason = getattr(exc, "reason", None) or exc
    return str(reason)[:300]
