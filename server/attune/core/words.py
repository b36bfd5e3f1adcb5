"""Words for the word cloud: free text split into words, stop words removed, in en, fr and zh.

Latin-script text splits on letters (French elisions and English possessives drop: "l'ami" gives
"ami", "Sam's" gives "sam"). Chinese has no spaces, so runs of Han characters become
overlapping two-character words, the usual length of a Chinese word, after function characters
are dropped.
"""

from __future__ import annotations

import re

_STOP_EN = """a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they this
those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves i'm it's don't can't didn't isn't wasn't maybe might
also really much like get got feel feels felt think thinks thought bit lot one s t""".split()
_STOP_FR = """a à au aux avec ce ces cet cette c d dans de des du elle elles en est et été être eu
il ils j je l la le les leur leurs lui m ma mais me même mes moi mon n ne nos notre nous on ont ou
où par pas peu plus pour qu que qui s sa sans se ses si son sont sur ta te tes toi ton tu un une
vos votre vous y ça était suis es sommes êtes avait avoir fait faire comme aussi très bien tout
tous toute toutes alors donc car peut peux cela ceci là ici quand pourquoi comment
quoi""".split()
_STOP_ZH_CHARS = set("的了是我你他她它们在有和就不也都而及与着或这那个之把被让给很吗呢吧啊呀么")

STOP_WORDS = frozenset(_STOP_EN) | frozenset(_STOP_FR)
MAX_WORDS = 50

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[\u3400-\u9fff]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff]")


def words(text: str) -> list[str]:
    """The meaningful words of one answer, lower-cased, in order, repeats kept."""
    found: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        if _HAN.match(token):
            found.extend(_han_words(token))
            continue
        if "'" in token:
            head, _, tail = token.partition("'")
            if tail == "s":
                token = head
            elif len(head) <= 2:
                token = tail
        if len(token) > 1 and token not in STOP_WORDS and len(token) <= 40:
            found.append(token)
    return found


def _han_words(run: str) -> list[str]:
    pieces: list[str] = []
    for part in re.split("[" + "".join(_STOP_ZH_CHARS) + "]", run):
        if len(part) == 1:
            continue
        pieces.extend(part[i : i + 2] for i in range(len(part) - 1))
    return pieces
