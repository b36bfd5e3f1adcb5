"""Session results for download: aggregates and anonymous texts only, never who said what.

Hidden cards and cards still held by moderation (queued or flagged) are left out, and a step
below the minimum number of answers exports its counts but no aggregate, exactly as it was shown
in the room. Themes are exported as the room saw them last (the facilitator's renames, merges and
moves included; small themes under "other").
"""

from __future__ import annotations

import csv
import io

import msgspec

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.session import Session


class StepResult(msgspec.Struct, omit_defaults=True):
    index: int
    kind: str
    title: str
    prompt: str | None
    count: int
    passes: int
    step: p.AnyStepView
    """The step as participants saw it, so option and word labels travel with the numbers."""
    answers: p.AnyAggregate | None = None
    guesses: p.AnyAggregate | None = None
    shift: p.AnyShift | None = None
    """The room's shift since the step this one compares with: suppressed counts only."""
    characters: list[p.CharacterResult] = []
    """Per-character results of a step that handed characters out."""
    ticked: int = 0
    """A groups step: how many people ticked an item of a role's checklist."""
    checklist: list[p.RoleChecklist] = []
    """A groups step: the checklist totals per role, once at least ``min_responses`` ticked."""


class Export(msgspec.Struct):
    title: str
    language: str
    created_at: float
    min_responses: int
    participants: int
    steps: list[StepResult]


def export(session: Session) -> Export:
    language = session.info.language
    steps = []
    checklists = {i for i, state in session.groups.items() if any(state.checklists.items)}
    for index in sorted(set(session.tallies) | checklists):
        results = session.results("facilitator", index) if index in session.tallies \
            else p.Results(seq=0, step=index, count=0, passes=0)
        assert results is not None
        answers = _room_themes(_shown(results.answers), session.themes(index, moderator=False))
        step = session.scenario.steps[index]
        asked = step.debrief if isinstance(step, sc.Groups) and step.debrief else step
        steps.append(StepResult(
            index=index,
            kind=sc.kind_of(step),
            title=sc.localize(step.title, language) or "",
            prompt=sc.localize(getattr(asked, "prompt", None), language),
            count=results.count,
            passes=results.passes,
            step=session.step_view(index, moderator=False),
            answers=answers,
            guesses=results.guesses,
            shift=results.shift,
            characters=[
                msgspec.structs.replace(c, answers=_room_themes(
                    _shown(c.answers), session.themes(index, moderator=False, character=c.id)))
                for c in results.characters
            ],
        ))
        state = session.groups.get(index)
        if state is not None and index in checklists:
            steps[-1].ticked = state.checklists.reporters
            steps[-1].checklist = session.checklist_totals(state)
    return Export(
        title=sc.localize(session.scenario.title, language) or "",
        language=language,
        created_at=session.info.created_at,
        min_responses=session.info.min_responses,
        participants=len(session.participants),
        steps=steps,
    )


def _room_themes(aggregate: p.AnyAggregate | None,
                 themes: p.Themes | None) -> p.AnyAggregate | None:
    """A free-text aggregate with its themes as the room saw them (small ones under "other")."""
    if isinstance(aggregate, p.TextAggregate):
        return msgspec.structs.replace(aggregate, themes=themes)
    return aggregate


def _shown(aggregate: p.AnyAggregate | None) -> p.AnyAggregate | None:
    """The aggregate without hidden or held cards, as the room saw it."""
    if isinstance(aggregate, p.TextAggregate):
        return msgspec.structs.replace(
            aggregate, cards=[card for card in aggregate.cards
                              if not card.hidden and card.held is None]
        )
    return aggregate


def to_csv(data: Export) -> str:
    """One row per number or text: step, kind, prompt, series, key, value.

    Series: ``answers``, ``guesses``, ``shift`` (a suppressed count is the word ``hidden``),
    ``character:ID`` for each assigned character, and on a groups step ``checklist`` (how many
    ticked) and ``checklist:ROLE`` (groups that held the role, then groups per item).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["step", "kind", "prompt", "series", "key", "value"])
    for step in data.steps:
        head = [step.index + 1, step.kind, getattr(step, "prompt", None) or step.title]
        writer.writerow([*head, "answers", "count", step.count])
        writer.writerow([*head, "answers", "passes", step.passes])
        for series, aggregate in (("answers", step.answers), ("guesses", step.guesses)):
            for key, value in _rows(aggregate):
                writer.writerow([*head, series, key, value])
        for key, value in _shift_rows(step.shift):
            writer.writerow([*head, "shift", key, "hidden" if value is None else value])
        if step.ticked:
            writer.writerow([*head, "checklist", "ticked", step.ticked])
        for total in step.checklist:
            series = f"checklist:{total.role}"
            writer.writerow([*head, series, "groups", total.groups])
            for item in total.items:
                writer.writerow([*head, series, item.text, item.groups])
        for character in step.characters:
            series = f"character:{character.id}"
            writer.writerow([*head, series, "name", character.name])
            writer.writerow([*head, series, "count", character.count])
            for key, value in _rows(character.answers):
                writer.writerow([*head, series, key, value])
    return out.getvalue()


def _shift_rows(shift: p.AnyShift | None) -> list[tuple[str, object]]:
    match shift:
        case p.CheckinShift():
            return [
                ("compare_step", shift.compare + 1), ("pairs", shift.pairs),
                *((f"flow:{f.before}>{f.after}", f.count) for f in shift.flows),
                *((key, value) for key, value in (
                    ("stayed", shift.stayed), ("moved", shift.moved),
                    ("stayed_at_least", shift.stayed_at_least),
                    ("moved_at_least", shift.moved_at_least),
                ) if shift.flows and value is not None),
            ]
        case p.ScaleShift():
            return [
                ("compare_step", shift.compare + 1), ("pairs", shift.pairs),
                ("mean_change", shift.mean_change),
                *((("down", shift.down), ("same", shift.same), ("up", shift.up))
                  if (shift.down, shift.same, shift.up) != (None, None, None) else ()),
            ]
    return []


def _rows(aggregate: p.AnyAggregate | None) -> list[tuple[str, object]]:
    match aggregate:
        case p.CheckinAggregate():
            return [
                *((f"word:{w}", n) for w, n in sorted(aggregate.words.items())),
                *((f"quadrant:{q}", n) for q, n in aggregate.quadrants.items()),
                ("mean_pleasantness", aggregate.mean_pleasantness),
                ("mean_energy", aggregate.mean_energy),
                ("mean_intensity", aggregate.mean_intensity),
            ]
        case p.ScaleAggregate():
            return [
                *((f"value:{aggregate.min + i}", n) for i, n in enumerate(aggregate.histogram)),
                ("mean", aggregate.mean), ("median", aggregate.median),
                ("stdev", aggregate.stdev),
            ]
        case p.ChoiceAggregate():
            return [(f"option:{o}", n) for o, n in aggregate.options.items()]
        case p.TextAggregate():
            rows: list[tuple[str, object]] = [("text", card.text) for card in aggregate.cards]
            if aggregate.themes is not None:
                text = {card.id: card.text for card in aggregate.cards}
                for theme in aggregate.themes.themes:
                    rows.extend((f"theme:{theme.label}", text[c]) for c in theme.cards)
                rows.extend(("theme:other", text[c]) for c in aggregate.themes.other)
            return rows
    return []
