"""The outbox's rules with no socket and no event loop: what is written when, what waits, what is
replaced and when a client is given up on (``attune.transport.outbox``)."""

from __future__ import annotations

from attune.core import protocol as p
from attune.transport.outbox import MAX_QUEUED, Outbox, Outgoing, frame


def event(seq: int) -> Outgoing:
    return Outgoing(p.EndedEvent(seq=seq))


def state(seq: int) -> Outgoing:
    return Outgoing(p.Presence(seq=seq, joined=seq, connected=seq))


def opened(limit: int | None = None) -> Outbox:
    outbox = Outbox(limit)
    outbox.opened()
    return outbox


def seqs(messages: list[Outgoing]) -> list[int]:
    return [p.server_decoder.decode(m.frame[2:]).seq for m in messages]  # type: ignore[union-attr]


def test_frames_are_unmasked_final_text_frames_with_the_shortest_length() -> None:
    assert frame(b"hi") == b"\x81\x02hi"
    assert frame(b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert frame(b"x" * 65536)[:10] == b"\x81\x7f" + (65536).to_bytes(8, "big")
    assert Outgoing(p.EndedEvent(seq=3)).frame == frame(b'{"type":"ended","seq":3}')


def test_nothing_is_written_or_kept_before_the_handshake() -> None:
    outbox = Outbox()
    assert not outbox.ready
    assert outbox.queue(event(1))
    outbox.keep("presence", state(1))
    outbox.opened()
    assert outbox.ready and list(outbox.due()) == []


def test_an_open_socket_that_takes_data_is_written_at_once() -> None:
    outbox = opened()
    assert outbox.ready, "the fan-out fast path: write the shared frame now"


def test_a_paused_socket_keeps_events_in_order_and_only_the_latest_state() -> None:
    outbox = opened()
    outbox.pause()
    assert not outbox.ready
    for seq in (1, 2, 3):
        assert outbox.queue(event(seq))
        outbox.keep("presence", state(seq))
    outbox.keep("results", state(7))
    outbox.resume()
    written = list(outbox.due())
    assert seqs(written) == [1, 2, 3, 3, 7], "events in order, then each kind's newest state"
    assert outbox.ready and list(outbox.due()) == []


def test_writing_that_pauses_the_socket_stops_the_drain_where_it_was() -> None:
    outbox = opened()
    outbox.pause()
    for seq in (1, 2, 3):
        outbox.queue(event(seq))
    outbox.keep("presence", state(9))
    outbox.resume()
    written = []
    for message in outbox.due():
        written.append(message)
        if len(written) == 2:
            outbox.pause()  # asyncio calls pause_writing from inside transport.write
    assert seqs(written) == [1, 2] and not outbox.ready
    outbox.resume()
    assert seqs(list(outbox.due())) == [3, 9] and outbox.ready


def test_a_client_too_far_behind_is_given_up_on() -> None:
    outbox = opened(limit=3)
    outbox.pause()
    assert all(outbox.queue(event(seq)) for seq in (1, 2, 3))
    assert not outbox.queue(event(4)), "the fourth waiting event: drop the client"
    for _ in range(1000):
        outbox.keep("presence", state(1))  # states never grow the queue
    assert Outbox().limit == MAX_QUEUED


def test_closing_sends_what_is_queued_but_no_more_states_or_new_messages() -> None:
    outbox = opened()
    outbox.pause()
    outbox.queue(event(1))
    outbox.keep("presence", state(2))
    outbox.close()
    assert not outbox.ready
    assert outbox.queue(event(3)), "ignored, not a reason to drop"
    outbox.keep("results", state(4))
    outbox.resume()
    assert seqs(list(outbox.due())) == [1]
    assert not outbox.ready, "a closing socket is never written directly"


def test_a_hopeless_close_drops_everything() -> None:
    outbox = opened()
    outbox.pause()
    outbox.queue(event(1))
    outbox.close(hopeless=True)
    outbox.resume()
    assert list(outbox.due()) == []


def test_an_ended_socket_writes_nothing_more() -> None:
    outbox = opened()
    outbox.pause()
    outbox.queue(event(1))
    outbox.keep("presence", state(1))
    outbox.end()
    outbox.resume()
    assert list(outbox.due()) == [] and not outbox.ready
    assert outbox.queue(event(2)) and list(outbox.due()) == []
