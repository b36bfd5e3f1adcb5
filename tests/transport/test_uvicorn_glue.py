"""What ``attune.transport.uvicorn_glue`` relies on in uvicorn, checked item by item, so an uvicorn
release that changes one fails here with its name rather than as a hung socket elsewhere; and the
trusted-proxy rules Attune owns (``attune.transport.proxies``)."""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import version
from typing import Any

import h11
import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from attune.app import create_app, uvicorn_config
from attune.client import Client, create_session
from attune.core import protocol as p
from attune.core.errors import CLOSE_GOING_AWAY
from attune.transport import uvicorn_glue
from attune.transport.proxies import TrustedProxies
from tests.support.servers import settings_for, start_server

CHANGED = (f"uvicorn {version('uvicorn')} changed what server/attune/transport/uvicorn_glue.py "
           "relies on (its docstring lists it); adapt that module:")


def _missing(what: str, obj: object, names: list[str]) -> list[str]:
    return [f"{what} has no {name!r}" for name in names if not hasattr(obj, name)]


def test_uvicorn_still_has_what_the_glue_uses() -> None:
    settings = settings_for()
    config = uvicorn.Config(create_app(settings), log_level="warning",
                            **uvicorn_config(settings))  # type: ignore[arg-type]
    config.load()
    problems = _missing("uvicorn.Config (loaded)", config, [
        "ws_max_size", "proxy_headers", "forwarded_allow_ips", "ws_protocol_class",
        "http_protocol_class"])
    if getattr(config, "http_protocol_class", None) is not uvicorn_glue.FirstBytes:
        problems.append("Config(http=FirstBytes) no longer makes it the http protocol class")
    if getattr(config, "ws_protocol_class", None) is not uvicorn_glue.websocket:
        problems.append("Config(ws=websocket) no longer makes it the ws protocol class")
    state = ServerState()
    if not isinstance(getattr(state, "connections", None), set):
        problems.append("ServerState.connections is no longer a set")
    try:
        h11_protocol = H11Protocol(config=config, server_state=state, app_state={},
                                   _loop=asyncio.new_event_loop())
    except TypeError as error:
        problems.append(f"H11Protocol(config=, server_state=, app_state=, _loop=): {error}")
    else:
        problems += _missing("H11Protocol", h11_protocol, [
            "loop", "cycle", "headers", "connections", "ws_protocol_class", "config",
            "server_state", "app_state", "connection_made", "connection_lost"])
        if getattr(h11_protocol, "cycle", True) is not None:
            problems.append("H11Protocol.cycle is no longer None before a request")
        if getattr(h11_protocol, "connections", None) is not state.connections:
            problems.append("H11Protocol.connections is no longer server_state.connections")
        h11_protocol.loop.close()
    hook = getattr(H11Protocol, "handle_websocket_upgrade", None)
    if hook is None or list(inspect.signature(hook).parameters) != ["self", "event"]:
        problems.append("H11Protocol.handle_websocket_upgrade(self, event) is gone or changed")
    startup = inspect.getsource(uvicorn.Server.startup)
    if "http_protocol_class(" not in startup or "app_state=" not in startup:
        problems.append("Server.startup no longer builds http_protocol_class(..., app_state=)")
    if ".shutdown()" not in inspect.getsource(uvicorn.Server.shutdown):
        problems.append("Server.shutdown no longer calls shutdown() on each connection")
    assert not problems, "\n- ".join([CHANGED, *problems])


async def test_uvicorn_builds_the_glues_protocols(monkeypatch: pytest.MonkeyPatch) -> None:
    """A silent socket is a ``FirstBytes``; an upgrade on another path reaches the h11 hook;
    stopping the server tells a WebSocket to come back (1001)."""
    upgrades: list[bytes] = []
    original = uvicorn_glue.GuardedH11Protocol.handle_websocket_upgrade

    def spy(self: uvicorn_glue.GuardedH11Protocol, event: h11.Request) -> None:
        upgrades.append(event.target)
        original(self, event)

    monkeypatch.setattr(uvicorn_glue.GuardedH11Protocol, "handle_websocket_upgrade", spy)
    settings = settings_for()
    uv, task, _app = await start_server(settings)
    base = f"http://127.0.0.1:{settings.port}"
    try:
        created = await create_session(base, "every-kind")
        screen = await Client.screen(created.code, base=base)
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.port)
        kinds: set[Any] = set()
        for _ in range(200):
            kinds = {type(c) for c in uv.server_state.connections}
            if uvicorn_glue.FirstBytes in kinds:
                break
            await asyncio.sleep(0.01)
        assert uvicorn_glue.FirstBytes in kinds, f"{CHANGED} no FirstBytes among {kinds}"
        writer.write(b"GET /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        response = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert response.startswith(b"HTTP/1.1 404"), response
        assert upgrades == [b"/elsewhere"], f"{CHANGED} h11 no longer calls the upgrade hook"
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)
    with pytest.raises(ConnectionError):
        await screen.expect(p.Pong)
    assert screen.closed == CLOSE_GOING_AWAY, f"{CHANGED} the socket's shutdown() was not called"


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "client"), [
    (["127.0.0.1"], "127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
    (["127.0.0.1"], "198.51.100.9", ["203.0.113.7"], "198.51.100.9"),  # not a trusted proxy
    (["127.0.0.1"], "127.0.0.1", [], "127.0.0.1"),
    # Each proxy appends: the right-most untrusted entry is the client, whatever came before.
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", ["6.6.6.6, 203.0.113.7, 10.1.2.3"], "203.0.113.7"),
    (["127.0.0.1"], "127.0.0.1", ["203.0.113.7", "198.51.100.1"], "198.51.100.1"),
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", ["10.0.0.2, 10.0.0.3"], "10.0.0.2"),  # all trusted
    ("*", "192.0.2.1", ["203.0.113.7, 198.51.100.1"], "203.0.113.7"),
    ("127.0.0.1, ::1", "::1", ["[2001:db8::1]:4711"], "2001:db8::1"),
    (["127.0.0.1"], "127.0.0.1", ["203.0.113.7:4711"], "203.0.113.7"),
    (["127.0.0.1"], "127.0.0.1", ["2001:db8::2"], "2001:db8::2"),
    (["/run/proxy.sock"], "/run/proxy.sock", ["203.0.113.7"], "203.0.113.7"),  # a literal
    ([], "127.0.0.1", ["203.0.113.7"], "127.0.0.1"),  # proxy headers off
])
def test_the_client_behind_trusted_proxies(
    trusted: list[str] | str, peer: str, forwarded: list[str], client: str
) -> None:
    assert TrustedProxies(trusted).client(peer, forwarded) == client
