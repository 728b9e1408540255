"""Outbound connections to addresses parties choose (a payer's webhook): only to the public
internet, never to the authority's own network.

An address is refused if it is loopback, private, link-local, multicast, reserved or otherwise not
globally routable (``ipaddress``'s ``is_global``), or inside a network the operator lists as the
authority's own. A host name is resolved and checked when the connection is made, and the
connection goes to the address that was checked — so a name cannot resolve to a public address
when it is set and to an internal one when it is used (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpcore
import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddressError(ValueError):
    """The address is not on the public internet, or is one of the authority's own."""


def parse_networks(texts: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(t, strict=False) for t in texts]


def check_address(address: str, refused: Sequence[Network]) -> None:
    """Raise RefusedAddressError unless ``address`` (an IP address) is public and not the authority's."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise RefusedAddressError(f"{ip} is not a public internet address")
    for network in refused:
        if ip.version == network.version and ip in network:
            raise RefusedAddressError(f"{ip} is inside the authority's own network {network}")


def literal_address(host: str) -> str | None:
    """The host as an IP address if it is one (``[::1]`` included), else None."""
    bare = host.strip("[]")
    try:
        return str(ipaddress.ip_address(bare.split("%", 1)[0]))
    except ValueError:
        return None


def check_url(url: str, refused: Sequence[Network], *, resolve: bool = True) -> None:
    """Check a URL's host now: an IP literal directly; a name through DNS when it resolves (a name
    that does not resolve yet is checked again at every connection)."""
    host = urlsplit(url).hostname or ""
    literal = literal_address(host)
    if literal is not None:
        check_address(literal, refused)
        return
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        raise RefusedAddressError(f"{host} is this machine")
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return
    for info in infos:
        check_address(str(info[4][0]), refused)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, refuses non-public addresses, and connects to the checked one."""

    def __init__(self, refused: Sequence[Network]) -> None:
        self.refused = list(refused)
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
            addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        try:
            for address in addresses:
                check_address(address, self.refused)
        except RefusedAddressError as exc:
            raise httpcore.ConnectError(f"refused to connect to {host}: {exc}") from exc
        return await self.inner.connect_tcp(addresses[0], port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound address")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(refused: Sequence[Network], *, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport that connects only to public addresses outside ``refused`` (TLS still
    checks the certificate against the host name of the URL)."""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(refused),
    )
    return transport
