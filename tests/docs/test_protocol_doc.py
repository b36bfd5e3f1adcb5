"""docs/protocol.md is enough to write a client: its examples decode and are exactly what the
server sends, their aggregates and feedback follow from their inputs, its tables match the code."""

from __future__ import annotations

import json
import re
from typing import get_args

import msgspec
import pytest

from attune.cli import main
from attune.core import protocol as p
from attune.core.aggregate import CheckinTally, ChoiceTally, ScaleTally, TextTally
from attune.core.emotions import QUADRANTS, VOCABULARY
from attune.core.errors import CLOSE_CODES, ERROR_CODES, ErrorCode
from attune.core.export import Export, to_csv
from tests.support.paths import ROOT

DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
CLIENT, _, _rest = DOC.partition("## Server messages")
SERVER, _, EXPORT = _rest.partition("## Export")
_BLOCK = re.compile(r"```json\n(.*?)```", re.S)
_CSV = re.compile(r"```csv\n(.*?)```", re.S)


@pytest.mark.parametrize("example", _BLOCK.findall(CLIENT.partition("## Client messages")[2]))
def test_client_examples_decode(example: str) -> None:
    p.decoder.decode(example)


@pytest.mark.parametrize("example", _BLOCK.findall(SERVER))
def test_server_examples_decode(example: str) -> None:
    p.server_decoder.decode(example)


def test_every_message_type_has_an_example() -> None:
    for union, section in ((p.ClientMessage, CLIENT), (p.ServerMessage, SERVER)):
        for struct in union.__args__:
            for leaf in getattr(struct, "__args__", (struct,)):
                assert f'"type": "{leaf.__struct_config__.tag}"' in section, leaf.__name__


def test_error_and_close_code_tables_match_the_code() -> None:
    assert set(get_args(ErrorCode)) == set(ERROR_CODES), "ErrorCode and ERROR_CODES differ"
    for code, meaning in ERROR_CODES.items():
        assert f"| `{code}` | {meaning} |" in DOC, code
    for number, meaning in CLOSE_CODES.items():
        assert f"| {number} | {meaning} |" in DOC, number


def test_step_view_table_lists_each_kinds_fields() -> None:
    """One row per kind of step view, naming exactly the fields of its struct beyond the ones
    every kind has."""
    common = set(p.StepView.__struct_fields__)
    table = SERVER.partition("A **step view**")[2].partition("\n\n")[2].partition("\n\n")[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| (`.*) \|$", table, re.M))
    assert len(rows) == len(get_args(p.AnyStepView))
    for view in get_args(p.AnyStepView):
        row = re.sub(r"\([^()]*(\([^()]*\)[^()]*)*\)", "", rows[view.__struct_config__.tag])
        documented = re.findall(r"`(\w+)`", row)
        assert documented == [f for f in view.__struct_fields__ if f not in common], view


def test_published_json_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocol-schema"]) == 0
    published = (ROOT / "docs" / "protocol.schema.json").read_text()
    assert json.loads(capsys.readouterr().out) == json.loads(published)


@pytest.mark.parametrize("example", _BLOCK.findall(SERVER))
def test_server_examples_are_what_the_server_sends(example: str) -> None:
    """Fields at their default are left out on the wire, so an example that shows one (say
    ``"revealed": false``) shows a message no client will ever receive."""
    sent = json.loads(p.encoder.encode(p.server_decoder.decode(example)))
    assert sent == json.loads(example)


_SERVER_EXAMPLES = [p.server_decoder.decode(example) for example in _BLOCK.findall(SERVER)]
_RESULTS = {m.step: m for m in _SERVER_EXAMPLES if isinstance(m, p.Results)}
CHECKIN_INPUTS = (
    "four participants answered calm (intensity 2), calm (4), tired (3) and excited\n(3), and "
    "three of them guessed that the group feels tired",
    [("calm", 2), ("calm", 4), ("tired", 3), ("excited", 3)],
)
"""The check-in example's answers, which its aggregate alone does not give (the intensities), as
the page states them."""


def _recount(aggregate: p.AnyAggregate) -> p.AnyAggregate:
    """The aggregate the server's own tallies make of the answers an example's inputs describe."""
    match aggregate:
        case p.CheckinAggregate():
            checkin = CheckinTally()
            if aggregate.mean_intensity is None:
                answers = [(w, None) for w, n in aggregate.words.items() for _ in range(n)]
            else:
                sentence, answers = CHECKIN_INPUTS  # type: ignore[assignment]
                assert sentence in DOC, "the check-in example's inputs are no longer stated"
            for word, intensity in answers:
                checkin.add(p.CheckinValue(word=word, intensity=intensity), "")
            return checkin.view(moderator=False)
        case p.ScaleAggregate():
            scale = ScaleTally(aggregate.min, aggregate.max)
            for offset, n in enumerate(aggregate.histogram):
                for _ in range(n):
                    scale.add(p.ScaleValue(value=aggregate.min + offset), "")
            return scale.view(moderator=False)
        case p.ChoiceAggregate():
            choice = ChoiceTally(list(aggregate.options))
            for option, n in aggregate.options.items():  # one option per answer
                for _ in range(n):
                    choice.add(p.ChoiceValue(options=[option]), "")
            return choice.view(moderator=False)
        case p.TextAggregate():
            text = TextTally("fr")  # the examples are a French session's
            for card in aggregate.cards:
                text.add(p.TextValue(text=card.text), card.id)
            return text.view(moderator=False)
    raise AssertionError(aggregate)


@pytest.mark.parametrize("step", sorted(_RESULTS))
def test_results_examples_follow_from_their_inputs(step: int) -> None:
    results = _RESULTS[step]
    assert results.answers is not None
    assert results.count == results.answers.count
    for aggregate in (results.answers, results.guesses):
        if aggregate is None:
            continue
        recounted = _recount(aggregate)
        if isinstance(aggregate, p.TextAggregate):  # ties among words: any order is right
            assert isinstance(recounted, p.TextAggregate)
            assert dict(aggregate.words) == dict(recounted.words)
            recounted.words = aggregate.words
            if aggregate.themes is not None:  # made by the model: check they name its cards
                named = [c for t in aggregate.themes.themes for c in t.cards]
                named += aggregate.themes.other
                assert sorted(named) == sorted(c.id for c in aggregate.cards)
                recounted.themes = aggregate.themes
        assert aggregate == recounted


@pytest.mark.parametrize(
    "feedback", [m for m in _SERVER_EXAMPLES if isinstance(m, p.Feedback)], ids=lambda f: f.guess
)
def test_feedback_examples_follow_from_the_results_above(feedback: p.Feedback) -> None:
    """The rules as the page's table states them, applied to the results example of that step."""
    actual = _RESULTS[feedback.step].answers
    match actual:
        case p.CheckinAggregate():
            assert feedback.guess == VOCABULARY["tired"].quadrant, "the page says: guessed tired"
            top = max(QUADRANTS, key=lambda q: actual.quadrants[q])
            assert (feedback.actual, feedback.close) == (top, feedback.guess == top)
            assert feedback.share == round(actual.quadrants[feedback.guess] / actual.count, 3)
            assert feedback.distance is None
        case p.ScaleAggregate():
            distance = round(abs(float(feedback.guess) - actual.mean), 2)
            assert (feedback.actual, feedback.distance) == (f"{actual.mean:.2f}", distance)
            assert feedback.close == (distance <= (actual.max - actual.min) / 10)
            assert feedback.share is None
        case p.ChoiceAggregate():
            most = max(actual.options.items(), key=lambda item: item[1])[0]
            assert feedback.actual == most
            assert feedback.close == (actual.options[feedback.guess] == actual.options[most])
            assert feedback.share == round(actual.options[feedback.guess] / actual.count, 3)
        case _:
            raise AssertionError(f"no feedback for {actual}")


def test_export_examples_are_one_export() -> None:
    """The JSON example is an export as the server encodes it, and the CSV example is that
    export as CSV."""
    (example,), (table,) = _BLOCK.findall(EXPORT), _CSV.findall(EXPORT)
    data = msgspec.json.decode(example, type=Export)
    assert json.loads(msgspec.json.encode(data)) == json.loads(example)
    assert to_csv(data).replace("\r\n", "\n") == table


def test_the_events_and_the_seq_rule_are_as_the_page_says() -> None:
    """The events listed as advancing ``seq`` are the protocol's events, and every server message
    carries ``seq`` except ``pong``."""
    listed = re.search(r"Only \*\*events\*\*\s+advance it: (.*?)\. ", DOC, re.S)
    assert listed is not None
    named = set(re.findall(r"`([a-z_]+)`", listed.group(1)))
    events = {leaf.__struct_config__.tag for leaf in p.Event.__args__}
    assert named == events
    without_seq = {struct.__struct_config__.tag
                   for struct in p.ServerMessage.__args__
                   if "seq" not in struct.__struct_fields__}
    assert without_seq == {"pong"}
