"""The web UI's messages: the same keys in en, fr and zh, and words for every wire error code, so
a refusal is never shown to a participant as a raw key such as ``error.too-few-ready``."""

from __future__ import annotations

import json
import re

import pytest

from attune.core.errors import ERROR_CODES
from attune.core.scenario_problems import ENGLISH, placeholders
from tests.support.paths import ROOT

I18N = ROOT / "web" / "i18n"
LANGUAGES = ("en", "fr", "zh")
MESSAGES = {lang: json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
            for lang in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_key_in_every_language(language: str) -> None:
    english, other = set(MESSAGES["en"]), set(MESSAGES[language])
    assert not english - other, f"missing in {language}: {sorted(english - other)}"
    assert not other - english, f"only in {language}: {sorted(other - english)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_error_code_has_words(language: str) -> None:
    missing = [code for code in ERROR_CODES if f"error.{code}" not in MESSAGES[language]]
    assert not missing, f"{language} has no message for {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_english(language: str) -> None:
    """A translation that drops or renames ``{count}`` shows the braces to the room."""
    def names(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", text))
    wrong = [key for key, text in MESSAGES[language].items()
             if isinstance(text, str) and names(text) != names(MESSAGES["en"].get(key, ""))]
    assert not wrong, f"{language}: placeholders differ from English in {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_scenario_problem_has_words_with_its_parameters(language: str) -> None:
    """The editor words a scenario's mistakes by code (web/js/problems.js): every code the
    server can send has a sentence, naming the same parameters as the English one."""
    missing = [code for code in ENGLISH if f"scenario.{code}" not in MESSAGES[language]]
    assert not missing, f"{language} has no words for {missing}"
    wrong = [code for code in ENGLISH
             if set(re.findall(r"\{(\w+)\}", MESSAGES[language][f"scenario.{code}"]))
             != placeholders(code)]
    assert not wrong, f"{language}: parameters differ from the server's in {wrong}"
