"""The built-in scenario library, and the errors a facilitator sees when a scenario file is broken.

The first half checks the files shipped in ``scenarios/``: they load, together they exercise every
step kind and every kind of prediction, they are complete in English, French and Chinese, and they
are written the way docs/scenarios.md promises (notes for the facilitator, honest durations,
characters that exist). The second half feeds the loader broken files and checks that each error
names the line and the field, because the person reading it is a teacher with a text editor.
"""

from __future__ import annotations

import typing
import unicodedata
from pathlib import Path

import msgspec
import pytest

from attune.core.emotions import VOCABULARY
from attune.core.scenario import (
    LANGUAGES,
    MAX_FILE_BYTES,
    STEP_KINDS,
    Breathe,
    Checkin,
    Choice,
    Groups,
    Perspective,
    Scale,
    Scenario,
    ScenarioError,
    Story,
    Timer,
    load,
    load_folder,
    loads,
    localize,
)
from tests.support.paths import ROOT

SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
REQUIRED = {
    "mood-checkin",
    "perspective-story",
    "snapped-at-friend",
    "breathing-body-checkin",
    "active-listening-pairs",
    "kindness-circle",
    "team-retro-feelings",
    "common-ground",
}


@pytest.fixture(scope="module")
def library() -> dict[str, Scenario]:
    return load_folder(SCENARIOS)


def kind(step: msgspec.Struct) -> str:
    return str(type(step).__struct_config__.tag)


def text_fields(node: object, path: str = "$") -> typing.Iterator[tuple[str, object]]:
    """Every field typed ``Text`` in a decoded scenario, with its msgspec-style path."""
    if isinstance(node, msgspec.Struct):
        for field in msgspec.structs.fields(node):
            value = getattr(node, field.name)
            where = f"{path}.{field.name}"
            if dict[str, str] in typing.get_args(field.type):
                if value is not None:
                    yield where, value
            else:
                yield from text_fields(value, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from text_fields(item, f"{path}[{index}]")


# --- The shipped library ----------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_each_file_loads_and_is_named_for_its_id(path: Path) -> None:
    scenario = load(path)
    assert scenario.id == path.stem
    assert path.stat().st_size < MAX_FILE_BYTES


def test_the_library_holds_the_required_scenarios(library: dict[str, Scenario]) -> None:
    assert len(library) >= 8
    assert len(library) == len(SHIPPED)
    assert set(library) >= REQUIRED


def test_every_step_kind_is_used_somewhere(library: dict[str, Scenario]) -> None:
    used = {kind(step) for scenario in library.values() for step in scenario.steps}
    assert used == set(STEP_KINDS)


@pytest.mark.parametrize("step_type", [Checkin, Scale, Choice], ids=lambda t: t.__name__)
def test_prediction_is_used_on_each_kind_that_supports_it(
    library: dict[str, Scenario], step_type: type
) -> None:
    predicted = [
        (scenario.id, index)
        for scenario in library.values()
        for index, step in enumerate(scenario.steps)
        if isinstance(step, Checkin | Scale | Choice)
        and isinstance(step, step_type)
        and step.predict is not None
    ]
    assert predicted, f"no {step_type.__name__} step asks for a prediction"


def test_every_scenario_is_complete_in_english_french_and_chinese(
    library: dict[str, Scenario],
) -> None:
    for scenario in library.values():
        assert scenario.languages == ["en", "fr", "zh"], scenario.id
        texts = list(text_fields(scenario))
        assert len(texts) >= 3 * len(scenario.steps), scenario.id  # the walk reaches them
        for path, text in texts:
            if path.endswith(".name"):
                # Proper names (a character called "Sam") may be one string for every language.
                assert isinstance(text, str | dict), (scenario.id, path)
                continue
            assert isinstance(text, dict), f"{scenario.id} {path} is not translated"
            assert set(text) == set(LANGUAGES), (scenario.id, path, sorted(text))
            assert all(value.strip() for value in text.values()), (scenario.id, path)
        # French and Chinese are real translations, not English copied across.
        assert localize(scenario.title, "fr") != localize(scenario.title, "en")
        assert localize(scenario.title, "zh") != localize(scenario.title, "en")
        # A language the scenario does not declare falls back to English.
        assert localize(scenario.summary, "de") == localize(scenario.summary, "en")


def test_facilitator_notes_cover_the_scenario_and_every_answer_step(
    library: dict[str, Scenario],
) -> None:
    for scenario in library.values():
        assert scenario.notes is not None, scenario.id
        for index, step in enumerate(scenario.steps):
            if isinstance(step, Checkin | Scale | Choice | Perspective):
                assert step.notes is not None, f"{scenario.id} steps[{index}] has no notes"


def test_durations_are_honest(library: dict[str, Scenario]) -> None:
    """The clock-driven steps fit, with half a minute for every other step; and no padding."""
    for scenario in library.values():
        timed: float = sum(step.seconds for step in scenario.steps if isinstance(step, Timer))
        timed += sum(step.seconds * step.rounds for step in scenario.steps
                     if isinstance(step, Groups))
        timed += sum(
            (step.inhale + step.hold_in + step.exhale + step.hold_out) * step.cycles
            for step in scenario.steps
            if isinstance(step, Breathe)
        )
        untimed = sum(1 for step in scenario.steps if not isinstance(step, Timer | Breathe))
        minimum = timed + 30 * untimed
        maximum = timed + 5 * 60 * untimed + 10 * 60  # five minutes a step, ten to discuss
        assert minimum <= scenario.duration_minutes * 60 <= maximum, (
            f"{scenario.id}: {scenario.duration_minutes} minutes for steps that take "
            f"{minimum / 60:.1f} to {maximum / 60:.1f}"
        )


def test_perspective_steps_name_a_character_from_an_earlier_story(
    library: dict[str, Scenario],
) -> None:
    for scenario in library.values():
        met: set[str] = set()
        for index, step in enumerate(scenario.steps):
            if isinstance(step, Story):
                met.update(localize(character.name, "en") or "" for character in step.characters)
            if isinstance(step, Perspective) and step.character is not None:
                assert step.character in met, f"{scenario.id} steps[{index}]: {step.character}"


def test_story_text_keeps_to_the_markdown_subset(library: dict[str, Scenario]) -> None:
    """Paragraphs, **bold** and *italic* only: no headings, lists, links, code or HTML."""
    for scenario in library.values():
        for index, step in enumerate(scenario.steps):
            if not isinstance(step, Story):
                continue
            assert isinstance(step.text, dict)
            for language, text in step.text.items():
                for line in text.splitlines():
                    stripped = line.lstrip()
                    assert not stripped.startswith(("#", "- ", "+ ", "> ")), (
                        scenario.id,
                        index,
                        language,
                        line,
                    )
                    assert not (stripped[:1].isdigit() and stripped[1:3] == ". ")
                    assert not stripped.startswith("* ")
                    assert "](" not in line and "<" not in line and "`" not in line
                assert text.count("**") % 2 == 0, (scenario.id, index, language)


def test_kindness_circle_is_simple_enough_for_young_children(
    library: dict[str, Scenario],
) -> None:
    scenario = library["kindness-circle"]
    assert scenario.audience == ["classroom"]
    checkins = [step for step in scenario.steps if isinstance(step, Checkin)]
    assert checkins
    for step in checkins:
        assert step.words is not None and 2 <= len(step.words) <= 8
        assert set(step.words) <= set(VOCABULARY)
        assert step.intensity is False
    choices = [step for step in scenario.steps if isinstance(step, Choice)]
    assert choices
    for choice in choices:
        for option in choice.options:
            assert isinstance(option.label, dict)
            for label in option.label.values():
                assert unicodedata.category(label[0]) == "So", f"no emoji on {label!r}"


def test_shipped_checkin_words_are_all_in_the_vocabulary(library: dict[str, Scenario]) -> None:
    narrowed = [
        word
        for scenario in library.values()
        for step in scenario.steps
        if isinstance(step, Checkin) and step.words is not None
        for word in step.words
    ]
    assert narrowed
    assert set(narrowed) <= set(VOCABULARY)


# --- Broken files -----------------------------------------------------------------------------

VALID = """\
id: broken
title:
  en: Broken
  fr: Cassé
  zh: 坏了
summary: {en: A test scenario, fr: Un scénario de test, zh: 测试场景}
audience: [workshop]
duration_minutes: 5
languages: [en, fr, zh]
steps:
  - kind: checkin
    prompt:
      en: How are you?
      fr: Comment allez-vous ?
      zh: 你现在感觉如何
    words: [happy, sad]
"""


def broken(tmp_path: Path, old: str, new: str) -> ScenarioError:
    """Write VALID with one change to a file, load it, and return the error it must raise."""
    assert old in VALID
    path = tmp_path / "broken.yaml"
    path.write_text(VALID.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    error = caught.value
    assert error.source == str(path)
    assert str(error).startswith(f"{path}:{error.line}: " if error.line else f"{path}: ")
    return error


def test_the_unbroken_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "fine.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load(path).id == "broken"


def test_bad_indentation_is_a_yaml_error_with_its_line(tmp_path: Path) -> None:
    error = broken(tmp_path, "      fr: Comment allez-vous ?", "     fr: Comment allez-vous ?")
    assert error.detail.startswith("not valid YAML")
    assert error.line == 14
    assert error.path == "$"


def test_a_tab_for_indentation_is_a_yaml_error_with_its_line(tmp_path: Path) -> None:
    error = broken(tmp_path, "    words:", "\twords:")
    assert error.detail.startswith("not valid YAML")
    assert "\\t" in error.detail
    assert error.line == 16


def test_an_unknown_field_names_the_field_and_its_line(tmp_path: Path) -> None:
    error = broken(tmp_path, "    words:", "    wrds:")
    assert error.path == "$.steps[0].wrds"
    assert error.path.endswith("wrds")
    assert error.line == 16
    assert "unknown field 'wrds'" in error.detail


def test_an_unknown_top_level_field_names_its_line(tmp_path: Path) -> None:
    error = broken(tmp_path, "audience: [workshop]", "audience: [workshop]\nlevel: easy")
    assert error.path == "$.level"
    assert error.line == 8


def test_a_wrong_type_names_the_field_and_its_line(tmp_path: Path) -> None:
    error = broken(tmp_path, "duration_minutes: 5", "duration_minutes: five")
    assert error.path == "$.duration_minutes"
    assert error.line == 8
    assert error.detail == "Expected `int`, got `str`"


def test_a_bare_yes_is_a_boolean_not_a_string(tmp_path: Path) -> None:
    """YAML reads an unquoted yes/no/on/off as true or false; docs/scenarios.md warns about it."""
    error = broken(tmp_path, "      en: How are you?", "      en: yes")
    assert error.path == "$.steps[0].prompt"
    assert error.line == 13
    assert error.detail.startswith("Expected `str`, got `bool`")
    assert "put the text in quotes" in error.detail


def test_an_unknown_step_kind_is_refused(tmp_path: Path) -> None:
    error = broken(tmp_path, "  - kind: checkin", "  - kind: quiz")
    assert error.path == "$.steps[0].kind"
    assert error.line == 11
    assert error.detail.startswith("Invalid value 'quiz'; expected a step kind: story, checkin")


def test_a_missing_translation_names_the_text_and_its_line(tmp_path: Path) -> None:
    error = broken(tmp_path, "      zh: 你现在感觉如何\n", "")
    assert error.path == "$.steps[0].prompt"
    assert error.line == 13  # the first line of the prompt's translations
    assert "missing translation for 'zh'" in error.detail


def test_a_missing_translation_at_the_top_is_found_too(tmp_path: Path) -> None:
    error = broken(tmp_path, "  fr: Cassé\n", "")
    assert error.path == "$.title"
    assert error.line == 3
    assert "missing translation for 'fr'" in error.detail


def test_an_unknown_emotion_word_names_the_word_and_its_line(tmp_path: Path) -> None:
    error = broken(tmp_path, "[happy, sad]", "[happy, hangry]")
    assert error.path == "$.steps[0].words[1]"
    assert error.line == 16
    assert error.detail.startswith("unknown emotion word 'hangry'")
    assert "calm" in error.detail  # the message lists what is allowed


def test_a_single_word_checkin_is_refused(tmp_path: Path) -> None:
    error = broken(tmp_path, "[happy, sad]", "[happy]")
    assert error.path == "$.steps[0].words"
    assert error.line == 16


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert caught.value.detail == "not valid YAML: aliases (*name) are not allowed"
    assert caught.value.line == 2, "refused at its first alias, before anything is expanded"
    assert caught.value.source == str(path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(VALID.encode() + b"#" * MAX_FILE_BYTES)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    size = path.stat().st_size
    assert caught.value.detail == f"file is {size} bytes; the limit is {MAX_FILE_BYTES}"
    assert caught.value.line is None
    assert caught.value.source == str(path)
    with pytest.raises(ScenarioError, match="the limit is"):
        loads(path.read_bytes(), "huge.yaml")


@pytest.mark.parametrize(
    ("document", "line"),
    [
        ("id: x\nsteps: " + "[" * 100 + "]" * 100 + "\n", 2),
        ("".join("  " * depth + f"level{depth}:\n" for depth in range(40)) + "  " * 40 + "x\n",
         20),
    ],
    ids=["flow", "block"],
)
def test_a_deeply_nested_file_is_refused_at_the_limit(document: str, line: int) -> None:
    """Refused where it passes the twentieth level (line 20 of the 41 block lines), while it is
    composed: the rest is never built."""
    with pytest.raises(ScenarioError) as caught:
        loads(document, "deep.yaml")
    assert caught.value.detail == "not valid YAML: nested deeper than 20 levels"
    assert caught.value.line == line


def test_a_very_deeply_nested_file_is_a_scenario_error() -> None:
    depth = 5_000  # 10 kB: far below the size limit
    with pytest.raises(ScenarioError, match="nested deeper"):
        loads("id: x\nsteps: " + "[" * depth + "]" * depth + "\n", "deeper.yaml")


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="file is empty"):
        load(path)


def test_a_duplicate_id_in_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_folder(tmp_path)
    assert caught.value.path == "$.id"
    assert caught.value.source == str(tmp_path / "b.yaml")
