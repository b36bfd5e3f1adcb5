"""Which address phones should open: a first run on a real room's network.

``attune serve`` binds 127.0.0.1 by default, which no phone can reach, and a console opened at
``http://127.0.0.1:8000`` draws a QR code of that same address. So on start the server says
where phones join: the machine's LAN address when it listens on every interface, or how to
listen so when it does not.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def lan_address() -> str | None:
    """This machine's address on its local network: the source address the system would use to
    reach a public address (a UDP "connect" sends no packet), or None without a network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere for real
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if is_loopback(address) or address == "0.0.0.0" else address


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def startup_lines(host: str, port: int,
                  find_lan: Callable[[], str | None] = lan_address) -> list[str]:
    """What ``attune serve`` prints about where the console and the phones go."""
    every = host in ("0.0.0.0", "::", "")
    lan = find_lan() if every or is_loopback(host) else None
    shown = lan if every and lan else ("127.0.0.1" if every else host)
    where = f"http://{_bracket(shown)}:{port}"
    lines = [f"Console:  {where}/console/"]
    if is_loopback(host):
        lines.append(f"Phones cannot reach {host}: it is this machine only. To let a room join, "
                     f"run attune serve --host 0.0.0.0 (phones then open "
                     f"http://{_bracket(lan) if lan else 'THIS-MACHINE-ADDRESS'}:{port}/join).")
    elif every and not lan:
        lines.append(f"Phones join at http://THIS-MACHINE-ADDRESS:{port}/join (no network "
                     "found: connect this machine to the room's Wi-Fi).")
    else:
        lines.append(f"Phones join at {where}/join (open the console at this address too, so "
                     "its QR code points there).")
    return lines


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
