"""The client's address and scheme behind a reverse proxy (``server.trustedProxies``).

Behind a proxy every connection comes from the proxy, so address rules and the login
throttle would see one client, and a proxy that terminates TLS makes every request
look like plain HTTP. A proxy says who its client was in ``X-Forwarded-For`` (each
proxy appends the address it got the request from) and how it was reached in
``X-Forwarded-Proto``. Anyone can send those headers, so they count only when the
connection comes from a configured proxy, and the client is the right-most address
in the chain that is not a trusted proxy: addresses further left were written by
the client itself. From any other peer the headers are ignored.

The result replaces the ASGI scope's ``client`` and ``scheme``, so every later step
(address rules, throttling, the session cookie's ``Secure`` flag) sees the real ones.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from homegallery.config import rule_networks

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_MAX_HOPS = 32  # addresses read from the right of X-Forwarded-For; more is not a real chain


def parse_address(text: str) -> Address | None:
    """An IP address, also written ``1.2.3.4:80`` or ``[::1]:80``; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, values: Sequence[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            network for value in values for network in rule_networks(value)
        )

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(
            address.version == network.version and address in network for network in self.networks
        )

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client's address: the peer unless it is a trusted proxy, else the
        right-most entry of ``X-Forwarded-For`` that is not one (or the left-most
        when every entry is one)."""
        if not self.trusts(parse_address(peer)):
            return peer
        chain = [item.strip() for value in forwarded_for for item in value.split(",")]
        chain = [item for item in chain if item][-_MAX_HOPS:]
        for item in reversed(chain):
            address = parse_address(item)
            if not self.trusts(address):
                return str(address) if address is not None else item[:100]
        return str(parse_address(chain[0])) if chain else peer

    def scheme(self, peer: str, scheme: str, forwarded_proto: Sequence[str]) -> str:
        """``https`` when a trusted proxy says it was reached over HTTPS (its own value,
        the right-most), else the connection's own scheme."""
        if not forwarded_proto or not self.trusts(parse_address(peer)):
            return scheme
        said = forwarded_proto[-1].split(",")[-1].strip().lower()
        return said if said in ("http", "https") else scheme


class ProxyHeaders:
    """ASGI middleware: the scope's client and scheme as a trusted proxy reports them."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == ScopeType.HTTP and self.proxies and client:
            peer = str(client[0])
            forwarded_for: list[str] = []
            forwarded_proto: list[str] = []
            for key, value in scope["headers"]:
                name = key.lower()
                if name == b"x-forwarded-for":
                    forwarded_for.append(value.decode("latin-1"))
                elif name == b"x-forwarded-proto":
                    forwarded_proto.append(value.decode("latin-1"))
            address = self.proxies.client(peer, forwarded_for)
            if address != peer:
                scope["client"] = (address, 0)
            scope["scheme"] = self.proxies.scheme(peer, scope["scheme"], forwarded_proto)
        await self.app(scope, receive, send)
