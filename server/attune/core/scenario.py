"""Scenario files: the schema facilitators write, and loading that names the line of every mistake.

A scenario is a YAML file decoded straight into the Structs below with unknown fields forbidden, so
a typo is an error and never a silent default. Text a participant reads may be one string (the same
in every language) or a mapping of language code to string; a session is run in one language and
falls back to English field by field.

Errors carry the file, the line and the field path (``$.steps[2].prompt``) and say what was
expected, because the person reading them is a teacher with a text editor, not a developer
with a debugger.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from attune.core.emotions import VOCABULARY
from attune.core.scenario_problems import Param, Problem, english, from_msgspec

Text = str | dict[str, str]
"""A string shown to people: one for every language, or one per language code."""

Audience = Literal["classroom", "workshop", "remote-team"]
LANGUAGES = ("en", "fr", "zh")
MAX_FILE_BYTES = 256 * 1024
MAX_STEPS = 100
MAX_DEPTH = 20
_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
_ID = Annotated[str, msgspec.Meta(pattern=_ID_PATTERN)]


class Schema(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Base for every scenario struct: a field the schema does not know is a mistake."""


class Character(Schema, kw_only=True):
    name: Text
    description: Text | None = None
    id: _ID | None = None
    """How later steps name this character in ``characters:``; its name works too."""


class Option(Schema, kw_only=True):
    id: _ID
    label: Text


class Prediction(Schema, kw_only=True):
    """Asks each participant to guess the group, so the reveal can show guesses beside reality."""

    prompt: Text


class StepBase(Schema, tag_field="kind", kw_only=True):
    id: _ID | None = None
    """How a later step names this one (``compare:``); unique within the scenario."""
    title: Text | None = None
    notes: Text | None = None
    """Facilitator notes: what to say, timing, what to do with the results. Never sent to phones."""


class Story(StepBase, tag="story", kw_only=True):
    text: Text
    image: str | None = None
    characters: list[Character] = []


class Checkin(StepBase, tag="checkin", kw_only=True):
    countdown: Annotated[int, msgspec.Meta(ge=5, le=3600)] | None = None
    """Seconds people have to answer: responses close at zero (the facilitator can pause it, add
    time or stop it)."""
    prompt: Text
    words: list[str] | None = None
    """Narrows the emotion vocabulary (for example a simpler set for young children)."""
    intensity: bool = True
    predict: Prediction | None = None
    compare: _ID | None = None
    """The id of an earlier check-in: the reveal shows the room's shift since then."""
    characters: list[str] = []
    """Story characters (ids or names) handed out to the room, one each, with ``assign``."""
    assign: Literal["each"] | None = None


class Scale(StepBase, tag="scale", kw_only=True):
    countdown: Annotated[int, msgspec.Meta(ge=5, le=3600)] | None = None
    """Seconds people have to answer: responses close at zero (the facilitator can pause it, add
    time or stop it)."""
    prompt: Text
    min: int = 1
    max: int = 5
    min_label: Text | None = None
    max_label: Text | None = None
    predict: Prediction | None = None
    compare: _ID | None = None
    """The id of an earlier scale with the same range: the reveal shows the shift since then."""


class Choice(StepBase, tag="choice", kw_only=True):
    countdown: Annotated[int, msgspec.Meta(ge=5, le=3600)] | None = None
    """Seconds people have to answer: responses close at zero (the facilitator can pause it, add
    time or stop it)."""
    prompt: Text
    options: Annotated[list[Option], msgspec.Meta(min_length=2, max_length=20)]
    multiple: bool = False
    predict: Prediction | None = None


class Perspective(StepBase, tag="perspective", kw_only=True):
    countdown: Annotated[int, msgspec.Meta(ge=5, le=3600)] | None = None
    """Seconds people have to answer: responses close at zero (the facilitator can pause it, add
    time or stop it)."""
    prompt: Text
    character: str | None = None
    max_length: Annotated[int, msgspec.Meta(ge=10, le=1000)] = 280
    characters: list[str] = []
    """Story characters (ids or names) handed out to the room, one each, with ``assign``."""
    assign: Literal["each"] | None = None
    themes: bool = False
    """Group the answers into themes on reveal (where the ``themes`` extra is installed)."""


class Breathe(StepBase, tag="breathe", kw_only=True):
    prompt: Text | None = None
    inhale: Annotated[float, msgspec.Meta(gt=0, le=30)] = 4
    hold_in: Annotated[float, msgspec.Meta(ge=0, le=30)] = 0
    exhale: Annotated[float, msgspec.Meta(gt=0, le=30)] = 6
    hold_out: Annotated[float, msgspec.Meta(ge=0, le=30)] = 0
    cycles: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5


class Timer(StepBase, tag="timer", kw_only=True):
    prompt: Text
    seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)]


class Reflect(StepBase, tag="reflect", kw_only=True):
    """A private prompt: the answer stays on the participant's device, never sent to the server."""

    prompt: Text


class GroupRole(Schema, kw_only=True):
    """One role in a small group; its prompt is shown only to whoever holds the role."""

    id: _ID
    name: Text
    prompt: Text
    checklist: Annotated[list[Text], msgspec.Meta(max_length=12)] = []
    """What to notice while holding the role (an observer's list); ticked on the phone, totalled
    for the room per group at the debrief (``core/checklist.py``)."""
    note: Text | None = None
    """A short private answer: a question whoever holds the role answers in a few words on
    their phone (a listener's "what I heard"). Like a ``reflect`` step it stays on that phone
    and is never sent."""


class Groups(StepBase, tag="groups", kw_only=True):
    """Pairs, triads or circles: people find their group in the room and take turns in roles.

    ``size`` is the group size aimed for. ``leftover`` says where the people who do not fill a
    last group go: ``join`` spreads them over other groups (some groups of ``size + 1``),
    ``own`` makes smaller groups instead (never fewer than two). The last role is the one that
    extra members share (the observer, the silent listener). The rules live in ``core/groups.py``.
    """

    prompt: Text | None = None
    size: Annotated[int, msgspec.Meta(ge=2, le=7)]
    leftover: Literal["join", "own"] = "join"
    roles: Annotated[list[GroupRole], msgspec.Meta(min_length=1, max_length=7)]
    rounds: Annotated[int, msgspec.Meta(ge=1, le=12)] = 1
    seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)]
    rotate: bool = True
    debrief: Scale | Choice | None = None
    """One question everyone answers once the groups end; aggregated like any other step."""
    remote: Text | None = None
    """For remote sessions: how to mirror the groups in the video tool's breakout rooms."""


Step = Story | Checkin | Scale | Choice | Perspective | Breathe | Timer | Reflect | Groups
AnswerStep = Checkin | Scale | Choice | Perspective
STEP_KINDS = (
    "story", "checkin", "scale", "choice", "perspective", "breathe", "timer", "reflect", "groups",
)


def kind_of(step: Step) -> str:
    """A step's ``kind``: its tag in the scenario format (one of ``STEP_KINDS``)."""
    return str(type(step).__struct_config__.tag)


class Scenario(Schema, kw_only=True):
    id: _ID
    title: Text
    summary: Text
    audience: list[Audience]
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=600)]
    languages: Annotated[list[Literal["en", "fr", "zh"]], msgspec.Meta(min_length=1)]
    steps: Annotated[list[Step], msgspec.Meta(min_length=1, max_length=MAX_STEPS)]
    notes: Text | None = None
    help: Text | None = None
    """Where help is, shown privately on the phone of someone whose card reads like distress
    (default: the operator's ``--help-text``, else a text per language in
    ``attune.core.moderation``)."""


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with where and why in words a facilitator can act on.

    ``code`` and ``params`` say what is wrong in a form any language can word (see
    ``attune.core.scenario_problems``); ``detail`` is the English sentence.
    """

    def __init__(self, source: str, code: str, params: dict[str, Param] | None = None,
                 path: str = "$", line: int | None = None):
        self.source = source
        self.path = path
        self.line = line
        self.code = code
        self.params = params or {}
        message = english(code, self.params)
        self.detail = message
        self.found: list[ScenarioError] = [self]
        """Every error of the file this one came from, itself first (see ``check``)."""
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message} (at {path})")


def localize(text: Text | None, language: str) -> str | None:
    """Pick one language from a text field, falling back to English, then to any given."""
    if text is None or isinstance(text, str):
        return text
    return text.get(language) or text.get("en") or next(iter(text.values()), "")


def loads(data: bytes | str, source: str = "<scenario>") -> Scenario:
    """Decode and check one scenario; raise the first ScenarioError (all of them in ``.found``)."""
    scenario, errors = check(data, source)
    if scenario is None:
        first = errors[0]
        first.found = errors
        raise first
    return scenario


def check(data: bytes | str, source: str = "<scenario>",
          ) -> tuple[Scenario | None, list[ScenarioError]]:
    """Decode a scenario and find every mistake in it, not just the first.

    Returns the scenario (None if anything is wrong) and the errors in the file's order, each
    with its path and line. A file that is not YAML at all, too large or empty has one error.
    """
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_FILE_BYTES:
        return None, [ScenarioError(source, "file-too-large",
                                    {"size": len(raw), "limit": MAX_FILE_BYTES})]
    loader = _Loader(raw)
    try:
        tree = loader.get_single_node()
        plain = loader.construct_document(tree) if tree is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        indent = "mapping values are not allowed" in problem or "expected <block end>" in problem
        return None, [ScenarioError(source, "not-yaml-indent" if indent else "not-yaml",
                                    {"detail": problem}, line=line)]
    finally:
        loader.dispose()
    if tree is None:
        return None, [ScenarioError(source, "empty-file")]
    return check_plain(plain, source, tree)


def check_plain(plain: object, source: str = "<scenario>", tree: yaml.Node | None = None,
                ) -> tuple[Scenario | None, list[ScenarioError]]:
    """Check a scenario already decoded to plain data (JSON from the editor, or YAML's tree).

    msgspec stops at the first mistake, so the schema is walked field by field instead, each
    field converted on its own. The rules a type cannot express (translations, known words,
    ranges) are then checked too, all of them: on the whole when every field passed, otherwise
    on a copy where each broken part is stood in for (see ``_stand_ins``), so that a typo in
    one step does not hide a missing translation in another.
    """
    def error(problem: Problem) -> ScenarioError:
        line = _line_of(tree, problem.path) if tree else None
        return ScenarioError(source, problem.code, problem.params, problem.path, line)

    problems = list(_walk(plain, Scenario, "$"))
    if not problems:
        scenario = msgspec.convert(plain, Scenario)
        problems = list(_check(scenario))
        if not problems:
            return scenario, []
    elif isinstance(plain, dict):
        repaired, replaced = _stand_ins(plain, [problem.path for problem in problems])
        try:
            partial = msgspec.convert(repaired, Scenario)
        except msgspec.ValidationError:
            partial = None
        if partial is not None:
            problems += [problem for problem in _check(partial)
                         if not any(_within(problem.path, part) for part in replaced)]
    errors = [error(problem) for problem in problems]
    return None, errors


_STAND_IN: dict[str, object] = {
    "id": "x", "title": "x", "summary": "x", "audience": [], "duration_minutes": 1,
    "languages": ["en"], "notes": None, "steps": [{"kind": "reflect", "prompt": "x"}],
}
"""Valid values for each top-level field, standing in for broken ones (plain strings are the
same in every language, so they raise no rule of their own)."""
_STEP_STAND_IN = {"kind": "reflect", "prompt": "x"}


def _stand_ins(plain: dict[Any, Any], broken: list[str]) -> tuple[dict[Any, Any], list[str]]:
    """A copy of ``plain`` with every top-level field or step that has a schema error replaced
    by a valid stand-in, and the paths of what was replaced."""
    repaired = dict(plain)
    replaced: list[str] = []
    for path in broken:
        step = re.match(r"^\$\.steps\[(\d+)\]", path)
        top = re.match(r"^\$\.([A-Za-z_][\w-]*)", path)
        if step and isinstance(plain.get("steps"), list) and "$.steps" not in replaced:
            steps = repaired["steps"] = list(repaired["steps"])
            steps[int(step.group(1))] = _STEP_STAND_IN
            replaced.append(step.group(0))
        elif top and top.group(1) in _STAND_IN:
            repaired[top.group(1)] = _STAND_IN[top.group(1)]
            replaced.append(f"$.{top.group(1)}")
        elif top:
            del repaired[top.group(1)]  # an unknown field: leave it out
    return repaired, replaced


def _within(path: str, part: str) -> bool:
    return path == part or path.startswith((f"{part}.", f"{part}["))


def _walk(value: object, kind: Any, path: str) -> Iterator[Problem]:
    """Every schema mistake in ``value`` read as the type ``kind``."""
    base, metas = kind, ()
    if typing.get_origin(kind) is Annotated:
        base, *rest = typing.get_args(kind)
        metas = tuple(rest)
    structs = [a for a in typing.get_args(base) if _is_struct(a)] if _is_union(base) else []
    if _is_struct(base):
        structs = [base]
    if structs and isinstance(value, dict):
        yield from _walk_struct(value, structs, path)
        return
    if typing.get_origin(base) is list and isinstance(value, list):
        (item,) = typing.get_args(base)
        if _is_struct(item) or _is_union(item):
            if metas:
                yield from _convert(value, Annotated[(list[Any], *metas)], path)
            for index, each in enumerate(value):
                yield from _walk(each, item, f"{path}[{index}]")
            return
    yield from _convert(value, kind, path)


def _walk_struct(value: dict[Any, Any], structs: list[Any], path: str) -> Iterator[Problem]:
    """A mapping read as one struct of ``structs``; several means a union tagged by ``kind``."""
    struct = structs[0]
    if len(structs) > 1:
        tag_field = struct.__struct_config__.tag_field
        tag = value.get(tag_field)
        by_tag = {s.__struct_config__.tag: s for s in structs}
        if tag not in by_tag:
            if tag is None:
                yield Problem(path, "missing-kind", {"kinds": list(STEP_KINDS)})
            else:
                yield Problem(f"{path}.{tag_field}", "unknown-kind",
                              {"value": str(tag), "kinds": list(STEP_KINDS)})
            return
        struct = by_tag[tag]
    tag_field = struct.__struct_config__.tag_field
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    for key in value:
        if key not in fields and key != tag_field:
            yield Problem(f"{path}.{key}", "unknown-field", {"field": str(key)})
    for name, field in fields.items():
        if name not in value:
            if field.required:
                # The path names the missing field (its line is the enclosing mapping's), so an
                # editor can show the error where the field would be.
                yield Problem(f"{path}.{name}", "missing-field", {"field": name})
            continue
        yield from _walk(value[name], field.type, f"{path}.{name}")


def _convert(value: object, kind: Any, path: str) -> Iterator[Problem]:
    """The mistake, if any, in a value msgspec can check whole (a string, a list of words)."""
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        message, _, inner = str(exc).rpartition(" - at ")
        if not message:
            message, inner = str(exc), "$"
        where = path + inner.strip("`").replace("[...]", "").removeprefix("$")
        code, params = from_msgspec(message)
        if where == "$.steps" and code == "length-at-most" and isinstance(value, list):
            code, params = "too-many-steps", {"limit": MAX_STEPS, "count": len(value)}
        if "matching regex" in message and _ID_PATTERN in message:
            code, params = "bad-id", {}
        yield Problem(where, code, params)


def _is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def plain(data: bytes | str) -> object:
    """A YAML file as plain data (None if it is not YAML), read as safely as ``check`` reads it."""
    loader = _Loader(data.encode() if isinstance(data, str) else data)
    try:
        return loader.get_single_data()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def load(path: Path) -> Scenario:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError(str(path), "unreadable", {"detail": exc.strerror or ""}) from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(str(path), "file-too-large", {"size": size, "limit": MAX_FILE_BYTES})
    return loads(path.read_bytes(), str(path))


def load_folder(folder: Path) -> dict[str, Scenario]:
    """Every ``*.yaml`` scenario in a folder by id; the first broken file stops the load."""
    found: dict[str, Scenario] = {}
    for path in sorted(folder.glob("*.yaml")):
        scenario = load(path)
        if scenario.id in found:
            raise ScenarioError(str(path), "duplicate-file-id", {"id": scenario.id}, "$.id")
        found[scenario.id] = scenario
    return found


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario format, for editors that check YAML as it is typed."""
    schema: dict[str, Any] = msgspec.json.schema(Scenario)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Attune scenario"
    return schema


def _check(scenario: Scenario) -> Iterator[Problem]:
    """Rules a type cannot express: complete translations, known words, sane ranges."""
    languages = set(scenario.languages)
    if "en" not in languages:
        yield Problem("$.languages", "english-required")
    for path, text in _texts(scenario, "$"):
        if isinstance(text, dict):
            unknown = sorted(set(text) - set(LANGUAGES))
            if unknown:
                yield Problem(path, "unknown-language",
                              {"language": unknown[0], "languages": list(LANGUAGES)})
            missing = sorted(languages - set(text))
            if missing:
                yield Problem(path, "missing-translation",
                              {"language": missing[0], "languages": list(scenario.languages)})
            empty = [lang for lang, value in text.items() if not value.strip()]
            if empty:
                yield Problem(path, "empty-text", {"language": empty[0]})
    characters: set[str] = set()
    for index, step in enumerate(scenario.steps):
        where = f"$.steps[{index}]"
        if isinstance(step, Story):
            for character in step.characters:
                names = character.name.values() if isinstance(character.name, dict) \
                    else [character.name]
                characters.update(names)
                if character.id is not None:
                    characters.add(character.id)
        if isinstance(step, Perspective) and step.character is not None \
                and step.character not in characters:
            yield Problem(f"{where}.character", "unknown-character",
                          {"name": step.character, "known": sorted(characters)})
        if isinstance(step, Checkin) and step.words is not None:
            for w, word in enumerate(step.words):
                if word not in VOCABULARY:
                    yield Problem(f"{where}.words[{w}]", "unknown-word",
                                  {"word": word, "words": sorted(VOCABULARY)})
            if len(step.words) < 2:
                yield Problem(f"{where}.words", "too-few-words")
        if isinstance(step, Groups):
            yield from _check_groups(step, where)
            if step.debrief is not None:
                step, where = step.debrief, f"{where}.debrief"
        if isinstance(step, Scale) and not step.min < step.max <= step.min + 100:
            yield Problem(f"{where}.max", "scale-range")
        if isinstance(step, Choice):
            ids = [option.id for option in step.options]
            if len(set(ids)) != len(ids):
                yield Problem(f"{where}.options", "duplicate-option-ids")
    yield from check_links(scenario)


COMPARABLE = (Checkin, Scale)
"""Step kinds that may ``compare`` with an earlier step of their kind."""
ASSIGNABLE = (Checkin, Perspective)
"""Step kinds that may hand out ``characters`` with ``assign: each``."""


def character_key(character: Character) -> str:
    """How a character is told apart from the others: its id, else its English name."""
    return character.id or localize(character.name, "en") or ""


def find_character(scenario: Scenario, ref: str, before: int) -> Character | None:
    """The story character that ``ref`` names (by id or by a name in any language) in a story
    step before step ``before``; the last one wins, as a later story may describe them anew."""
    found: Character | None = None
    for step in scenario.steps[:before]:
        if isinstance(step, Story):
            for character in step.characters:
                names = character.name.values() if isinstance(character.name, dict) \
                    else [character.name]
                if ref == character.id or ref in names:
                    found = character
    return found


def compared_index(scenario: Scenario, step: Step) -> int | None:
    """The index of the step that ``step`` compares with, if it names one."""
    ref = getattr(step, "compare", None)
    if ref is None:
        return None
    return next((i for i, other in enumerate(scenario.steps) if other.id == ref), None)


def check_links(scenario: Scenario) -> Iterator[Problem]:
    """Rules between steps: unique step ids, ``compare`` naming an earlier step of the same kind,
    ``characters`` naming story characters and going with ``assign: each``."""
    seen: dict[str, int] = {}
    for index, step in enumerate(scenario.steps):
        where = f"$.steps[{index}]"
        if step.id is not None:
            if step.id in seen:
                yield Problem(f"{where}.id", "duplicate-step-id",
                              {"id": step.id, "step": seen[step.id]})
            seen.setdefault(step.id, index)
        ref = getattr(step, "compare", None)
        if ref is not None:
            yield from _check_compare(scenario, step, index, ref, seen)
        if isinstance(step, ASSIGNABLE):
            yield from _check_assign(scenario, step, index)


def _check_compare(
    scenario: Scenario, step: Step, index: int, ref: str, seen: dict[str, int],
) -> Iterator[Problem]:
    where = f"$.steps[{index}].compare"
    kind = str(step.__struct_config__.tag)
    target = seen.get(ref)
    if target is None or target == index:
        later = compared_index(scenario, step)
        if later is not None and later > index:
            yield Problem(where, "compare-later", {"ref": ref})
        elif target == index:
            yield Problem(where, "compare-itself")
        else:
            known = [
                other.id for other in scenario.steps[:index]
                if other.id is not None and isinstance(other, type(step))
            ]
            yield Problem(where, "compare-unknown",
                          {"ref": ref, "kind": kind, "known": [k for k in known if k]})
        return
    other = scenario.steps[target]
    if type(other) is not type(step):
        yield Problem(where, "compare-other-kind",
                      {"ref": ref, "other": str(other.__struct_config__.tag), "kind": kind})
    elif isinstance(step, Scale) and isinstance(other, Scale) \
            and (step.min, step.max) != (other.min, other.max):
        yield Problem(where, "compare-range", {"ref": ref, "min": other.min, "max": other.max,
                                               "own_min": step.min, "own_max": step.max})
    elif getattr(step, "assign", None) or getattr(other, "assign", None):
        yield Problem(where, "compare-assigned")


def _check_assign(scenario: Scenario, step: Checkin | Perspective, index: int
                  ) -> Iterator[Problem]:
    where = f"$.steps[{index}]"
    if step.assign is not None and not step.characters:
        yield Problem(f"{where}.assign", "assign-without-characters")
        return
    if not step.characters:
        return
    if step.assign is None:
        yield Problem(f"{where}.characters", "characters-without-assign")
    if isinstance(step, Perspective) and step.character is not None:
        yield Problem(f"{where}.character", "character-and-characters")
    if len(step.characters) < 2:
        yield Problem(f"{where}.characters", "too-few-characters")
    keys: dict[str, int] = {}
    for c, ref in enumerate(step.characters):
        found = find_character(scenario, ref, index)
        if found is None:
            known = sorted({
                character.id or localize(character.name, "en") or ""
                for other in scenario.steps[:index] if isinstance(other, Story)
                for character in other.characters
            })
            yield Problem(f"{where}.characters[{c}]", "unknown-assigned-character",
                          {"name": ref, "known": known})
            continue
        key = character_key(found)
        if key in keys:
            yield Problem(f"{where}.characters[{c}]", "character-twice", {"name": ref})
        keys[key] = c


def _check_groups(step: Groups, where: str) -> Iterator[Problem]:
    ids = [role.id for role in step.roles]
    if len(set(ids)) != len(ids):
        yield Problem(f"{where}.roles", "duplicate-role-ids")
    if len(step.roles) > step.size + 1:
        yield Problem(f"{where}.roles", "too-many-roles",
                      {"roles": len(step.roles), "size": step.size, "most": step.size + 1})
    if step.debrief is not None and step.debrief.predict is not None:
        yield Problem(f"{where}.debrief.predict", "debrief-guess")


def _texts(node: object, path: str) -> Iterator[tuple[str, Text]]:
    """Every per-language text mapping with its path (plain strings need no translation)."""
    if isinstance(node, Schema):
        for field in node.__struct_fields__:
            value = getattr(node, field)
            if isinstance(value, dict):
                yield f"{path}.{field}", value
            elif isinstance(value, list | Schema):
                yield from _texts(value, f"{path}.{field}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, dict):  # a list of texts (a role's checklist)
                yield f"{path}[{index}]", item
            else:
                yield from _texts(item, f"{path}[{index}]")


class _Loader(yaml.SafeLoader):
    """Safe YAML with anchors and aliases refused: useless in a scenario, and they enable bombs."""

    depth = 0
    """Nesting is bounded while composing: PyYAML recurses per level, so a file of a few
    thousand ``[`` would otherwise overflow the stack before any check could run."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


def _line_of(tree: yaml.Node, path: str) -> int | None:
    """The 1-based line of the deepest node a msgspec path (``$.steps[1].prompt``) reaches."""
    node = tree
    for key, index in _STEP.findall(path.removeprefix("$")):
        child: yaml.Node | None = None
        if key and isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == key), None)
            if child is None:
                child = next((k for k, _ in node.value if k.value == key), None)
        elif index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            child = node.value[int(index)]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1
