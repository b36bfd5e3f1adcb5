"""Theme bookkeeping for free-text steps: which card is in which theme, under what label.

Grouping answers into themes needs a sentence-embedding model (``attune.themes``, an optional
extra). Its numbers can differ in the last bits between machines, so the model runs once, on the
node of the facilitator who asked, and its *result* goes into the session log as a ``Themed``
entry: labelled lists of card ids. From there everything is this module: plain, synchronous,
deterministic functions folded over the log, so every node (and every replay) shows the same
themes, and the facilitator's edits (rename, merge, split, move a card) are log entries too.

Theme ids are ``t1``, ``t2``... counted per step over the whole log and never reused, so an edit
aimed at a theme that a regrouping replaced is refused instead of hitting a stranger.

What the room sees (``view``): themes with fewer cards than the minimum-responses threshold are
folded into "other", as are cards no theme holds (answers that arrived after the grouping, or
moved there by hand). Moderated (hidden) cards reach the facilitator only.

On a step that hands characters out (``assign: each``), each character's answers are grouped
apart: every theme belongs to one character (``Theme.character``), a grouping holds each
character's themes side by side, and no edit mixes two characters (a merge across them or a
card moved into another character's theme is refused). Without characters ``character`` is None.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from attune.core import protocol as p
from attune.core.errors import Refused

OTHER = "other"
"""The id a card is moved to to take it out of every theme."""
MAX_THEMES = 8
"""A projector holds this many labelled groups legibly at 1280x720; the grouper asks for no more."""
CHARACTER_THEMES = 4
"""Themes per character on a step that hands characters out: each is a column of the projector,
side by side with the others, and a column holds about four groups legibly."""
LABEL_LENGTH = 60


class Seed(msgspec.Struct, forbid_unknown_fields=True):
    """One theme as the grouper found it: a label and its cards, most central first."""

    label: Annotated[str, msgspec.Meta(max_length=LABEL_LENGTH)]
    cards: list[str]
    character: str | None = None
    """The character whose answers these are, on a step that hands characters out."""


class Grouped(msgspec.Struct, tag="grouped", forbid_unknown_fields=True):
    """A fresh grouping of the whole step; replaces every theme and edit before it."""

    seeds: list[Seed]
    model: str
    """The model and parameters that made it, shown in the export."""


class Divided(msgspec.Struct, tag="divided", forbid_unknown_fields=True):
    """One theme split in parts: the first part keeps the theme's id and label."""

    theme: str
    seeds: list[Seed]


Change = Grouped | Divided


class Theme:
    __slots__ = ("cards", "character", "id", "label")

    def __init__(self, id: str, label: str, cards: list[str],
                 character: str | None = None) -> None:
        self.id = id
        self.label = label
        self.cards = cards
        self.character = character


class ThemeBook:
    """The themes of one free-text step. Mutated only through the methods below, in log order."""

    def __init__(self) -> None:
        self.themes: dict[str, Theme] = {}
        self.of: dict[str, str] = {}
        """Card id to the theme holding it."""
        self.model = ""
        self.counter = 0
        self.edited = False
        """A facilitator changed the grouping by hand since it was made."""

    @property
    def grouped(self) -> bool:
        return bool(self.model)

    def _new(self, seed: Seed, character: str | None) -> Theme:
        self.counter += 1
        theme = Theme(f"t{self.counter}", seed.label[:LABEL_LENGTH], [], character)
        self.themes[theme.id] = theme
        return theme

    def _place(self, theme: Theme, cards: list[str]) -> None:
        for card in cards:
            if card in self.of:
                continue
            self.of[card] = theme.id
            theme.cards.append(card)

    def apply(self, change: Change) -> None:
        match change:
            case Grouped():
                self.themes.clear()
                self.of.clear()
                self.model = change.model
                self.edited = False
                most = CHARACTER_THEMES if any(seed.character for seed in change.seeds) \
                    else MAX_THEMES
                taken: dict[str | None, int] = {}
                for seed in change.seeds:
                    taken[seed.character] = taken.get(seed.character, 0) + 1
                    if taken[seed.character] <= most:
                        self._place(self._new(seed, seed.character), seed.cards)
            case Divided():
                theme = self._theme(change.theme)
                if len(change.seeds) < 2:
                    raise Refused("no-such-theme", "A split needs at least two parts.")
                moved = {c for seed in change.seeds[1:] for c in seed.cards if c in theme.cards}
                theme.cards = [c for c in theme.cards if c not in moved]
                for card in moved:
                    del self.of[card]
                for seed in change.seeds[1:]:
                    part = self._new(seed, theme.character)  # a part stays with its character
                    self._place(part, [c for c in seed.cards if c in moved])
                    if not part.cards:
                        del self.themes[part.id]
                self.edited = True

    def rename(self, theme: str, label: str) -> None:
        self._theme(theme).label = label.strip()[:LABEL_LENGTH]
        self.edited = True

    def merge(self, theme: str, into: str) -> None:
        """Fold ``theme`` into ``into``: its cards follow ``into``'s own, its label goes."""
        if theme == into:
            raise Refused("no-such-theme", "A theme cannot be merged into itself.")
        source, target = self._theme(theme), self._theme(into)
        if source.character != target.character:
            raise Refused("no-such-theme", "Themes of two characters cannot be merged.")
        for card in source.cards:
            self.of[card] = target.id
        target.cards.extend(source.cards)
        del self.themes[source.id]
        self.edited = True

    def move(self, card: str, theme: str, character: str | None = None) -> None:
        """Put ``card`` (an answer as ``character``) at the end of ``theme``, or in no theme for
        ``OTHER``."""
        target = None if theme == OTHER else self._theme(theme)
        if target is not None and target.character != character:
            raise Refused("no-such-theme", "That theme holds another character's answers.")
        current = self.of.pop(card, None)
        if current is not None:
            self.themes[current].cards.remove(card)
        if target is not None:
            self.of[card] = target.id
            target.cards.append(card)
        self.edited = True

    def _theme(self, theme: str) -> Theme:
        found = self.themes.get(theme)
        if found is None:
            raise Refused("no-such-theme", f"No theme {theme} on this step.")
        return found

    def cards_of(self, theme: str) -> list[str]:
        return list(self._theme(theme).cards)

    def needs_grouping(self, cards: set[str]) -> bool:
        """On reveal: group when nothing is grouped yet, or when answers arrived since and no one
        has edited the grouping by hand (a regroup would throw their edits away)."""
        if not self.grouped:
            return True
        return not self.edited and any(card not in self.of for card in cards)

    def view(self, cards: set[str], hidden: set[str], threshold: int,
             moderator: bool, character: str | None = None) -> p.Themes | None:
        """The themes as one audience may see them, or None before any grouping.

        ``cards`` are the cards the step holds now (answers withdrawn since the grouping drop
        out), or on a step that hands characters out those of ``character``, whose themes
        alone are shown. A theme below ``threshold`` is folded into "other" for the room; the
        facilitator still sees it, marked ``folded``, so they can merge or rename it.
        """
        if not self.grouped:
            return None
        shown = cards if moderator else cards - hidden
        themes: list[p.ThemeView] = []
        other: list[str] = []
        for theme in self.themes.values():
            if theme.character != character:
                continue
            present = [card for card in theme.cards if card in shown]
            folded = len(present) < threshold
            if folded and not moderator:
                other.extend(present)
                continue
            if present or moderator:
                themes.append(p.ThemeView(id=theme.id, label=theme.label, cards=present,
                                          folded=folded))
        other.extend(sorted(card for card in shown if card not in self.of))
        themes.sort(key=lambda t: (t.folded, -len(t.cards), t.id))
        return p.Themes(model=self.model, themes=themes, other=other)
