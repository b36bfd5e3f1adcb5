"""Scenario steps rendered for clients: in one language, with notes for facilitators only."""

from __future__ import annotations

from attune.core import protocol as p
from attune.core import scenario as s
from attune.core.emotions import VOCABULARY


def step_view(step: s.Step, index: int, language: str, moderator: bool) -> p.StepView:
    def t(text: s.Text | None) -> str | None:
        return s.localize(text, language)

    view = p.StepView(
        index=index,
        kind=type(step).__struct_config__.tag,  # type: ignore[arg-type]
        title=t(step.title),
        notes=t(step.notes) if moderator else None,
    )
    match step:
        case s.Story():
            view.text = t(step.text)
            view.image = step.image
            view.characters = [
                p.Character(name=t(c.name) or "", description=t(c.description))
                for c in step.characters
            ]
        case s.Checkin():
            view.prompt = t(step.prompt)
            view.words = [
                p.Word(id=w, label=VOCABULARY[w].label(language), p=VOCABULARY[w].p,
                       e=VOCABULARY[w].e)
                for w in (step.words or VOCABULARY)
            ]
            view.intensity = step.intensity
            view.predict = t(step.predict.prompt) if step.predict else None
        case s.Scale():
            view.prompt = t(step.prompt)
            view.min, view.max = step.min, step.max
            view.min_label, view.max_label = t(step.min_label), t(step.max_label)
            view.predict = t(step.predict.prompt) if step.predict else None
        case s.Choice():
            view.prompt = t(step.prompt)
            view.options = [p.Option(id=o.id, label=t(o.label) or o.id) for o in step.options]
            view.multiple = step.multiple
            view.predict = t(step.predict.prompt) if step.predict else None
        case s.Perspective():
            view.prompt = t(step.prompt)
            view.character = step.character
            view.max_length = step.max_length
        case s.Breathe():
            view.prompt = t(step.prompt)
            view.pacer = p.Pacer(step.inhale, step.hold_in, step.exhale, step.hold_out, step.cycles)
        case s.Timer():
            view.prompt = t(step.prompt)
            view.seconds = step.seconds
        case s.Reflect():
            view.prompt = t(step.prompt)
        case s.Groups():
            view.prompt = t(step.prompt)
            view.size, view.rounds, view.rotate = step.size, step.rounds, step.rotate
            view.seconds = step.seconds
            # Role prompts are private: everyone sees the names, only the holder the prompt.
            view.roles = [role_view(r, language, private=moderator) for r in step.roles]
            view.debrief = step_view(step.debrief, index, language, False) \
                if step.debrief is not None else None
            view.remote = t(step.remote) if moderator else None
    return view


def role_view(role: s.GroupRole, language: str, private: bool) -> p.RoleView:
    """A role by name, with its prompt and checklist when ``private`` (its holder, the host)."""
    view = p.RoleView(id=role.id, name=s.localize(role.name, language) or role.id)
    if private:
        view.prompt = s.localize(role.prompt, language)
        view.checklist = [s.localize(item, language) or "" for item in role.checklist]
    return view


def outline(scenario: s.Scenario, language: str) -> list[p.Outline]:
    return [
        p.Outline(
            index=i,
            kind=type(step).__struct_config__.tag,  # type: ignore[arg-type]
            title=s.localize(step.title, language)
            or s.localize(getattr(step, "prompt", None) or getattr(step, "text", ""), language)
            or "",
            notes=s.localize(step.notes, language),
        )
        for i, step in enumerate(scenario.steps)
    ]


def link(view: p.StepView, scenario: s.Scenario, index: int, language: str) -> None:
    """Fill in what a step takes from other steps: the step it compares with, and the story
    characters it hands out (with their key, so results and ``assigned`` can name them)."""
    step = scenario.steps[index]
    compare = s.compared_index(scenario, step)
    if compare is not None:
        earlier = scenario.steps[compare]
        view.compare = compare
        view.compare_title = s.localize(earlier.title, language) \
            or s.localize(getattr(earlier, "prompt", None), language)
    if isinstance(step, s.ASSIGNABLE) and step.assign == "each":
        view.assign = step.assign
        view.characters = [
            p.Character(id=s.character_key(c), name=s.localize(c.name, language) or "",
                        description=s.localize(c.description, language))
            for ref in step.characters
            if (c := s.find_character(scenario, ref, index)) is not None
        ]
