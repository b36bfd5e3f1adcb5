"""Which proxies' ``X-Forwarded-For`` is believed, and the client address it names.

Behind a reverse proxy every phone arrives from the proxy's address, so the per-address limits
(``attune.transport.limits``) would count the whole room as one client. The proxy says who the
client is in ``X-Forwarded-For``; a header anyone can send is only believed from the addresses
the operator trusts: uvicorn's ``forwarded_allow_ips`` (``--forwarded-allow-ips``,
``FORWARDED_ALLOW_IPS``), so HTTP and ``/ws`` trust the same proxies. The rules are uvicorn's
(``uvicorn.middleware.proxy_headers``), written here rather than imported from its private
``_TrustedHosts``:

- an entry is an address (``10.0.0.1``, ``::1``), a network (``10.0.0.0/8``), ``*`` for any
  address, or any other string compared literally (a Unix socket's path);
- each proxy appends the address it heard from, so the client is the right-most entry that is not
  a trusted proxy; if every entry is trusted, the left-most.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The operator's list of trusted proxies, parsed once."""

    def __init__(self, entries: Iterable[str] | str) -> None:
        if isinstance(entries, str):
            entries = entries.split(",")
        items = [entry.strip() for entry in entries]
        self.everyone = "*" in items
        self.addresses: set[Address] = set()
        self.networks: list[Network] = []
        self.literals: set[str] = set()
        for item in items:
            try:
                if "/" in item:
                    self.networks.append(ipaddress.ip_network(item))
                else:
                    self.addresses.add(ipaddress.ip_address(item))
            except ValueError:
                self.literals.add(item)
        # One answer per peer address, cached: a room's phones come from a handful of proxies.
        self._trusts = lru_cache(maxsize=4096)(self._compute)

    def __contains__(self, host: str) -> bool:
        if self.everyone:
            return True
        if not host or len(host) > 253:  # longer than any DNS name: never trusted, never cached
            return False
        return self._trusts(host)

    def _compute(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self.literals
        return address in self.addresses or any(address in net for net in self.networks)

    def client(self, peer: str, forwarded: list[str]) -> str:
        """The client's address: ``peer`` unless it is a trusted proxy that forwarded a request,
        then what the ``X-Forwarded-For`` values (in header order) say."""
        if not forwarded or peer not in self:
            return peer
        hosts = [_host(item.strip()) for value in forwarded for item in value.split(",")]
        if not self.everyone:
            for host in reversed(hosts):
                if host not in self:
                    return host
        return hosts[0]


def _host(value: str) -> str:
    """``value`` without a port: ``[v6]:port`` and ``v4:port`` lose theirs; anything else (a bare
    IPv6 address, a malformed value) stays as it is, so nothing is normalised into trust."""
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1:]
        if end > 0 and (not rest or rest.startswith(":")):
            return value[1:end]
        return value
    if value.count(":") == 1:
        host, port = value.split(":")
        if port.isdigit():
            return host
    return value
