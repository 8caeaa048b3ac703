"""Where a webhook may go: public addresses only (no SSRF into our network).

The host is resolved when the delivery is made, every address it resolves to
must be public (not loopback, private, link-local, multicast, reserved or
shared), and the connection is made to that checked address, with the name
kept for the Host header, SNI and certificate check: a DNS answer changed
between the check and the connection (DNS rebinding) is never used.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true lifts the rule (tests, development).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL's host is not a public address (or does not resolve)."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    """A URL pinned to one checked address."""

    url: str  # with the address in place of the name
    host: str  # the name, for the Host header and SNI
    host_header: str


async def resolve(url: str, *, allow_private: bool) -> Target:
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise AddressRefused("no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AddressRefused(f"{host} does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise AddressRefused(f"{host} does not resolve")
    refused = [a for a in addresses if not is_public(a)]
    if refused and not allow_private:
        raise AddressRefused(f"{host} resolves to a non-public address ({refused[0]})")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    name = f"[{host}]" if ":" in host else host
    host_header = f"{name}:{parts.port}" if parts.port else name
    return Target(url=pinned, host=host, host_header=host_header)
