"""Which IP addresses the service may connect to: public ones, and private ones only where listed.

A caller with a valid token names `fhirServer`; a token header names a `jku`. Even an allowlisted
host name can resolve to an internal address (a DNS change, a rebinding attack), so the check sits
where the connection is made: every address the name resolves to is checked, and the socket is
opened to the checked address, never to a second lookup. Loopback, private, link-local (which holds
the cloud metadata endpoint 169.254.169.254), shared (CGNAT), unique-local and reserved addresses are
refused unless they fall in `outbound_private_networks`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(httpcore.ConnectError):
    """The host resolves to an address the service does not contact; httpx keeps it as the cause."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def is_address_refused(error: BaseException) -> bool:
    """Whether an httpx error was raised because the host's address is not one to contact."""
    return isinstance(error.__cause__, AddressRefused) or isinstance(error.__context__, AddressRefused)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, private_networks: Iterable[IPNetwork]) -> None:
        self.private_networks = tuple(private_networks)
        self._inner = httpcore.AnyIOBackend()

    def permitted(self, address: IPAddress) -> bool:
        return is_public(address) or any(address in network for network in self.private_networks)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        refused = [address for address in addresses if not self.permitted(address)]
        if refused or not addresses:
            raise AddressRefused("the host resolves to an address that is not public and not listed")
        return await self._inner.connect_tcp(
            str(addresses[0]),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are never contacted")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    @staticmethod
    async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        try:
            async with asyncio.timeout(timeout):
                found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise httpcore.ConnectTimeout("resolving the host took too long") from None
        except OSError:
            raise httpcore.ConnectError("the host name does not resolve") from None
        return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over the guarded backend; httpx has no public hook for a network backend."""

    def __init__(self, private_networks: Iterable[IPNetwork], verify: ssl.SSLContext | bool = True) -> None:
        context = httpx.create_ssl_context(verify=verify, trust_env=False)  # once: loading CAs takes 50 ms
        super().__init__(verify=context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            network_backend=GuardedBackend(private_networks),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )
