"""Plain HTTP to a test server: a GET that returns its status and body, and a counter read from
``/metrics``."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request

from tests.support.servers import Running


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def aget(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return await asyncio.to_thread(get, url, headers)


def metric(server: Running, name: str, label: str) -> float:
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(rf'^{name}_total{{[a-z]+="{re.escape(label)}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


