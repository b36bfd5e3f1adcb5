"""Scenario rules between steps: ``id``, ``compare``, ``characters`` and ``assign``, each mistake
reported with its line and field."""

from __future__ import annotations

import pytest

from attune.core import scenario as sc

HEAD = """id: links
title: Links
summary: Links between steps.
audience: [workshop]
duration_minutes: 5
languages: [en]
steps:
  - kind: story
    text: Sam and Noor.
    characters:
      - {id: sam, name: Sam}
      - {name: Noor}
"""


def error(steps: str) -> sc.ScenarioError:
    with pytest.raises(sc.ScenarioError) as raised:
        sc.loads(HEAD + steps, "links.yaml")
    return raised.value


def test_a_good_file_loads() -> None:
    scenario = sc.loads(HEAD + """  - kind: scale
    id: before
    prompt: Sure?
  - kind: scale
    compare: before
    prompt: Sure now?
  - kind: perspective
    prompt: Think as them.
    characters: [sam, Noor]
    assign: each
""")
    assert sc.compared_index(scenario, scenario.steps[2]) == 1


@pytest.mark.parametrize(("steps", "path", "line", "words"), [
    ("""  - kind: scale
    compare: nowhere
    prompt: Sure?
""", "$.steps[1].compare", 14, "no earlier step has the id 'nowhere'"),
    ("""  - kind: checkin
    id: first
    prompt: Feel?
  - kind: scale
    compare: first
    prompt: Sure?
""", "$.steps[2].compare", 17, "is a checkin step; a scale step compares"),
    ("""  - kind: scale
    compare: later
    prompt: Sure?
  - kind: scale
    id: later
    prompt: Sure?
""", "$.steps[1].compare", 14, "comes later"),
    ("""  - kind: scale
    id: a
    prompt: Sure?
  - kind: scale
    id: a
    prompt: Sure?
""", "$.steps[2].id", 17, "already used by step 1"),
    ("""  - kind: scale
    id: a
    prompt: Sure?
    max: 10
  - kind: scale
    compare: a
    prompt: Sure?
""", "$.steps[2].compare", 18, "same min and max"),
    ("""  - kind: perspective
    prompt: Think.
    characters: [sam, ghost]
    assign: each
""", "$.steps[1].characters[1]", 15, "no character 'ghost'"),
    ("""  - kind: perspective
    prompt: Think.
    characters: [sam, Noor]
""", "$.steps[1].characters", 15, "add assign: each"),
    ("""  - kind: checkin
    prompt: Feel.
    assign: each
""", "$.steps[1].assign", 15, "needs a characters: list"),
    ("""  - kind: perspective
    prompt: Think.
    characters: [sam, sam]
    assign: each
""", "$.steps[1].characters[1]", 15, "listed twice"),
])
def test_mistakes_name_line_and_field(steps: str, path: str, line: int, words: str) -> None:
    found = error(steps)
    assert found.path == path
    assert found.line == line, str(found)
    assert words in found.detail
