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

Text = str | dict[str, str]
"""A string shown to people: one for every language, or one per language code."""

Audience = Literal["classroom", "workshop", "remote-team"]
LANGUAGES = ("en", "fr", "zh")
MAX_FILE_BYTES = 256 * 1024
MAX_STEPS = 100
MAX_DEPTH = 20
_ID = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class Schema(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Base for every scenario struct: a field the schema does not know is a mistake."""


class Character(Schema, kw_only=True):
    name: Text
    description: Text | None = None


class Option(Schema, kw_only=True):
    id: _ID
    label: Text


class Prediction(Schema, kw_only=True):
    """Asks each participant to guess the group, so the reveal can show guesses beside reality."""

    prompt: Text


class StepBase(Schema, tag_field="kind", kw_only=True):
    title: Text | None = None
    notes: Text | None = None
    """Facilitator notes: what to say, timing, what to do with the results. Never sent to phones."""


class Story(StepBase, tag="story", kw_only=True):
    text: Text
    image: str | None = None
    characters: list[Character] = []


class Checkin(StepBase, tag="checkin", kw_only=True):
    prompt: Text
    words: list[str] | None = None
    """Narrows the emotion vocabulary (for example a simpler set for young children)."""
    intensity: bool = True
    predict: Prediction | None = None


class Scale(StepBase, tag="scale", kw_only=True):
    prompt: Text
    min: int = 1
    max: int = 5
    min_label: Text | None = None
    max_label: Text | None = None
    predict: Prediction | None = None


class Choice(StepBase, tag="choice", kw_only=True):
    prompt: Text
    options: Annotated[list[Option], msgspec.Meta(min_length=2, max_length=20)]
    multiple: bool = False
    predict: Prediction | None = None


class Perspective(StepBase, tag="perspective", kw_only=True):
    prompt: Text
    character: str | None = None
    max_length: Annotated[int, msgspec.Meta(ge=10, le=1000)] = 280
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


Step = Story | Checkin | Scale | Choice | Perspective | Breathe | Timer | Reflect
AnswerStep = Checkin | Scale | Choice | Perspective
STEP_KINDS = ("story", "checkin", "scale", "choice", "perspective", "breathe", "timer", "reflect")


class Scenario(Schema, kw_only=True):
    id: _ID
    title: Text
    summary: Text
    audience: list[Audience]
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=600)]
    languages: Annotated[list[Literal["en", "fr", "zh"]], msgspec.Meta(min_length=1)]
    steps: Annotated[list[Step], msgspec.Meta(min_length=1, max_length=MAX_STEPS)]
    notes: Text | None = None


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with where and why in words a facilitator can act on."""

    def __init__(self, source: str, message: str, path: str = "$", line: int | None = None):
        self.source = source
        self.path = path
        self.line = line
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
        return None, [ScenarioError(source, f"file is {len(raw)} bytes; the limit is "
                                    f"{MAX_FILE_BYTES}")]
    loader = _Loader(raw)
    try:
        tree = loader.get_single_node()
        plain = loader.construct_document(tree) if tree is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        hint = ""
        if "mapping values are not allowed" in problem or "expected <block end>" in problem:
            hint = " (check the indentation; text containing ': ' or '#' needs quotes)"
        return None, [ScenarioError(source, f"not valid YAML: {problem}{hint}", line=line)]
    finally:
        loader.dispose()
    if tree is None:
        return None, [ScenarioError(source, "file is empty; expected a scenario mapping")]
    return check_plain(plain, source, tree)


def check_plain(plain: object, source: str = "<scenario>", tree: yaml.Node | None = None,
                ) -> tuple[Scenario | None, list[ScenarioError]]:
    """Check a scenario already decoded to plain data (JSON from the editor, or YAML's tree).

    msgspec stops at the first mistake, so the schema is walked field by field instead, each
    field converted on its own; only when every field passes is the whole converted, and then
    the rules a type cannot express are checked, all of them.
    """
    def error(path: str, message: str) -> ScenarioError:
        return ScenarioError(source, message, path, _line_of(tree, path) if tree else None)

    problems = list(_walk(plain, Scenario, "$"))
    if not problems:
        scenario = msgspec.convert(plain, Scenario)
        problems = list(_check(scenario))
        if not problems:
            return scenario, []
    errors = [error(path, message) for path, message in problems]
    return None, errors


def _walk(value: object, kind: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every schema mistake in ``value`` read as the type ``kind``, as (path, message)."""
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


def _walk_struct(value: dict[Any, Any], structs: list[Any], path: str) -> Iterator[tuple[str, str]]:
    """A mapping read as one struct of ``structs``; several means a union tagged by ``kind``."""
    struct = structs[0]
    if len(structs) > 1:
        tag_field = struct.__struct_config__.tag_field
        tag = value.get(tag_field)
        by_tag = {s.__struct_config__.tag: s for s in structs}
        if tag not in by_tag:
            if tag is None:
                yield path, f"Object missing required field `{tag_field}`; expected a step " \
                    f"kind: {', '.join(STEP_KINDS)}"
            else:
                yield f"{path}.{tag_field}", (f"Invalid value {tag!r}; expected a step kind: "
                                              f"{', '.join(STEP_KINDS)}")
            return
        struct = by_tag[tag]
    tag_field = struct.__struct_config__.tag_field
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    for key in value:
        if key not in fields and key != tag_field:
            yield f"{path}.{key}", f"unknown field {key!r} (check the spelling)"
    for name, field in fields.items():
        if name not in value:
            if field.required:
                yield path, f"Object missing required field `{name}`"
            continue
        yield from _walk(value[name], field.type, f"{path}.{name}")


def _convert(value: object, kind: Any, path: str) -> Iterator[tuple[str, str]]:
    """The mistake, if any, in a value msgspec can check whole (a string, a list of words)."""
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        message, _, inner = str(exc).rpartition(" - at ")
        if not message:
            message, inner = str(exc), "$"
        where = path + inner.strip("`").replace("[...]", "").removeprefix("$")
        if "got `bool`" in message:
            message += " (yes/no/on/off are read as true/false in YAML: put the text in quotes)"
        yield where, message


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
        raise ScenarioError(str(path), f"cannot read file: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(str(path), f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")
    return loads(path.read_bytes(), str(path))


def load_folder(folder: Path) -> dict[str, Scenario]:
    """Every ``*.yaml`` scenario in a folder by id; the first broken file stops the load."""
    found: dict[str, Scenario] = {}
    for path in sorted(folder.glob("*.yaml")):
        scenario = load(path)
        if scenario.id in found:
            raise ScenarioError(str(path), f"id {scenario.id!r} is used by another file", "$.id")
        found[scenario.id] = scenario
    return found


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario format, for editors that check YAML as it is typed."""
    schema: dict[str, Any] = msgspec.json.schema(Scenario)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Attune scenario"
    return schema


def _check(scenario: Scenario) -> Iterator[tuple[str, str]]:
    """Rules a type cannot express: complete translations, known words, sane ranges."""
    languages = set(scenario.languages)
    if "en" not in languages:
        yield "$.languages", "English ('en') is required: it is the fallback for every text"
    for path, text in _texts(scenario, "$"):
        if isinstance(text, dict):
            unknown = sorted(set(text) - set(LANGUAGES))
            if unknown:
                yield path, f"unknown language {unknown[0]!r}; expected one of {list(LANGUAGES)}"
            missing = sorted(languages - set(text))
            if missing:
                yield path, (
                    f"missing translation for {missing[0]!r} "
                    f"(the scenario's languages are {', '.join(scenario.languages)})"
                )
            empty = [lang for lang, value in text.items() if not value.strip()]
            if empty:
                yield path, f"empty text for {empty[0]!r}"
    characters: set[str] = set()
    for index, step in enumerate(scenario.steps):
        where = f"$.steps[{index}]"
        if isinstance(step, Story):
            for character in step.characters:
                names = character.name.values() if isinstance(character.name, dict) \
                    else [character.name]
                characters.update(names)
        if isinstance(step, Perspective) and step.character is not None \
                and step.character not in characters:
            yield f"{where}.character", (
                f"no character named {step.character!r} in an earlier story step "
                f"(known: {', '.join(sorted(characters)) or 'none'})"
            )
        if isinstance(step, Checkin) and step.words is not None:
            for w, word in enumerate(step.words):
                if word not in VOCABULARY:
                    yield f"{where}.words[{w}]", (
                        f"unknown emotion word {word!r}; expected one of "
                        f"{', '.join(sorted(VOCABULARY))}"
                    )
            if len(step.words) < 2:
                yield f"{where}.words", "give at least 2 words to choose from"
        if isinstance(step, Scale) and not step.min < step.max <= step.min + 100:
            yield f"{where}.max", "expected max greater than min, at most 100 apart"
        if isinstance(step, Choice):
            ids = [option.id for option in step.options]
            if len(set(ids)) != len(ids):
                yield f"{where}.options", "option ids must be unique"


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
