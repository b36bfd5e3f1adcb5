"""Every way Attune says no: the exception tree, the wire error codes and the close codes.

Exception tree::

    AttuneError
    ├── Refused            a client message that cannot be carried out; becomes an ``error``
    │                      message with one of ERROR_CODES, and the connection stays open
    ├── BackendUnavailable the shared backend did not answer in time; clients are told to retry
    └── SessionGone        the session was deleted or expired; its clients are closed with 4004

``ScenarioError`` (in ``attune.core.scenario``) is a ``ValueError``: a bad file is an input problem
for the person who wrote it, not a failure of the server.

The tables below are the single source for ``docs/protocol.md``; a test checks they agree.
"""

from __future__ import annotations

from typing import Final, Literal


class AttuneError(Exception):
    """Base of Attune's own exceptions."""


class Refused(AttuneError):
    """A message was understood but cannot be carried out; the sender is told ``code``."""

    def __init__(self, code: ErrorCode, message: str):
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code = code
        self.message = message


class BackendUnavailable(AttuneError):
    """The shared backend did not answer within its time bound."""


class SessionGone(AttuneError):
    """An append reached a session that no longer exists: deleted, or expired after its retention
    or inactivity period. Every backend raises it the same way (see ``attune.backends.base``)."""


ErrorCode = Literal[
    "malformed",
    "not-joined",
    "already-joined",
    "unknown-session",
    "bad-token",
    "bad-resume",
    "forbidden",
    "not-started",
    "session-ended",
    "no-such-step",
    "not-current-step",
    "not-answerable",
    "responses-closed",
    "invalid-answer",
    "no-such-card",
    "held-for-care",
    "not-approved",
    "not-for-moderators",
    "no-countdown",
    "not-groups-step",
    "too-few-ready",
    "groups-not-formed",
    "no-more-rounds",
    "groups-over",
    "not-in-group",
    "no-such-theme",
    "themes-unavailable",
    "rate-limited",
    "unavailable",
]
"""Every code an ``error`` message can carry; ``ERROR_CODES`` says what each means."""

ERROR_CODES: Final[dict[ErrorCode, str]] = {
    "malformed": "Not valid JSON, an unknown message type, or a field of the wrong type or size.",
    "not-joined": "The first message on a connection must be `hello`.",
    "already-joined": "A connection says `hello` once.",
    "unknown-session": "No open session has this code (wrong code and ended session alike), or "
    "the session id is unknown.",
    "bad-token": "The facilitator token does not match this session.",
    "bad-resume": "The resume token does not match a participant of this session; joined as new.",
    "forbidden": "This role may not send this message (a participant sending a facilitator "
    "command), or the command does not apply now (`start` twice).",
    "not-started": "The session has not started yet.",
    "session-ended": "The session has ended.",
    "no-such-step": "There is no step with this index (or no next / previous step).",
    "not-current-step": "Answers go to the current step only.",
    "not-answerable": "This step takes no answers (story, breathe, timer, reflect).",
    "responses-closed": "The facilitator has closed responses for this step.",
    "invalid-answer": "The value does not fit the step (kind, range, option, word or length).",
    "no-such-card": "No free-text card with this id on this step.",
    "held-for-care": "This card reads like someone in distress; it stays with the facilitator "
    "and is never shown to the room.",
    "not-approved": "Only a card the room may see can be spotlighted; approve it first.",
    "no-countdown": "Pause, resume and more time apply to a countdown, and none runs on this "
    "step.",
    "not-for-moderators": "A moderator link may moderate cards and move through the steps, but "
    "not end the session (nor delete it, over HTTP: 403).",
    "not-groups-step": "`ready`, `tick` and the `groups_*` commands apply only while a `groups` "
    "step is the current step.",
    "too-few-ready": "Forming groups needs at least two participants who said they are ready.",
    "groups-not-formed": "Form the groups before starting, pausing or rotating a round.",
    "no-more-rounds": "This was the last round of the step; end the groups instead.",
    "groups-over": "The groups of this step have ended; form them again to restart.",
    "not-in-group": "A checklist tick needs a place in a group of two or more, in a role whose "
    "checklist has this item.",
    "no-such-theme": "No theme with this id on this step (a regrouping replaced it), or the edit "
    "does not apply (merging a theme into itself).",
    "themes-unavailable": "Grouping into themes needs the `themes` extra on the server "
    "(`pip install 'attune-server[themes]'`) on the facilitator's node.",
    "rate-limited": "Too many messages; slow down (repeated flooding closes with 1008).",
    "unavailable": "The shared backend is not reachable; the client should retry shortly.",
}

# WebSocket close codes used by the server (RFC 6455 section 7.4; 4000-4999 are ours).
CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_POLICY: Final = 1008
CLOSE_TOO_BIG: Final = 1009
CLOSE_INTERNAL: Final = 1011
CLOSE_TRY_AGAIN: Final = 1013
CLOSE_HELLO_TIMEOUT: Final = 4001
CLOSE_REVOKED: Final = 4003
CLOSE_SESSION_GONE: Final = 4004
CLOSE_TOO_SLOW: Final = 4008

CLOSE_CODES: Final[dict[int, str]] = {
    CLOSE_NORMAL: "The session ended or the client said goodbye.",
    CLOSE_GOING_AWAY: "The server is shutting down; reconnect (another node will resume you).",
    CLOSE_POLICY: "Flooding: too many messages after a rate-limit warning.",
    CLOSE_TOO_BIG: "A frame over 64 KiB.",
    CLOSE_INTERNAL: "An unexpected server error, or no answer to a keepalive ping; reconnect and "
    "resume.",
    CLOSE_TRY_AGAIN: "The shared backend is unavailable; reconnect after a short wait.",
    CLOSE_HELLO_TIMEOUT: "No `hello` within the handshake timeout.",
    CLOSE_REVOKED: "The facilitator revoked (or replaced) the moderator link this console "
    "joined with.",
    CLOSE_SESSION_GONE: "The session was deleted by its facilitator, or expired (ended longer "
    "than the retention period ago, or inactive longer than the inactivity period).",
    CLOSE_TOO_SLOW: "The client read too slowly and its send buffer filled up; reconnect and "
    "resume. (Counted under this code; the client usually sees only the drop.)",
}
