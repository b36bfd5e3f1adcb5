"""The ``/ws`` endpoint: checks the handshake, decodes frames at the edge, hands them to the node.

Limits are set deliberately (see ``server.app.serve``): frames over 64 KiB close with 1009,
permessage-deflate is off (no compression bombs, no per-socket zlib memory), ping/pong keeps
connections honest. The ``Origin`` header is checked *before* accepting, because CORS does not cover
WebSocket handshakes and a foreign page could otherwise ride a facilitator's browser.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from server import protocol as p
from server.connection import Connection, Outgoing
from server.errors import (
    CLOSE_HELLO_TIMEOUT,
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TOO_SLOW,
    BackendUnavailable,
    Refused,
)
from server.limits import AddressLimits
from server.node import Node
from server.transport import SCOPE_KEY

RATE = 20.0
"""Messages per second a client may send on average; bursts up to ``BURST``."""
BURST = 40.0
STRIKES = 50
"""Messages refused for flooding before the connection is closed with 1008."""


def origin_allowed(websocket: WebSocket, allowed: list[str]) -> bool:
    """Same-origin pages, listed origins, and clients that send no Origin (not a browser)."""
    origin = websocket.headers.get("origin")
    if origin is None or origin in allowed or "*" in allowed:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


async def endpoint(websocket: WebSocket) -> None:
    node: Node = websocket.app.state.node
    metrics = node.metrics
    if not origin_allowed(websocket, node.settings.allowed_origins):
        metrics.closes.labels("403").inc()
        await websocket.close(code=CLOSE_POLICY)
        return
    limits: AddressLimits = websocket.app.state.limits
    address = websocket.client.host if websocket.client else ""
    if not limits.connect(address):
        metrics.closes.labels("429").inc()
        await websocket.close(code=CLOSE_POLICY)
        return
    try:
        await _serve(websocket, node, limits, address)
    finally:
        limits.disconnect(address)


async def _serve(websocket: WebSocket, node: Node, limits: AddressLimits, address: str) -> None:
    metrics = node.metrics
    await websocket.accept()

    async def close(code: int) -> None:
        metrics.closes.labels(str(code)).inc()
        await websocket.close(code)

    transport = websocket.scope.get("extensions", {}).get(SCOPE_KEY)
    conn = Connection(websocket.send_text, close, transport)
    tokens, last, strikes = BURST, time.monotonic(), 0

    def refuse(error: Refused, ref: str | None = None) -> None:
        metrics.errors.labels(error.code).inc()
        seq = 0
        replica = node.replicas.get(conn.session or "")
        if replica is not None:
            seq = replica.session.seq
        conn.send(Outgoing(
            p.Error(seq=seq, code=error.code, message=error.message, ref=ref)
        ))

    try:
        while conn.closing is None:
            timeout = node.settings.hello_timeout_s if conn.role is None else None
            try:
                frame = await asyncio.wait_for(websocket.receive(), timeout)
            except TimeoutError:
                conn.close(CLOSE_HELLO_TIMEOUT)
                break
            if frame["type"] == "websocket.disconnect":
                code = frame.get("code", 1000)
                if code == 1009:
                    metrics.closes.labels("1009").inc()
                break
            now = time.monotonic()
            tokens = min(BURST, tokens + (now - last) * RATE)
            last = now
            if tokens < 1:
                strikes += 1
                if strikes >= STRIKES:
                    conn.close(CLOSE_POLICY)
                    break
                refuse(Refused("rate-limited", "Too many messages; slow down."))
                continue
            tokens -= 1
            text = frame.get("text")
            try:
                if text is None:
                    raise msgspec.DecodeError("expected a JSON text frame, got binary")
                message = p.decode_client(text)
            except msgspec.DecodeError as exc:
                refuse(Refused("malformed", str(exc)))
                continue
            metrics.messages.labels(type(message).__struct_config__.tag).inc()
            try:
                if conn.role is None:
                    if not isinstance(message, p.Hello):
                        raise Refused("not-joined", "The first message must be hello.")
                    if not limits.may_join(address):
                        limits.join_failed(address)
                        refuse(Refused("rate-limited", "Too many failed joins; wait a minute."))
                        conn.close(CLOSE_POLICY)
                        break
                    try:
                        await node.hello(conn, message)
                    except Refused as error:
                        if error.code in ("unknown-session", "bad-token"):
                            limits.join_failed(address)
                        raise
                else:
                    await node.message(conn, message)
            except Refused as error:
                ref = getattr(message, "ref", None) or getattr(message, "submission", None)
                refuse(error, ref)
            except (BackendUnavailable, TimeoutError, OSError):
                refuse(Refused("unavailable", "The server's store is not reachable; retrying."))
    except WebSocketDisconnect:
        pass
    except asyncio.CancelledError:
        if conn.closing != CLOSE_TOO_SLOW:
            raise
        # We cancelled ourselves: returning lets the server drop the socket without waiting
        # for a buffer the client will not drain.
        asyncio.current_task().uncancel()  # type: ignore[union-attr]
        metrics.closes.labels(str(CLOSE_TOO_SLOW)).inc()
    except Exception:
        conn.close(CLOSE_INTERNAL)
        raise
    finally:
        node.detach(conn)
        if conn.closing is not None:
            await asyncio.wait([conn.writer], timeout=1)
        conn.writer.cancel()
