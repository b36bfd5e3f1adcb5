"""Live controls over a real server, on every backend: the join code over the projector."""

from __future__ import annotations

from attune.client import Client, Refusal
from attune.core import protocol as p
from tests.support.servers import Running


async def test_show_join_reaches_every_projector_and_outlives_steps(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    screen = await server.screen(created)
    await host.send(p.ShowJoin(ref="early"))
    assert (await host.expect(p.Error)).code == "not-started"
    await host.command(p.Start())
    await host.command(p.ShowJoin())
    await screen.expect(p.JoinEvent, lambda e: e.shown)
    await host.command(p.Next())
    await screen.expect(p.StepEvent)
    late = await Client.screen(created.code, base=server.base)
    assert late.welcome is not None and late.welcome.snapshot is not None
    assert late.welcome.snapshot.join_shown, "a projector opened later shows it too"
    await host.command(p.ShowJoin(shown=False))
    await late.expect(p.JoinEvent, lambda e: not e.shown)
    phone = await server.participant(created)
    await phone.send(p.ShowJoin())
    try:
        await phone.expect(p.Pong)
    except Refusal as refusal:
        assert refusal.error.code == "forbidden"
    for client in (host, screen, late, phone):
        await client.close()
