"""Words for the word cloud: the distinct meaningful words of one free-text answer, in en, fr, zh.

A word counts once per answer, so one person repeating a phrase cannot make it the room's
biggest word. Latin-script text splits on letters; apostrophes (straight or typographic) are
read as clitics: French elisions keep the word ("l'ami", "qu'ils", "j'aurais" give "ami", "ils",
"aurais"), English contractions keep the stem ("Sam's" gives "sam", "they'll" gives "they") or
the whole negation ("doesn't"), and stop words then drop what carries no meaning. Chinese has no
spaces: runs of Han characters are segmented into words by jieba (its Rust port, ``rjieba``, same
dictionary, a tenth of the install and an eighth of the time per answer; see
docs/ui.md, "The word cloud").

Stop words are maintained lists, chosen per language by measurement (docs/ui.md, "The word
cloud"): for English the classic function-word list of the ``stopwords`` package (174 words),
because stopwords-iso's English list (1,298) also drops "alone", "sorry", "help", "cry", "work";
for French and Chinese stopwords-iso (``stopwordsiso``). English function words are dropped in
every session, since answers mix languages. FILLER is our own short list of the words feeling
talk is full of ("feel", "think", "really", "觉得"); KEEP puts back the few feeling words a list
drops ("personne", "seule", "toujours").

Deterministic and pure: every node folding the same log derives the same counts.
"""

from __future__ import annotations

import re
import unicodedata

import rjieba
import stopwords  # type: ignore[import-untyped]
import stopwordsiso

MAX_WORDS = 50
"""How many words a word cloud holds at most, most frequent first."""

FILLER = frozenset("""
feel feels feeling felt think thinks thinking thought know knew just like really maybe bit lot
kind sort thing things something someone somebody guess probably actually right today also get
gets got make made go going gonna wanna yeah okay ok oh well still even much way
sens sent sentir ressens ressent pense pensé penser crois croire sais savoir juste vraiment
peut-être truc trucs chose choses quelque fait faire trop ai as avais aurais suis étais veux
觉得 感觉 知道 就是 真的 可能 有点 一点 一下 什么 这样 那样
现在 其实 因为 所以 但是 然后 还是 应该 已经 自己
""".split())

KEEP = frozenset("""
alone sorry good bad better worse help need want wish ignored nobody never always nothing
everything unfair
seul seule seuls seules pire mieux personne jamais toujours aide besoin envie désolé désolée rien
累 怕 烦 痛 气 急 慌 愁 哭 笑 恨 爱 困 闷 难
""".split())
"""Words to count although a generic stop-word list drops them (or, in Chinese, although they
are one character): in feeling talk they are the point."""

_LISTS: dict[str, frozenset[str]] = {
    "en": frozenset(stopwords.get_stopwords("english")) - {""},
    "fr": frozenset(stopwordsiso.stopwords("fr")),
    "zh": frozenset(stopwordsiso.stopwords("zh")),
}
STOP_WORDS: dict[str, frozenset[str]] = {
    language: (listed | _LISTS["en"] | FILLER) - KEEP for language, listed in _LISTS.items()
}
"""The words left out of a session's word cloud, by session language."""

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'"})
_TOKEN = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*|[\u3400-\u9fff]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff]")
_ELISIONS = frozenset("c d j l m n s t qu jusqu lorsqu puisqu quoiqu presqu".split())
_ENGLISH_CLITICS = frozenset("s ll re ve d m".split())


def words(text: str, language: str = "en") -> list[str]:
    """The distinct meaningful words of one answer, lower-cased, in order of first use."""
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    seen: dict[str, None] = {}
    normal = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    for token in _TOKEN.findall(normal):
        if _HAN.match(token):
            for word in _segment(token):
                if (len(word) > 1 or word in KEEP) and word not in stop:
                    seen.setdefault(word, None)
            continue
        for part in _clitics(token, stop):
            if 1 < len(part) <= 40 and part not in stop:
                seen.setdefault(part, None)
    return list(seen)


def _clitics(token: str, stop: frozenset[str]) -> list[str]:
    """A Latin token read around its apostrophes: elided articles and English clitics drop."""
    if "'" not in token:
        return [token]
    if token in stop:
        return []
    head, _, tail = token.partition("'")
    if head in _ELISIONS:
        return _clitics(tail, stop)
    if tail in _ENGLISH_CLITICS:
        return [head]
    return [token]


def _segment(run: str) -> list[str]:
    """jieba's dictionary words of a run of Han characters (loaded on the first, in 0.2 s).
    Without its HMM guesses for unknown words: on short answers they glue a pronoun to its verb
    ("我太累", "我怕") more often than they find a name."""
    return rjieba.cut(run, False)
