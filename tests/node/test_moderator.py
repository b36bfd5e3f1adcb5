"""The moderator link over a real server, on every backend: its own token, shown once and
revocable; it moderates cards and moves through steps, and may not end or delete (typed errors).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from attune.client import Client, Created, Refusal, create_session
from attune.core import protocol as p
from attune.core.errors import CLOSE_REVOKED
from tests.support.servers import Running

TEXT = 4


def call(method: str, url: str, token: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, method=method,
                                     headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return response.status, json.loads(body) if body else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


async def moderator_link(
    created: Created, token: str | None = None,
) -> tuple[int, dict[str, object]]:
    return await asyncio.to_thread(call, "POST", f"{created.base}/api/sessions/"
                                   f"{created.session}/moderator", token or created.token)


async def join_as(created: Created, token: str) -> Client:
    client = Client(created.base)
    await client.join(p.Hello(role="facilitator", session=created.session, token=token))
    return client


async def closed_with(client: Client) -> int | None:
    """The close code the server closes ``client`` with (within 5 s)."""
    with pytest.raises(ConnectionError):
        await client.expect(p.Pong, timeout=5)
    return client.closed


async def test_a_moderator_moderates_and_advances_but_never_ends(server: Running) -> None:
    server.settings.min_responses = 1
    created = await create_session(server.base, "every-kind", moderation=True)
    status, link = await moderator_link(created)
    assert status == 201 and isinstance(link["token"], str)
    assert link["moderator_url"] == f"{created.base}/console/#{created.session}.{link['token']}"
    helper = await join_as(created, str(link["token"]))
    assert helper.welcome is not None and helper.welcome.moderator
    assert helper.welcome.snapshot is not None and helper.welcome.snapshot.outline, "sees the plan"
    host = await server.facilitator(created)
    assert host.welcome is not None and not host.welcome.moderator
    phone = await server.participant(created)
    await helper.command(p.Start())
    await helper.command(p.Goto(step=TEXT))
    await phone.expect(p.StepEvent, lambda e: e.step.index == TEXT)
    await phone.answer(TEXT, p.TextValue(text="Sam feels left out"))
    results = await helper.expect(p.Results, lambda r: isinstance(r.answers, p.TextAggregate))
    assert isinstance(results.answers, p.TextAggregate)
    await helper.command(p.ApproveCard(step=TEXT, card=results.answers.cards[0].id))
    await host.expect(p.Results, lambda r: isinstance(r.answers, p.TextAggregate)
                      and r.answers.held == 0)
    await helper.send(p.End(ref="stop"))
    refused = await helper.expect(p.Error)
    assert (refused.code, refused.ref) == ("not-for-moderators", "stop")
    # Over HTTP too: no delete, no export, no new moderator link with the moderator's token.
    base = f"{created.base}/api/sessions/{created.session}"
    for method, url in (("DELETE", base), ("GET", f"{base}/export"),
                        ("POST", f"{base}/moderator")):
        status, body = await asyncio.to_thread(call, method, url, str(link["token"]))
        assert (status, body.get("code")) == (403, "not-for-moderators"), (method, url)
    await host.command(p.End())
    await helper.expect(p.EndedEvent)
    for client in (helper, host, phone):
        await client.close()


async def test_revoking_closes_the_moderator_and_the_old_token_fails(server: Running) -> None:
    created = await create_session(server.base, "every-kind")
    _, first = await moderator_link(created)
    helper = await join_as(created, str(first["token"]))
    _, second = await moderator_link(created)  # a new link replaces the old one
    assert await closed_with(helper) == CLOSE_REVOKED
    with pytest.raises(Refusal, match="bad-token"):
        await join_as(created, str(first["token"]))
    again = await join_as(created, str(second["token"]))
    status, _ = await asyncio.to_thread(
        call, "DELETE", f"{created.base}/api/sessions/{created.session}/moderator", created.token)
    assert status == 204
    assert await closed_with(again) == CLOSE_REVOKED
    status, _ = await moderator_link(created, token="not-a-token")
    assert status == 403
