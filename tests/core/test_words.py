"""The word-cloud tokenizer and its tally: one count per answer, clitics, stop words, Chinese."""

from __future__ import annotations

from attune.core import protocol as p
from attune.core.aggregate import TextTally
from attune.core.words import words


def test_a_word_counts_once_per_answer() -> None:
    tally = TextTally()
    tally.add(p.TextValue(text="I'll apologise. I'll apologise. I'll apologise, I promise."), "a")
    tally.add(p.TextValue(text="The deadline scared me"), "b")
    tally.add(p.TextValue(text="deadline again"), "c")
    counts = dict(tally.view(moderator=False).words)
    assert counts["apologise"] == 1
    assert counts["deadline"] == 2
    tally.remove(p.TextValue(text="deadline again"), "c")
    assert dict(tally.view(moderator=False).words)["deadline"] == 1


def test_english_contractions_leave_no_fragments() -> None:
    found = words("I'll go, they're late, Sam's sad, I don't know, we've tried, she'd cry, "
                  "I\u2019m done")
    assert not {"ll", "re", "ve", "d", "m", "s", "t", "don"} & set(found)
    assert {"sam", "sad", "late", "tried", "cry", "done"} <= set(found)


def test_french_elisions_keep_the_word() -> None:
    found = words("L'ami qu'ils attendaient n'écoute jamais ; j\u2019aurais aimé qu'on m'écoute",
                  "fr")
    assert {"ami", "attendaient", "écoute", "jamais", "aimé"} <= set(found)
    assert not any("'" in word for word in found)


def test_stop_words_from_the_list_and_feeling_words_kept() -> None:
    found = words("I feel like the team really ignored me and I was alone, sorry")
    assert {"team", "ignored", "alone", "sorry"} <= set(found)
    assert not {"feel", "like", "the", "really", "me", "and", "was"} & set(found)
    assert "personne" in words("Personne ne m'écoute", "fr")
    assert not {"le", "de"} & set(words("le chef de projet", "fr"))


def test_chinese_is_segmented_into_dictionary_words() -> None:
    found = words("设计师能不能试着同情一下项目经理", "zh")
    assert {"设计师", "同情", "项目经理"} <= set(found)
    assert not {"计师", "能一", "试同", "一下"} & set(found)
    assert words("我觉得不知所措\uff0c不想让 the Sam 看出来", "zh")[:1] == ["不知所措"]
    assert "累" in words("我太累了", "zh")
    assert "的" not in words("我的同事", "zh")
