"""Live aggregates: one tally per answer step, updated in O(1) per answer, viewed on demand.

A participant may change an answer while responses are open, so every tally can ``remove`` the
contribution it ``add``-ed before. Tallies hold counts and sums, never who answered what; the
session keeps each participant's current answer and feeds old and new values in here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Protocol

from attune.core import moderation
from attune.core import protocol as p
from attune.core.emotions import QUADRANTS, VOCABULARY
from attune.core.words import MAX_WORDS, words


class Tally(Protocol):
    """``add`` counts in one call (every answer comes through it: the counting tallies take a
    ``sign`` and ``remove`` is ``add`` with -1, rather than both calling a helper)."""

    count: int

    def add(self, value: p.AnswerValue, card: str) -> None: ...

    def remove(self, value: p.AnswerValue, card: str) -> None: ...

    def view(self, moderator: bool) -> p.AnyAggregate: ...


def _axis_index(value: int) -> int:
    """Grid index of an axis value in -5..-1, 1..5 (0 is never a position)."""
    return value + 5 if value < 0 else value + 4


class CheckinTally:
    __slots__ = ("count", "grid", "intensities", "quadrants", "sum_e", "sum_intensity", "sum_p",
                 "words")

    def __init__(self) -> None:
        self.count = 0
        self.words: Counter[str] = Counter()
        self.quadrants: Counter[str] = Counter()
        self.sum_p = 0
        self.sum_e = 0
        self.sum_intensity = 0
        self.intensities = 0
        self.grid = [[0] * 10 for _ in range(10)]

    def add(self, value: p.AnswerValue, card: str, sign: int = 1) -> None:
        assert isinstance(value, p.CheckinValue)
        emotion = VOCABULARY[value.word]
        self.count += sign
        self.words[value.word] += sign
        self.quadrants[emotion.quadrant] += sign
        self.sum_p += sign * emotion.p
        self.sum_e += sign * emotion.e
        self.grid[9 - _axis_index(emotion.e)][_axis_index(emotion.p)] += sign
        if value.intensity is not None:
            self.sum_intensity += sign * value.intensity
            self.intensities += sign

    def remove(self, value: p.AnswerValue, card: str) -> None:
        self.add(value, card, -1)

    def view(self, moderator: bool) -> p.CheckinAggregate:
        n = max(self.count, 1)
        return p.CheckinAggregate(
            count=self.count,
            words={w: c for w, c in self.words.items() if c > 0},
            quadrants={q: self.quadrants[q] for q in QUADRANTS},
            mean_pleasantness=round(self.sum_p / n, 2),
            mean_energy=round(self.sum_e / n, 2),
            mean_intensity=(
                round(self.sum_intensity / self.intensities, 2) if self.intensities else None
            ),
            grid=[row[:] for row in self.grid],
        )

    def top_quadrant(self) -> str:
        return max(QUADRANTS, key=lambda q: self.quadrants[q])


class ScaleTally:
    __slots__ = ("count", "high", "histogram", "low", "squares", "total")

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high
        self.count = 0
        self.total = 0.0
        self.squares = 0.0
        self.histogram = [0] * (high - low + 1)

    def add(self, value: p.AnswerValue, card: str, sign: int = 1) -> None:
        assert isinstance(value, p.ScaleValue)
        number = value.value
        self.count += sign
        self.total += sign * number
        self.squares += sign * number * number
        self.histogram[round(number) - self.low] += sign

    def remove(self, value: p.AnswerValue, card: str) -> None:
        self.add(value, card, -1)

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def view(self, moderator: bool) -> p.ScaleAggregate:
        mean = self.mean()
        variance = max(self.squares / self.count - mean * mean, 0.0) if self.count else 0.0
        return p.ScaleAggregate(
            count=self.count,
            min=self.low,
            max=self.high,
            histogram=self.histogram[:],
            mean=round(mean, 2),
            median=self._median(),
            stdev=round(math.sqrt(variance), 2),
        )

    def _median(self) -> float:
        """Median from the histogram: O(range), and the range is at most 101 values."""
        if not self.count:
            return 0.0
        middle = [(self.count - 1) // 2, self.count // 2]
        found: list[int] = []
        seen = 0
        for offset, n in enumerate(self.histogram):
            while middle and middle[0] < seen + n:
                found.append(self.low + offset)
                middle.pop(0)
            seen += n
        return (found[0] + found[1]) / 2


class ChoiceTally:
    __slots__ = ("count", "options")

    def __init__(self, options: list[str]) -> None:
        self.count = 0
        self.options: dict[str, int] = dict.fromkeys(options, 0)

    def add(self, value: p.AnswerValue, card: str, sign: int = 1) -> None:
        assert isinstance(value, p.ChoiceValue)
        self.count += sign
        for option in value.options:
            self.options[option] += sign

    def remove(self, value: p.AnswerValue, card: str) -> None:
        self.add(value, card, -1)

    def view(self, moderator: bool) -> p.ChoiceAggregate:
        return p.ChoiceAggregate(count=self.count, options=dict(self.options))

    def top(self) -> str:
        return max(self.options, key=lambda o: self.options[o])


class TextTally:
    """Free-text cards keyed by an opaque card id, in id order: shuffled, stable, untimed.

    Which cards the room sees is ``moderation.shown``; the word cloud counts those only, and is
    kept in step whenever a card's standing changes. ``language`` (the session's) chooses the
    stop words of the word cloud."""

    def __init__(self, language: str = "en", queue: bool = False) -> None:
        self.language = language
        self.queue = queue
        """The session's moderation queue: cards wait for approval."""
        self.count = 0
        self.cards: dict[str, str] = {}
        self.hidden: set[str] = set()
        self.approved: set[str] = set()
        self.flags: dict[str, moderation.Flag] = {}
        self.words: Counter[str] = Counter()

    def shown(self, card: str) -> bool:
        return card in self.cards and moderation.shown(
            queue=self.queue, approved=card in self.approved, hidden=card in self.hidden,
            flag=self.flags.get(card),
        )

    def _change(self, card: str, change: Callable[[], None]) -> None:
        before = self.shown(card)
        change()
        after = self.shown(card)
        if before != after:
            tokens = words(self.cards[card], self.language)
            (self.words.update if after else self.words.subtract)(tokens)

    def mark(self, card: str, flag: moderation.Flag | None) -> None:
        """The lexicon's flag for the text about to be added under ``card``."""
        if flag is None:
            self.flags.pop(card, None)
        else:
            self.flags[card] = flag

    def add(self, value: p.AnswerValue, card: str) -> None:
        assert isinstance(value, p.TextValue)
        self.count += 1
        self.cards[card] = value.text
        if self.shown(card):
            self.words.update(words(value.text, self.language))

    def remove(self, value: p.AnswerValue, card: str) -> None:
        """An edit or a leave: the text goes, and so does its approval (a new text is read
        again); a hidden card stays hidden even if edited."""
        assert isinstance(value, p.TextValue)
        if self.shown(card):
            self.words.subtract(words(value.text, self.language))
        self.count -= 1
        del self.cards[card]
        self.approved.discard(card)
        self.flags.pop(card, None)

    def hide(self, card: str, hidden: bool) -> None:
        """Moderation: a hidden card leaves the cards and the word cloud, even if later edited."""
        self._change(card, lambda: (self.hidden.add if hidden else self.hidden.discard)(card))

    def approve(self, card: str) -> None:
        def change() -> None:
            self.approved.add(card)
            self.hidden.discard(card)

        self._change(card, change)

    def waiting(self) -> list[str]:
        """Cards in the queue with no flag: what "approve all" approves."""
        return [card for card in sorted(self.cards) if not self.shown(card)
                and card not in self.hidden and card not in self.flags]

    def held(self, card: str) -> p.CardHold | None:
        if self.shown(card):
            return None
        flag = self.flags.get(card)
        if flag is not None:
            return flag
        return None if card in self.hidden else "queue"

    def view(self, moderator: bool) -> p.TextAggregate:
        cards = [
            p.Card(id=card, text=text, hidden=card in self.hidden,
                   held=self.held(card) if moderator else None)
            for card, text in sorted(self.cards.items())
            if moderator or self.shown(card)
        ]
        common = [(w, c) for w, c in self.words.most_common(MAX_WORDS) if c > 0]
        held = sum(1 for card in cards if card.held is not None and not card.hidden)
        return p.TextAggregate(count=self.count, cards=cards, words=common, held=held)
