"""The headcount over a real server, on every backend: a view opened at any moment shows the
right "joined / connected" in its welcome, and pushes keep it right through leaves and refreshes.
"""

from __future__ import annotations

from attune.client import Client
from attune.core import protocol as p
from tests.support.servers import Running


def counts(welcome: p.Welcome) -> tuple[int | None, int | None]:
    return welcome.joined, welcome.connected


async def test_a_view_opened_late_starts_from_the_right_count(server: Running) -> None:
    created = await server.session()
    phones = [await server.participant(created) for _ in range(5)]
    host = await server.facilitator(created)
    screen = await server.screen(created)
    assert host.welcome is not None and screen.welcome is not None
    assert counts(host.welcome) == (5, 5)
    assert counts(screen.welcome) == (5, 5)
    # A second console opened when nothing changes: the count is in its welcome, not pushed.
    second = await server.facilitator(created)
    assert second.welcome is not None and counts(second.welcome) == (5, 5)
    for client in [*phones, host, screen, second]:
        await client.close()


async def test_participants_never_get_the_headcount(server: Running) -> None:
    created = await server.session()
    phone = await server.participant(created)
    assert phone.welcome is not None and counts(phone.welcome) == (None, None)
    await phone.close()


async def test_count_follows_leaves_and_refreshes(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phones = [await server.participant(created) for _ in range(3)]
    await host.expect(p.Presence, lambda m: (m.joined, m.connected) == (3, 3))
    await phones[0].send(p.Leave())
    await host.expect(p.Presence, lambda m: (m.joined, m.connected) == (2, 2))
    # A refresh: the same participant on a new socket; it is counted once throughout.
    await phones[1].resume()
    await phones[2].drop()
    await host.expect(p.Presence, lambda m: (m.joined, m.connected) == (2, 1))
    late = await server.screen(created)
    assert late.welcome is not None and counts(late.welcome) == (2, 1)
    await phones[2].resume()
    await host.expect(p.Presence, lambda m: (m.joined, m.connected) == (2, 2))
    await late.expect(p.Presence, lambda m: (m.joined, m.connected) == (2, 2))
    for client in [*phones[1:], host, late]:
        await client.close()


async def test_refreshed_console_gets_the_count_again(server: Running) -> None:
    created = await server.session()
    host = await server.facilitator(created)
    phones = [await server.participant(created) for _ in range(2)]
    await host.expect(p.Presence, lambda m: (m.joined, m.connected) == (2, 2))
    await host.close()
    again = Client(server.base)
    welcome = await again.join(p.Hello(role="facilitator", session=created.session,
                                       token=created.token))
    assert counts(welcome) == (2, 2)
    for client in [*phones, again]:
        await client.close()
