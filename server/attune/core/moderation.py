"""Moderation of free-text cards: which card the room may see, and which wait for the facilitator.

Two rules, both pure:

- ``Lexicon.flag`` reads a card and says ``"abuse"`` (an insult or slur from the word lists in
  ``core/data/lexicon/``, plus an operator's file) or ``"distress"`` (a phrase that reads like
  someone in distress), or nothing. A node calls it once, before appending the answer, and the
  flag is written into the log entry, so every node folds the same decision even if their word
  lists differ.
- ``shown`` decides whether a card reaches the projector, the word cloud and the export. A card
  reaches the room only when the facilitator approved it, or when the session has no queue and
  nothing flagged it; a hidden card never does. A distress card is never approved for the room:
  it is held for the facilitator only, with safeguarding guidance, and the writer's phone privately
  shows where help is (``help_text``).

The distress lists are a safety net, not a diagnosis (see ``core/data/lexicon/README.md``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import yaml

Flag = Literal["abuse", "distress"]

DATA = Path(__file__).parent / "data" / "lexicon"
LANGUAGES: Final = ("en", "fr", "zh")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_ASCII = re.compile(r"^[\x00-\x7f]+$")

DEFAULT_HELP: Final[dict[str, str]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "help.yaml").read_text(encoding="utf-8")
)
"""What the writer of a distress card sees on their phone, unless the scenario or the operator
says otherwise: talk to someone here, a free line, and the emergency number."""


def help_text(language: str, scenario: str | None, operator: str | None) -> str:
    """The help shown privately to a writer in distress: the scenario's, else the operator's,
    else the default for the session's language."""
    return scenario or operator or DEFAULT_HELP.get(language, DEFAULT_HELP["en"])


def normalize(text: str) -> str:
    """Casefolded, full-width folded (NFKC), accents removed, apostrophes as spaces."""
    if text.isascii():
        return text.lower().replace("'", " ")  # the Unicode steps leave ASCII as it is
    folded = unicodedata.normalize("NFKC", text).casefold().replace("'", " ").replace("\u2019", " ")
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c)
    )
    return unicodedata.normalize("NFC", stripped)


def _tokens(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


@dataclass
class Words:
    """One list: single words in a set, phrases as space-joined token runs (kept with a space on
    each side, as they are looked for: every free-text answer is read against each), and
    (Chinese) substrings."""

    single: set[str] = field(default_factory=set)
    phrases: list[str] = field(default_factory=list)
    substrings: list[str] = field(default_factory=list)

    def add(self, entry: str, substring: bool) -> None:
        if substring:
            text = _SPACE.sub("", normalize(entry))
            # One character, or Latin letters and digits, match ordinary words as substrings.
            if len(text) > 1 and not _ASCII.match(text):
                self.substrings.append(text)
            return
        tokens = _tokens(entry)
        if len(tokens) == 1:
            self.single.add(tokens[0])
        elif tokens:
            self.phrases.append(f" {' '.join(tokens)} ")

    def found(self, tokens: list[str], joined: str, compact: str) -> bool:
        for token in tokens:
            if token in self.single or (
                len(token) > 4 and token.endswith("s") and token[:-1] in self.single
            ):
                return True
        if any(phrase in joined for phrase in self.phrases):
            return True
        return any(s in compact for s in self.substrings)


def _entries(lines: Iterable[str]) -> Iterable[str]:
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if entry:
            yield entry


class Lexicon:
    """The word lists of one node: built in, plus an operator's file."""

    def __init__(self) -> None:
        self.abuse: dict[str, Words] = {language: Words() for language in LANGUAGES}
        self.distress = Words()
        self.extra = Words()
        """Operator's abuse entries, for every language."""

    @classmethod
    def builtin(cls, extra: Path | None = None) -> Lexicon:
        lexicon = cls()
        for language in LANGUAGES:
            substring = language == "zh"
            for name in (f"ldnoobw-{language}.txt", f"insults-{language}.txt"):
                for entry in _entries((DATA / name).read_text(encoding="utf-8").splitlines()):
                    lexicon.abuse[language].add(entry, substring)
            # Distress is looked for in every language: a French card in an English session too.
            path = DATA / f"distress-{language}.txt"
            for entry in _entries(path.read_text(encoding="utf-8").splitlines()):
                lexicon.distress.add(entry, substring)
        if extra is not None:
            lexicon.extend(extra.read_text(encoding="utf-8").splitlines())
        return lexicon

    def extend(self, lines: Iterable[str]) -> None:
        """An operator's file: abuse entries, and after a ``[distress]`` line distress phrases
        (``[abuse]`` switches back). Entries with Chinese characters match as substrings."""
        target = self.extra
        for entry in _entries(lines):
            section = entry.lower()
            if section in ("[abuse]", "[distress]"):
                target = self.extra if section == "[abuse]" else self.distress
                continue
            target.add(entry, substring=not _ASCII.match(entry) and _has_cjk(entry))

    def flag(self, text: str, language: str) -> Flag | None:
        """``"distress"`` before ``"abuse"``: a card can be both, and care comes first."""
        normal = normalize(text)
        tokens = _WORD.findall(normal)
        joined = f" {' '.join(tokens)} "
        compact = _SPACE.sub("", normal)
        if self.distress.found(tokens, joined, compact):
            return "distress"
        words = self.abuse.get(language, self.abuse["en"])
        if words.found(tokens, joined, compact) or self.extra.found(tokens, joined, compact):
            return "abuse"
        return None


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in text)


def shown(*, queue: bool, approved: bool, hidden: bool, flag: Flag | None) -> bool:
    """Whether the room may see a card: never hidden, never distress; approved, or with no
    queue and no flag."""
    if hidden or flag == "distress":
        return False
    return approved or (not queue and flag is None)
