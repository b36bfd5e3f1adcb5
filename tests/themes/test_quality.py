"""How well the grouper finds the themes people wrote for: tests/data/themes/noor.yaml.

162 short answers to one story, in English, French and Chinese, each written for one of six
themes. A change of model, clustering or parameters is measured here: purity (the share of
answers in a theme whose majority they share), the adjusted Rand index against the written
themes, and how many themes came out. Runs the worker's functions in this process.
"""

from __future__ import annotations

from collections import Counter
from math import comb

import pytest
import yaml

from attune.core import themes as th
from attune.themes import worker
from tests.support.paths import DATA

LABELLED = DATA / "themes" / "noor.yaml"


def labelled() -> tuple[list[str], list[str], list[str]]:
    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    texts, themes, languages = [], [], []
    for theme, by_language in data["answers"].items():
        for language, answers in by_language.items():
            for text in answers:
                texts.append(text)
                themes.append(theme)
                languages.append(language)
    return texts, themes, languages


def purity(found: list[int], truth: list[str]) -> float:
    majority = 0
    for theme in set(found):
        majority += Counter(t for f, t in zip(found, truth, strict=True) if f == theme) \
            .most_common(1)[0][1]
    return majority / len(truth)


def adjusted_rand(found: list[int], truth: list[str]) -> float:
    pairs = sum(comb(n, 2) for n in Counter(zip(found, truth, strict=True)).values())
    a = sum(comb(n, 2) for n in Counter(found).values())
    b = sum(comb(n, 2) for n in Counter(truth).values())
    expected = a * b / comb(len(truth), 2)
    return (pairs - expected) / ((a + b) / 2 - expected)


@pytest.fixture(scope="module")
def grouped() -> tuple[list[worker.Part], list[str], list[str], list[str]]:
    worker.init()
    texts, truth, languages = labelled()
    return worker.group(texts, th.MAX_THEMES, min_size=3), texts, truth, languages


def test_the_set_is_big_enough_and_trilingual() -> None:
    texts, truth, languages = labelled()
    assert len(texts) >= 150 and len(set(texts)) == len(texts)
    assert Counter(languages) == {"en": 54, "fr": 54, "zh": 54}
    assert len(set(truth)) == 6


def test_themes_match_what_people_wrote_across_languages(
    grouped: tuple[list[worker.Part], list[str], list[str], list[str]],
) -> None:
    parts, texts, truth, languages = grouped
    found = [0] * len(texts)
    for number, (_, members) in enumerate(parts):
        for i in members:
            found[i] = number
    assert sorted(i for _, members in parts for i in members) == list(range(len(texts)))
    score, rand = purity(found, truth), adjusted_rand(found, truth)
    print(f"themes={len(parts)} purity={score:.3f} adjusted_rand={rand:.3f}")
    assert len(parts) <= th.MAX_THEMES
    assert score >= 0.8
    assert rand >= 0.7
    # A theme is about meaning, not language: each one gathers answers in all three.
    for _, members in parts:
        if len(members) >= 9:
            assert {languages[i] for i in members} == {"en", "fr", "zh"}


def test_labels_are_key_words_of_the_theme(
    grouped: tuple[list[worker.Part], list[str], list[str], list[str]],
) -> None:
    parts, texts, _, _ = grouped
    for label, members in parts:
        words = label.split(" · ")
        assert 1 <= len(words) <= worker.LABEL_WORDS and len(label) <= th.LABEL_LENGTH
        theme_text = " ".join(texts[i].lower() for i in members)
        assert all(word in theme_text for word in words), (label, members[:3])
