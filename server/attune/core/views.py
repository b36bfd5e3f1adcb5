"""Scenario steps rendered for clients: in one language, with notes for facilitators only."""

from __future__ import annotations

from attune.core import protocol as p
from attune.core import scenario as s
from attune.core.emotions import VOCABULARY


def step_view(step: s.Step, index: int, language: str, moderator: bool) -> p.AnyStepView:
    def t(text: s.Text | None) -> str | None:
        return s.localize(text, language)

    title, notes = t(step.title), t(step.notes) if moderator else None
    match step:
        case s.Story():
            return p.StoryView(
                index=index, title=title, notes=notes, text=t(step.text), image=step.image,
                characters=[p.Character(name=t(c.name) or "", description=t(c.description))
                            for c in step.characters],
            )
        case s.Checkin():
            return p.CheckinView(
                index=index, title=title, notes=notes, prompt=t(step.prompt),
                words=[p.Word(id=w, label=VOCABULARY[w].label(language), p=VOCABULARY[w].p,
                              e=VOCABULARY[w].e) for w in (step.words or VOCABULARY)],
                intensity=step.intensity, predict=_predict(step.predict, language),
            )
        case s.Scale():
            return p.ScaleView(
                index=index, title=title, notes=notes, prompt=t(step.prompt), min=step.min,
                max=step.max, min_label=t(step.min_label), max_label=t(step.max_label),
                predict=_predict(step.predict, language),
            )
        case s.Choice():
            return p.ChoiceView(
                index=index, title=title, notes=notes, prompt=t(step.prompt),
                options=[p.Option(id=o.id, label=t(o.label) or o.id) for o in step.options],
                multiple=step.multiple, predict=_predict(step.predict, language),
            )
        case s.Perspective():
            return p.PerspectiveView(
                index=index, title=title, notes=notes, prompt=t(step.prompt),
                character=step.character, max_length=step.max_length,
            )
        case s.Breathe():
            return p.BreatheView(
                index=index, title=title, notes=notes, prompt=t(step.prompt),
                pacer=p.Pacer(step.inhale, step.hold_in, step.exhale, step.hold_out, step.cycles),
            )
        case s.Timer():
            return p.TimerView(index=index, title=title, notes=notes, prompt=t(step.prompt),
                               seconds=step.seconds)
        case s.Reflect():
            return p.ReflectView(index=index, title=title, notes=notes, prompt=t(step.prompt))
        case s.Groups():
            debrief = step.debrief
            return p.GroupsView(
                index=index, title=title, notes=notes, prompt=t(step.prompt), size=step.size,
                rounds=step.rounds, rotate=step.rotate, seconds=step.seconds,
                # Role prompts are private: everyone sees the names, only the holder the prompt.
                roles=[role_view(r, language, private=moderator) for r in step.roles],
                debrief=_debrief(debrief, index, language) if debrief is not None else None,
                remote=t(step.remote) if moderator else None,
            )


def _predict(predict: s.Prediction | None, language: str) -> str | None:
    return s.localize(predict.prompt, language) if predict is not None else None


def _debrief(step: s.Scale | s.Choice, index: int, language: str) -> p.ScaleView | p.ChoiceView:
    view = step_view(step, index, language, False)
    assert isinstance(view, p.ScaleView | p.ChoiceView)
    return view


def role_view(role: s.GroupRole, language: str, private: bool) -> p.RoleView:
    """A role by name, with its prompt and checklist when ``private`` (its holder, the host)."""
    view = p.RoleView(id=role.id, name=s.localize(role.name, language) or role.id)
    if private:
        view.prompt = s.localize(role.prompt, language)
        view.checklist = [s.localize(item, language) or "" for item in role.checklist]
        view.note = s.localize(role.note, language)
    return view


def outline(scenario: s.Scenario, language: str) -> list[p.Outline]:
    return [
        p.Outline(
            index=i,
            kind=s.kind_of(step),
            title=s.localize(step.title, language)
            or s.localize(getattr(step, "prompt", None) or getattr(step, "text", ""), language)
            or "",
            notes=s.localize(step.notes, language),
        )
        for i, step in enumerate(scenario.steps)
    ]


def link(view: p.AnyStepView, scenario: s.Scenario, index: int, language: str) -> None:
    """Fill in what a step takes from other steps: the step it compares with, and the story
    characters it hands out (with their key, so results and ``assigned`` can name them)."""
    step = scenario.steps[index]
    compare = s.compared_index(scenario, step)
    if compare is not None and isinstance(view, p.CheckinView | p.ScaleView):
        earlier = scenario.steps[compare]
        view.compare = compare
        view.compare_title = s.localize(earlier.title, language) \
            or s.localize(getattr(earlier, "prompt", None), language)
    if isinstance(step, s.ASSIGNABLE) and step.assign == "each" \
            and isinstance(view, p.AssigningView):
        view.assign = step.assign
        view.characters = [
            p.Character(id=s.character_key(c), name=s.localize(c.name, language) or "",
                        description=s.localize(c.description, language))
            for ref in step.characters
            if (c := s.find_character(scenario, ref, index)) is not None
        ]
