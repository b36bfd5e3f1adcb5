"""What can be wrong in a scenario file, as stable codes with parameters.

The editor shows every mistake next to its field in the facilitator's language, so a mistake
is a code (``missing-translation``) and its parameters (``{"language": "fr", "languages":
["en", "fr"]}``), not a sentence: the page words it from ``web/i18n/*.json`` (key
``scenario.CODE``, the same ``{name}`` placeholders as the English template here). The English
sentence is still made here, for the CLI, the API's ``message`` and the logs.

A parameter is a string, a number or a list of strings; a list is written ``a, b, c`` (``none``
when empty), and the page writes it in its own language.
"""

from __future__ import annotations

import re
from typing import NamedTuple

Param = str | int | float | list[str]


class Problem(NamedTuple):
    """One mistake at one place in a scenario, before it is given a file and a line."""

    path: str
    code: str
    params: dict[str, Param] = {}  # noqa: RUF012 (a NamedTuple default, never mutated)


ENGLISH: dict[str, str] = {
    # The file as a whole.
    "file-too-large": "file is {size} bytes; the limit is {limit}",
    "unreadable": "cannot read file: {detail}",
    "not-yaml": "not valid YAML: {detail}",
    "not-yaml-indent": "not valid YAML: {detail} (check the indentation; text containing ': ' "
                       "or '#' needs quotes)",
    "not-json": "not valid JSON: {detail}",
    "empty-file": "file is empty; expected a scenario mapping",
    "duplicate-file-id": "id '{id}' is used by another file",
    "id-mismatch": "the id is '{id}' but this is '{expected}': use POST /api/scenarios to save "
                   "under a new id",
    # The schema: fields, types and limits.
    "missing-kind": "Object missing required field `kind`; expected a step kind: {kinds}",
    "unknown-kind": "Invalid value '{value}'; expected a step kind: {kinds}",
    "unknown-field": "unknown field '{field}' (check the spelling)",
    "missing-field": "missing required field '{field}'",
    "wrong-type": "Expected `{expected}`, got `{got}`",
    "wrong-type-bool": "Expected `{expected}`, got `bool` (yes/no/on/off are read as true/false "
                       "in YAML: put the text in quotes)",
    "at-least": "Expected `{expected}` >= {limit}",
    "at-most": "Expected `{expected}` <= {limit}",
    "above": "Expected `{expected}` > {limit}",
    "below": "Expected `{expected}` < {limit}",
    "length-at-least": "Expected `{expected}` of length >= {limit}",
    "length-at-most": "Expected `{expected}` of length <= {limit}",
    "not-a-choice": "Invalid enum value '{value}'",
    "bad-id": "expected an id of lower-case letters, digits and dashes (at most 64, not starting "
              "with a dash)",
    "too-many-steps": "a scenario has at most {limit} steps; this one has {count}",
    "invalid": "{detail}",
    # Rules a type cannot say.
    "english-required": "English ('en') is required: it is the fallback for every text",
    "unknown-language": "unknown language '{language}'; expected one of {languages}",
    "missing-translation": "missing translation for '{language}' (the scenario's languages are "
                           "{languages})",
    "empty-text": "empty text for '{language}'",
    "unknown-character": "no character named '{name}' in an earlier story step (known: {known})",
    "unknown-word": "unknown emotion word '{word}'; expected one of {words}",
    "too-few-words": "give at least 2 words to choose from",
    "scale-range": "expected max greater than min, at most 100 apart",
    "duplicate-option-ids": "option ids must be unique",
    "duplicate-role-ids": "role ids must be unique",
    "too-many-roles": "{roles} roles cannot all be held in groups of {size} (at most {most})",
    "debrief-guess": "a debrief question takes no guess about the group",
    # Rules between steps.
    "duplicate-step-id": "step id '{id}' is already used by step {step} (steps are counted "
                         "from 0)",
    "compare-later": "step '{ref}' comes later; compare with an earlier step",
    "compare-itself": "a step cannot compare with itself",
    "compare-unknown": "no earlier step has the id '{ref}' (earlier {kind} steps with an id: "
                       "{known}; give the first step an id: line)",
    "compare-other-kind": "step '{ref}' is a {other} step; a {kind} step compares with an "
                          "earlier {kind} step",
    "compare-range": "step '{ref}' runs from {min} to {max} and this one from {own_min} to "
                     "{own_max}; compared scales need the same min and max",
    "compare-assigned": "a step with assigned characters cannot compare, nor be compared with",
    "assign-without-characters": "assign: each needs a characters: list of at least 2",
    "characters-without-assign": "add assign: each so that every participant is given one of "
                                 "these characters",
    "character-and-characters": "use either character: (one for all) or characters:, not both",
    "too-few-characters": "give at least 2 characters to hand out",
    "unknown-assigned-character": "no character '{name}' in an earlier story step (known: "
                                  "{known})",
    "character-twice": "'{name}' is listed twice",
}
"""Every code and its English sentence; ``{name}`` is the parameter ``name``."""

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def english(code: str, params: dict[str, Param]) -> str:
    """The English sentence for a problem (a list parameter as ``a, b``, or ``none``)."""
    def value(match: re.Match[str]) -> str:
        given = params[match.group(1)]
        if isinstance(given, list):
            return ", ".join(given) or "none"
        return str(given)
    return _PLACEHOLDER.sub(value, ENGLISH[code])


def placeholders(code: str) -> set[str]:
    """The parameter names a code's sentence uses (a translation must use the same)."""
    return set(_PLACEHOLDER.findall(ENGLISH[code]))


_TYPED = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_BOUND = re.compile(r"^Expected `(?P<expected>[^`]+)` (?P<op>>=|<=|>|<) (?P<limit>-?[\d.]+)$")
_LENGTH = re.compile(r"^Expected `(?P<expected>[^`]+)` of length (?P<op>>=|<=) (?P<limit>\d+)$")
_CHOICE = re.compile(r"^Invalid enum value (?P<value>.+)$")
_BOUNDS = {">=": "at-least", "<=": "at-most", ">": "above", "<": "below"}


def from_msgspec(message: str) -> tuple[str, dict[str, Param]]:
    """A msgspec validation message as a code and its parameters (``invalid`` with the message
    itself for a shape this does not know, so nothing is ever lost)."""
    if found := _TYPED.match(message):
        code = "wrong-type-bool" if found["got"] == "bool" else "wrong-type"
        params: dict[str, Param] = {"expected": found["expected"]}
        if code == "wrong-type":
            params["got"] = found["got"]
        return code, params
    if found := _LENGTH.match(message):
        code = "length-at-least" if found["op"] == ">=" else "length-at-most"
        return code, {"expected": found["expected"], "limit": int(found["limit"])}
    if found := _BOUND.match(message):
        limit = float(found["limit"])
        return _BOUNDS[found["op"]], {"expected": found["expected"],
                                      "limit": int(limit) if limit.is_integer() else limit}
    if found := _CHOICE.match(message):
        return "not-a-choice", {"value": found["value"].strip("'")}
    return "invalid", {"detail": message}
