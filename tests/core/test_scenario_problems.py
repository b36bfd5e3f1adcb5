"""Scenario mistakes as codes and parameters: each broken file gives the code a page words in its
own language, with the parameters its sentence needs, and the English sentence made from them."""

from __future__ import annotations

import pytest

from attune.core import scenario as sc
from attune.core.emotions import VOCABULARY
from attune.core.scenario_problems import ENGLISH, Param, english, from_msgspec, placeholders

HEAD = """id: codes
title: {en: Codes, fr: Codes}
summary: Codes.
audience: [workshop]
duration_minutes: 5
languages: [en, fr]
steps:
  - kind: story
    text: Sam and Noor.
    characters:
      - {id: sam, name: Sam}
"""


def found(text: str) -> list[sc.ScenarioError]:
    return sc.check(text, "codes.yaml")[1]


@pytest.mark.parametrize(("steps", "code", "params"), [
    ("  - kind: scael\n    prompt: x\n", "unknown-kind",
     {"value": "scael", "kinds": list(sc.STEP_KINDS)}),
    ("  - kind: reflect\n    promt: x\n", "unknown-field", {"field": "promt"}),
    ("  - kind: reflect\n", "missing-field", {"field": "prompt"}),
    ("  - kind: scale\n    prompt: x\n    min: low\n", "wrong-type",
     {"expected": "int", "got": "str"}),
    ("  - kind: reflect\n    prompt: yes\n", "wrong-type-bool", {"expected": "str | object"}),
    ("  - kind: timer\n    seconds: 0\n", "at-least", {"expected": "int", "limit": 1}),
    ("  - kind: checkin\n    prompt: x\n    words: [happy, hapy]\n", "unknown-word",
     {"word": "hapy", "words": sorted(VOCABULARY)}),
    ("  - kind: reflect\n    prompt: {en: x}\n", "missing-translation",
     {"language": "fr", "languages": ["en", "fr"]}),
    ("  - kind: reflect\n    prompt: {en: x, fr: ' '}\n", "empty-text", {"language": "fr"}),
    ("  - kind: reflect\n    prompt: {en: x, fr: x, de: x}\n", "unknown-language",
     {"language": "de", "languages": list(sc.LANGUAGES)}),
    ("  - kind: perspective\n    prompt: x\n    character: Noor\n", "unknown-character",
     {"name": "Noor", "known": ["Sam", "sam"]}),
    ("  - kind: scale\n    prompt: x\n    min: 5\n    max: 1\n", "scale-range", {}),
    ("  - kind: scale\n    prompt: x\n    compare: nowhere\n", "compare-unknown",
     {"ref": "nowhere", "kind": "scale", "known": []}),
    ("  - kind: perspective\n    prompt: x\n    characters: [sam]\n    assign: each\n",
     "too-few-characters", {}),
])
def test_each_mistake_has_a_code_and_its_parameters(
    steps: str, code: str, params: dict[str, object],
) -> None:
    errors = found(HEAD + steps)
    codes = [(e.code, e.params) for e in errors]
    assert (code, params) in codes, codes
    error = next(e for e in errors if e.code == code)
    assert error.detail == english(code, error.params)
    assert set(error.params) == placeholders(code)


def test_the_english_sentence_is_unchanged_for_the_cli_and_the_api() -> None:
    (error,) = found(HEAD + "  - kind: scale\n    prompt: x\n    compare: nowhere\n")
    assert error.detail == ("no earlier step has the id 'nowhere' (earlier scale steps with an "
                            "id: none; give the first step an id: line)")
    assert str(error).startswith("codes.yaml:14: no earlier step")


def test_a_file_that_is_not_yaml_or_is_empty_has_a_code() -> None:
    (broken,) = found("id: x\n  title: y\n")
    assert broken.code == "not-yaml-indent"
    assert set(broken.params) == {"detail"}
    (empty,) = found("")
    assert (empty.code, empty.params) == ("empty-file", {})
    (large,) = found("#" * (sc.MAX_FILE_BYTES + 1))
    assert large.code == "file-too-large"
    assert large.params == {"size": sc.MAX_FILE_BYTES + 1, "limit": sc.MAX_FILE_BYTES}


@pytest.mark.parametrize(("message", "code", "params"), [
    ("Expected `int | null`, got `str`", "wrong-type", {"expected": "int | null", "got": "str"}),
    ("Expected `str` of length <= 3", "length-at-most", {"expected": "str", "limit": 3}),
    ("Expected `array` of length >= 2", "length-at-least", {"expected": "array", "limit": 2}),
    ("Expected `float` > 0.0", "above", {"expected": "float", "limit": 0}),
    ("Expected `int` <= 3600", "at-most", {"expected": "int", "limit": 3600}),
    ("Invalid enum value 'class'", "not-a-choice", {"value": "class"}),
    ("Something msgspec says one day", "invalid", {"detail": "Something msgspec says one day"}),
])
def test_msgspec_messages_are_read_as_codes(
    message: str, code: str, params: dict[str, object],
) -> None:
    assert from_msgspec(message) == (code, params)


def test_every_sentence_names_only_parameters() -> None:
    for code, sentence in ENGLISH.items():
        sample: dict[str, Param] = {name: ["a", "b"] for name in placeholders(code)}
        assert "{" not in english(code, sample), (code, sentence)
