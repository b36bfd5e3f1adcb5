"""A small async client for scripting, tests and benchmarks: facilitator, participant or screen.

It speaks the wire protocol with the same Structs as the server, remembers what a browser would
remember (epoch, last sequence number, resume token) and can resume after a drop::

    created = await create_session("http://127.0.0.1:8000", "mood-checkin")
    host = await Client.facilitator(created)
    phone = await Client.participant(created.code, base=created.base)
    await host.command(p.Start())
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from attune.core import protocol as p

T = TypeVar("T", bound=p.Message)


class Created(msgspec.Struct):
    session: str
    code: str
    token: str
    join_url: str
    facilitator_url: str
    screen_url: str
    base: str = ""


class Refusal(Exception):
    """The server answered with an ``error`` message."""

    def __init__(self, error: p.Error) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, body, {"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def create_session(
    base: str, scenario: str | None = None, *, language: str = "en",
    scenario_yaml: str | None = None, admin_key: str | None = None,
    moderation: bool | None = None, min_responses: int | None = None,
) -> Created:
    body: dict[str, Any] = {"language": language}
    if moderation is not None:
        body["moderation"] = moderation
    if min_responses is not None:
        body["min_responses"] = min_responses
    if scenario is not None:
        body["scenario"] = scenario
    if scenario_yaml is not None:
        body["scenario_yaml"] = scenario_yaml
    headers = {"authorization": f"Bearer {admin_key}"} if admin_key else {}
    status, raw = await asyncio.to_thread(
        _post, base.rstrip("/") + "/api/sessions", json.dumps(body).encode(), headers
    )
    if status != 201:
        raise RuntimeError(f"creating a session failed with HTTP {status}: {raw.decode()}")
    created = msgspec.json.decode(raw, type=Created)
    created.base = base.rstrip("/")
    return created


class Client:
    """One WebSocket connection in one role; messages are kept in arrival order."""

    def __init__(self, base: str, route: str | None = None) -> None:
        """``route``: the session's join code, sent as ``/ws?s=CODE`` as the web pages do, so a
        balancer that hashes on it puts every client of a session on one node."""
        self.ws_url = base.rstrip("/").replace("http", "ws", 1) + "/ws"
        if route:
            self.ws_url += "?" + urlencode({"s": route})
        self.ws: ClientConnection | None = None
        self.role: p.Role | None = None
        self.inbox: asyncio.Queue[p.ServerMessage | None] = asyncio.Queue()
        self.closed: int | None = None
        """The close code once the server closed the connection."""
        self.seen: list[p.ServerMessage] = []
        self.welcome: p.Welcome | None = None
        self.epoch: str | None = None
        self.seq = 0
        self.token: str | None = None
        self.hello: p.Hello | None = None
        self.results: p.Results | None = None
        self.step: p.AnyStepView | None = None
        self.clock_offset = 0.0
        self.gap: str | None = None
        """The first gap the reader saw in the events' sequence numbers; ``expect`` raises it."""
        self.group: p.GroupView | None = None
        """A participant's latest private group view."""
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def facilitator(cls, created: Created) -> Client:
        client = cls(created.base, created.code)
        await client.join(p.Hello(role="facilitator", session=created.session,
                                  token=created.token))
        return client

    @classmethod
    async def participant(cls, code: str, *, base: str) -> Client:
        client = cls(base, code)
        await client.join(p.Hello(role="participant", code=code))
        return client

    @classmethod
    async def screen(cls, code: str, *, base: str) -> Client:
        client = cls(base, code)
        await client.join(p.Hello(role="screen", code=code))
        return client

    async def open(self, **options: Any) -> None:
        self.ws = await connect(self.ws_url, max_size=2**20, compression=None, **options)
        self._reader = asyncio.create_task(self._read())

    async def join(self, hello: p.Hello) -> p.Welcome:
        """Connect and say hello; returns the welcome (raises Refusal on an error)."""
        await self.open()
        self.hello = hello
        self.role = hello.role
        try:
            await self.send(hello)
            welcome = await self.expect(p.Welcome)
        except BaseException:
            await self.close()
            raise
        self.welcome = welcome
        return welcome

    async def resume(self) -> p.Welcome:
        """Reconnect as the same client after a drop, asking for what was missed."""
        await self.drop()
        assert self.hello is not None and self.epoch is not None
        hello = msgspec.structs.replace(
            self.hello, resume=p.Resume(epoch=self.epoch, last_seq=self.seq, token=self.token)
        )
        return await self.join(hello)

    async def drop(self) -> None:
        """Close the socket abruptly, as a lost network would, keeping what a client remembers."""
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            self.ws.transport.abort()
            self.ws = None
        self.inbox = asyncio.Queue()
        self.closed = None

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def send(self, message: p.ClientMessage) -> None:
        assert self.ws is not None
        await self.ws.send(p.encoder.encode(message).decode())

    async def send_raw(self, data: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                await self._receive(p.server_decoder.decode(frame))
        except ConnectionClosed as closed:
            self.closed = closed.rcvd.code if closed.rcvd else 1006
        else:
            self.closed = self.ws.close_code if self.ws else 1000
        await self.inbox.put(None)

    async def _receive(self, message: p.ServerMessage) -> None:
        # State is taken here, in arrival order: the reader may already have applied the
        # events a replay welcome is followed by when ``join`` resumes.
        if isinstance(message, p.Welcome):
            self.epoch = message.epoch
            if not message.replay:  # with replay the missed events follow and advance seq
                self.seq = message.seq
            if message.token:
                self.token = message.token
            if message.snapshot is not None:
                self.step = message.snapshot.step
        if isinstance(message, p.StepEvent | p.ResponsesEvent | p.RevealEvent | p.EndedEvent
                      | p.GroupsEvent | p.ClockEvent | p.JoinEvent):
            if message.seq != self.seq + 1 and self.gap is None:
                # Kept, not raised: raised here it would end the reader unseen, and the test
                # would fail later as a vague timeout instead of saying what went wrong.
                self.gap = f"gap in events: had {self.seq}, got {message.seq}"
            self.seq = message.seq
        if isinstance(message, p.StepEvent):
            self.step = message.step
        if isinstance(message, p.Results):
            self.results = message
        if isinstance(message, p.GroupView):
            self.group = message
        self.seen.append(message)
        await self.inbox.put(message)

    async def expect(
        self, kind: type[T], where: Callable[[T], bool] = lambda m: True, timeout: float = 5
    ) -> T:
        """The next message of this type that matches, skipping others; raise on an error
        message while waiting for something else, and on a gap in the events."""
        deadline = time.monotonic() + timeout
        while True:
            if self.gap is not None:
                raise AssertionError(self.gap)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind.__name__} within {timeout}s")
            message = await asyncio.wait_for(self.inbox.get(), remaining)
            if self.gap is not None:
                raise AssertionError(self.gap)
            if message is None:
                await self.inbox.put(None)
                raise ConnectionError(f"closed ({self.closed}) awaiting {kind.__name__}")
            if isinstance(message, kind) and where(message):
                return message
            if isinstance(message, p.Error) and kind is not p.Error:
                raise Refusal(message)

    async def command(self, command: p.FacilitatorCommand) -> None:
        await self.send(command)

    async def answer(
        self, step: int, value: p.AnswerValue, guess: p.AnswerValue | None = None,
        submission: str | None = None,
    ) -> p.Ack:
        submission = submission or uuid.uuid4().hex
        await self.send(p.Answer(step=step, submission=submission, value=value, guess=guess))
        return await self.expect(p.Ack, lambda a: a.submission == submission)

    async def ready(self, step: int, ready: bool = True) -> p.GroupView:
        """Say "I'm ready" on a groups step; returns this participant's updated group view."""
        await self.send(p.Ready(step=step, ready=ready))
        return await self.expect(p.GroupView, lambda v: (v.status != "unready") == ready)

    async def tick(self, step: int, item: int, ticked: bool = True) -> p.GroupView:
        """Tick (or untick) an item of this round's role's checklist; returns the group view
        that shows it."""
        await self.send(p.Tick(step=step, item=item, ticked=ticked))
        return await self.expect(p.GroupView, lambda v: (item in v.ticked) == ticked)

    async def skip(self, step: int) -> p.Ack:
        submission = uuid.uuid4().hex
        await self.send(p.Pass(step=step, submission=submission))
        return await self.expect(p.Ack, lambda a: a.submission == submission)

    async def sync_clock(self, rounds: int = 5) -> float:
        """Estimate server clock minus local clock (ms) from the fastest ping round trip."""
        best: tuple[float, float] | None = None
        for _ in range(rounds):
            sent = time.time() * 1000
            await self.send(p.Ping(t=sent))
            pong = await self.expect(p.Pong)
            received = time.time() * 1000
            rtt = received - sent
            if best is None or rtt < best[0]:
                best = (rtt, pong.server - (sent + rtt / 2))
        assert best is not None
        self.clock_offset = best[1]
        return self.clock_offset
