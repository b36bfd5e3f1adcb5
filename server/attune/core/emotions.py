"""The emotion vocabulary: words placed on a pleasantness x energy grid, as in the Mood Meter.

Kept as data (``data/emotions.yaml``) so that translators and facilitators can read and extend it;
loaded once at import because every check-in step and every aggregate refers to it.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Literal

import msgspec
import yaml

Axis = Annotated[int, msgspec.Meta(ge=-5, le=5)]
Quadrant = Literal["high-unpleasant", "high-pleasant", "low-unpleasant", "low-pleasant"]
QUADRANTS: tuple[Quadrant, ...] = (
    "high-unpleasant", "high-pleasant", "low-unpleasant", "low-pleasant",
)


class Emotion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    p: Axis
    """Pleasantness, -5 (very unpleasant) to +5 (very pleasant), never 0."""
    e: Axis
    """Energy, -5 (very low) to +5 (very high), never 0."""
    en: str
    fr: str
    zh: str

    @property
    def quadrant(self) -> Quadrant:
        return QUADRANTS[(0 if self.e > 0 else 2) + (1 if self.p > 0 else 0)]

    def label(self, language: str) -> str:
        return str(getattr(self, language, self.en))


def _load() -> dict[str, Emotion]:
    raw = resources.files("attune.core").joinpath("data/emotions.yaml").read_bytes()
    words = msgspec.convert(yaml.safe_load(raw), dict[str, Emotion])
    zero = [word for word, emotion in words.items() if emotion.p == 0 or emotion.e == 0]
    if zero:
        raise ValueError(f"emotion words on an axis (0 is not a position): {zero}")
    return words


VOCABULARY: dict[str, Emotion] = _load()
