"""Every built-in scenario runs start to end through the engine with a small group.

What is tested is the scenarios' content, so each runs once, on SQLite (the backend `attune serve`
uses by default); every step kind on every backend is tests/node/test_engine.py's subject."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from attune.config import BUILTIN_SCENARIOS, Settings
from attune.core import protocol as p
from attune.core import scenario as sc
from tests.support.servers import Running, settings_for

SCENARIOS = sorted(sc.load_folder(BUILTIN_SCENARIOS))


@pytest.fixture
def settings(backend_url: str) -> Settings:
    return settings_for(backend=backend_url, scenarios=BUILTIN_SCENARIOS)


def value_for(step: p.AnyStepView, who: int) -> p.AnswerValue:
    match step:
        case p.CheckinView():
            return p.CheckinValue(word=step.words[who % len(step.words)].id,
                                  intensity=3 if step.intensity else None)
        case p.ScaleView():
            return p.ScaleValue(value=step.min + who % (step.max - step.min + 1))
        case p.ChoiceView():
            return p.ChoiceValue(options=[step.options[who % len(step.options)].id])
        case _:
            return p.TextValue(text=f"answer {who}: maybe they felt unsure")


def at_step(index: int) -> Callable[[p.StepEvent], bool]:
    return lambda event: event.step.index == index


def revealed_at(index: int) -> Callable[[p.Results], bool]:
    return lambda results: results.step == index and results.answers is not None


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_builtin_scenario_runs_end_to_end(server: Running, scenario: str) -> None:
    created = await server.session(scenario)
    host = await server.facilitator(created)
    phones = [await server.participant(created) for _ in range(3)]
    screen = await server.screen(created)
    assert host.welcome is not None and host.welcome.snapshot is not None
    count = host.welcome.snapshot.step_count
    await host.command(p.Start())
    for index in range(count):
        if index:
            await host.command(p.Next())
        event = await screen.expect(p.StepEvent, at_step(index))
        step = event.step
        for phone in phones:
            await phone.expect(p.StepEvent, at_step(index))
        if step.kind in ("checkin", "scale", "choice", "perspective"):
            predicts = isinstance(step, p.CheckinView | p.ScaleView | p.ChoiceView) \
                and step.predict is not None
            for who, phone in enumerate(phones):
                guess = value_for(step, 0) if predicts else None
                await phone.answer(index, value_for(step, who), guess)
            await host.command(p.Reveal())
            shown = await screen.expect(
                p.Results, revealed_at(index)
            )
            assert shown.answers is not None and shown.answers.count == 3
            if predicts:
                assert shown.guesses is not None
                assert isinstance(await phones[0].expect(p.Feedback), p.Feedback)
    await host.command(p.End())
    await screen.expect(p.EndedEvent)
