"""The scenario library over HTTP: built-in scenarios (read-only files), saved ones (the backend).

Routes, mounted by ``attune.app``::

    GET    /api/scenarios              built-in and saved, summarised (kinds, languages, audience)
    GET    /api/scenarios/{id}         one, as JSON; ``?format=yaml`` as a YAML file
    POST   /api/scenarios              save a new one (YAML or JSON body)
    PUT    /api/scenarios/{id}         replace a saved one; ``If-Match: "VERSION"`` required
    DELETE /api/scenarios/{id}         remove a saved one; ``If-Match: "VERSION"`` required
    POST   /api/scenario-check         check without saving: every error, the body as plain
                                       data, and the steps as phones would receive them
    POST   /api/scenario-yaml          a draft (JSON) as a YAML file, valid or not
    GET    /api/emotion-words          the check-in vocabulary, labelled in one language

A saved scenario has a version, sent as the ETag. A write names the version it was based on and
the backend compares and sets, so of two people saving the same scenario at once the second gets
409 with the current version and their text stays in their editor: nothing is lost. A session
takes a copy of its scenario when it is created (in ``SessionInfo``), so editing or deleting a
saved scenario never changes a session already running.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from pathlib import Path
from typing import Any

import msgspec
import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from attune.backends import Backend, VersionConflict
from attune.config import Settings
from attune.core import scenario as sc
from attune.core.emotions import VOCABULARY
from attune.core.scenario_problems import Param
from attune.core.views import step_view

log = logging.getLogger("attune.library")

MAX_SAVED = 1000
"""Saved scenarios at most, so an open library cannot be filled without bound."""
MAX_BODY = sc.MAX_FILE_BYTES
"""A request body is one scenario file; the scenario format's own limit applies."""


class Saved(msgspec.Struct, kw_only=True):
    """What the backend stores for one saved scenario (encoded as JSON)."""

    scenario: sc.Scenario
    saved_at: int
    """Milliseconds since the epoch, for "saved 5 minutes ago" in the gallery."""


class Summary(msgspec.Struct, kw_only=True):
    """One card of the gallery: enough to choose, in the asker's language."""

    id: str
    title: str
    summary: str
    audience: list[str]
    duration_minutes: int
    languages: list[str]
    steps: int
    kinds: list[str]
    """The step kinds it uses, in order of first use."""
    builtin: bool
    version: int = 0
    """0 for a built-in; the saved version otherwise (send it back in ``If-Match``)."""
    saved_at: int = 0


class Problem(msgspec.Struct):
    """One mistake in a scenario: where, the English sentence, and the same as a code and its
    parameters for a page to word in its own language (``attune.core.scenario_problems``)."""

    path: str
    line: int | None
    message: str
    code: str
    params: dict[str, Param]


class Checked(msgspec.Struct):
    errors: list[Problem]
    document: Any
    """The body as plain data (null if it is not YAML or JSON at all), so an editor can open
    a file that has mistakes and show each where it is."""
    views: list[Any]
    """Each step as a phone would receive it in the asked language, or null where the step
    itself has errors (the rest still preview)."""


_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_saved_decoder = msgspec.json.Decoder(Saved)
_saved_encoder = msgspec.json.Encoder()


def summarise(scenario: sc.Scenario, language: str, *, builtin: bool, version: int = 0,
              saved_at: int = 0) -> Summary:
    kinds = list(dict.fromkeys(sc.kind_of(step) for step in scenario.steps))
    return Summary(
        id=scenario.id, title=sc.localize(scenario.title, language) or scenario.id,
        summary=sc.localize(scenario.summary, language) or "", audience=list(scenario.audience),
        duration_minutes=scenario.duration_minutes, languages=list(scenario.languages),
        steps=len(scenario.steps), kinds=kinds, builtin=builtin, version=version,
        saved_at=saved_at,
    )


def to_yaml(scenario: sc.Scenario) -> str:
    """A scenario as a file a person can read and edit: fields in schema order, text unescaped."""
    return yaml.safe_dump(msgspec.to_builtins(scenario), allow_unicode=True, sort_keys=False,
                          width=100)


class Library:
    """Built-in scenarios from a folder (with their file text) and saved ones from a backend."""

    def __init__(self, backend: Backend, settings: Settings) -> None:
        self.backend = backend
        self.settings = settings
        self.builtins: dict[str, sc.Scenario] = {}
        self.files: dict[str, Path] = {}
        if settings.scenarios.is_dir():
            self.builtins = sc.load_folder(settings.scenarios)
            for path in sorted(settings.scenarios.glob("*.yaml")):
                self.files[sc.load(path).id] = path

    async def saved(self) -> dict[str, tuple[int, Saved]]:
        """Every saved scenario that still decodes; one that does not is logged and left out."""
        found: dict[str, tuple[int, Saved]] = {}
        for scenario_id, (version, data) in (await self.backend.library_list()).items():
            try:
                found[scenario_id] = (version, _saved_decoder.decode(data))
            except msgspec.DecodeError as exc:
                log.error("saved scenario %r no longer decodes: %s", scenario_id, exc)
        return found

    async def get(self, scenario_id: str) -> tuple[int, Saved] | None:
        stored = await self.backend.library_get(scenario_id)
        if stored is None:
            return None
        try:
            return stored[0], _saved_decoder.decode(stored[1])
        except msgspec.DecodeError as exc:
            log.error("saved scenario %r no longer decodes: %s", scenario_id, exc)
            return None

    async def resolve(self, scenario_id: str) -> sc.Scenario | None:
        """The scenario a new session should copy: a built-in, else a saved one."""
        if scenario_id in self.builtins:
            return self.builtins[scenario_id]
        found = await self.get(scenario_id)
        return found[1].scenario if found else None

    def may_write(self, request: Request) -> Response | None:
        """None if this request may change the library, else the refusal to send.

        ``library_write``: ``auto`` lets admin-key holders write when a key is configured and
        anyone who reaches the console otherwise (as for creating a session); ``anyone`` never
        asks for the key; ``off`` makes the library read-only.
        """
        mode = self.settings.library_write
        if mode == "off":
            return _problem(403, "This server's scenario library is read-only.")
        key = self.settings.admin_key
        if mode == "auto" and key is not None and not hmac.compare_digest(
            _bearer(request).encode(), key.encode()
        ):
            return _problem(401, "This server requires an admin key to change the library.")
        return None


def routes(library: Library) -> list[Route]:
    """The library's HTTP routes, for ``attune.app`` to mount."""

    async def list_scenarios(request: Request) -> Response:
        language = request.query_params.get("language", "en")
        cards = [summarise(s, language, builtin=True) for s in library.builtins.values()]
        saved = await library.saved()
        cards += sorted((summarise(stored.scenario, language, builtin=False, version=version,
                                   saved_at=stored.saved_at)
                         for version, stored in saved.values()), key=lambda c: -c.saved_at)
        return _json(cards)

    async def get_scenario(request: Request) -> Response:
        scenario_id = request.path_params["id"]
        as_yaml = request.query_params.get("format") == "yaml"
        headers = {}
        if scenario_id in library.builtins:
            scenario, version = library.builtins[scenario_id], 0
            if as_yaml:
                text = library.files[scenario_id].read_text(encoding="utf-8")
                return _yaml(text, scenario_id)
        else:
            found = await library.get(scenario_id)
            if found is None:
                return _problem(404, f"No scenario {scenario_id!r}.")
            version, scenario = found[0], found[1].scenario
            headers["etag"] = f'"{version}"'
            if as_yaml:
                return _yaml(to_yaml(scenario), scenario_id, headers)
        return _json({"id": scenario_id, "builtin": version == 0, "version": version,
                      "scenario": scenario}, headers=headers)

    async def create(request: Request) -> Response:
        return await write(request, None)

    async def replace(request: Request) -> Response:
        return await write(request, request.path_params["id"])

    async def write(request: Request, path_id: str | None) -> Response:
        refused = library.may_write(request)
        if refused is not None:
            return refused
        expected = 0
        if path_id is not None:
            expected_or_refusal = _expected(request)
            if isinstance(expected_or_refusal, Response):
                return expected_or_refusal
            expected = expected_or_refusal
        body = await request.body()
        if len(body) > MAX_BODY:
            return _problem(413, f"The scenario is {len(body)} bytes; the limit is {MAX_BODY}.")
        scenario, errors, _ = _read(request, body, "upload")
        if scenario is None:
            return _invalid(errors)
        if path_id is not None and scenario.id != path_id:
            return _invalid([sc.ScenarioError(
                "upload", "id-mismatch", {"id": scenario.id, "expected": path_id}, "$.id")])
        if scenario.id in library.builtins:
            return _problem(409, f"{scenario.id!r} is a built-in scenario, which cannot be "
                            "changed; save it under another id.", path="$.id", builtin=True)
        if expected == 0 and len(await library.backend.library_list()) >= MAX_SAVED:
            return _problem(507, f"The library is full ({MAX_SAVED} saved scenarios); delete "
                            "some first.")
        data = _saved_encoder.encode(Saved(scenario=scenario, saved_at=int(time.time() * 1000)))
        try:
            version = await library.backend.library_put(scenario.id, data, expected)
        except VersionConflict as conflict:
            return _conflict(conflict, creating=expected == 0)
        summary = summarise(scenario, "en", builtin=False, version=version)
        return _json(summary, 201 if expected == 0 else 200, headers={"etag": f'"{version}"'})

    async def delete(request: Request) -> Response:
        refused = library.may_write(request)
        if refused is not None:
            return refused
        scenario_id = request.path_params["id"]
        if scenario_id in library.builtins:
            return _problem(409, f"{scenario_id!r} is a built-in scenario, which cannot be "
                            "deleted.", builtin=True)
        expected = _expected(request)
        if isinstance(expected, Response):
            return expected
        try:
            await library.backend.library_delete(scenario_id, expected)
        except VersionConflict as conflict:
            if conflict.current == 0:
                return _problem(404, f"No saved scenario {scenario_id!r}.")
            return _conflict(conflict, creating=False)
        return Response(status_code=204)

    async def check(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return _problem(413, f"The scenario is {len(body)} bytes; the limit is {MAX_BODY}.")
        language = request.query_params.get("language", "en")
        scenario, errors, plain = _read(request, body, "editor")
        document = msgspec.to_builtins(scenario) if scenario is not None else plain
        return _json(Checked(errors=[_problem_of(e) for e in errors], document=document,
                             views=_previews(plain, scenario, language)))

    async def as_yaml(request: Request) -> Response:
        """An editor's draft (JSON) as a YAML file to download, mistakes and all: what was
        typed is never lost because it does not validate yet."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return _problem(413, f"The scenario is {len(body)} bytes; the limit is {MAX_BODY}.")
        try:
            plain = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            return _problem(400, f"not valid JSON: {exc}")
        name = plain.get("id") if isinstance(plain, dict) else None
        return _yaml(yaml.safe_dump(plain, allow_unicode=True, sort_keys=False, width=100),
                     name if isinstance(name, str) and _SAFE_NAME.match(name) else "scenario")

    async def emotion_words(request: Request) -> Response:
        language = request.query_params.get("language", "en")
        return _json([{"id": word, "label": emotion.label(language), "p": emotion.p,
                       "e": emotion.e} for word, emotion in VOCABULARY.items()])

    return [
        Route("/api/scenarios", list_scenarios, methods=["GET"]),
        Route("/api/scenarios", create, methods=["POST"]),
        Route("/api/scenarios/{id}", get_scenario, methods=["GET"]),
        Route("/api/scenarios/{id}", replace, methods=["PUT"]),
        Route("/api/scenarios/{id}", delete, methods=["DELETE"]),
        Route("/api/scenario-check", check, methods=["POST"]),
        Route("/api/scenario-yaml", as_yaml, methods=["POST"]),
        Route("/api/emotion-words", emotion_words, methods=["GET"]),
    ]


def _previews(plain: object, scenario: sc.Scenario | None, language: str) -> list[Any]:
    """Each step as phones would get it (the facilitator's view, with notes); a step that does
    not convert on its own previews as null, so one mistake does not blank the whole preview."""
    if scenario is not None:
        steps: list[sc.Step | None] = list(scenario.steps)
    else:
        raw_steps = plain.get("steps") if isinstance(plain, dict) else None
        if not isinstance(raw_steps, list):
            return []
        steps = []
        for raw in raw_steps[:sc.MAX_STEPS]:
            try:
                steps.append(msgspec.convert(raw, sc.Step))
            except msgspec.ValidationError:
                steps.append(None)
    return [step_view(step, index, language, moderator=True) if step is not None else None
            for index, step in enumerate(steps)]


def _expected(request: Request) -> int | Response:
    """The version a write is based on, from ``If-Match: "N"`` (or ``If-None-Match: *``: 0)."""
    if request.headers.get("if-none-match", "").strip() == "*":
        return 0
    tag = request.headers.get("if-match", "").strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        return _problem(428, 'Say which version you changed: If-Match: "VERSION" (the ETag '
                        "you read), or If-None-Match: * to create.")
    return int(tag)


def _conflict(conflict: VersionConflict, *, creating: bool) -> Response:
    if creating:
        message = (f"A saved scenario with the id {conflict.scenario_id!r} already exists; "
                   "open it, or save yours under another id.")
    elif conflict.current == 0:
        message = (f"{conflict.scenario_id!r} was deleted after you opened it; save yours "
                   "again to keep it.")
    else:
        message = (f"Someone else saved {conflict.scenario_id!r} after you opened it (it is now "
                   f"version {conflict.current}). Your changes are not saved yet: save under "
                   "another id, or reload theirs.")
    return _problem(409, message, current_version=conflict.current)


def _problem_of(error: sc.ScenarioError) -> Problem:
    return Problem(path=error.path, line=error.line, message=error.detail, code=error.code,
                   params=error.params)


def _invalid(errors: list[sc.ScenarioError]) -> Response:
    count = len(errors)
    return _problem(422, f"The scenario has {count} error{'s' if count != 1 else ''}.",
                    errors=[_problem_of(e) for e in errors])


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(data), status, headers=headers,
                    media_type="application/json")


def _yaml(text: str, scenario_id: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text, media_type="application/yaml; charset=utf-8", headers={
        **(headers or {}), "content-disposition": f'attachment; filename="{scenario_id}.yaml"'})


def _problem(status: int, message: str, **extra: object) -> Response:
    return _json({"error": message, **extra}, status)


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip()


def _read(request: Request, body: bytes, source: str,
          ) -> tuple[sc.Scenario | None, list[sc.ScenarioError], object]:
    """Check a body as JSON when it says so (no line numbers there), else as a YAML file."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            plain = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            return None, [sc.ScenarioError(source, "not-json", {"detail": str(exc)})], None
        scenario, errors = sc.check_plain(plain, source)
        return scenario, errors, plain
    scenario, errors = sc.check(body, source)
    return scenario, errors, sc.plain(body) if errors else msgspec.to_builtins(scenario)
