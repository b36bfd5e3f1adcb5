"""The scenario library over HTTP (``attune.library``), against a real server on every backend.

What a facilitator's editor relies on: built-in and saved scenarios listed with their kinds and
languages, every error of a broken file at once with its path and line, versioned saves where
the second of two concurrent writers is told and nothing is lost, built-ins that stay read-only,
and sessions that keep the copy they started with.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
import yaml

from attune.client import create_session
from attune.core import scenario as sc
from tests.support.paths import DATA
from tests.support.servers import Running, serving, settings_for

EVERY_KIND = (DATA / "every-kind.yaml").read_text(encoding="utf-8")


def saved_yaml(scenario_id: str, title: str = "Saved here") -> str:
    return EVERY_KIND.replace("id: every-kind", f"id: {scenario_id}").replace(
        "title: {en: Every kind,", f"title: {{en: {title},")


def new_id() -> str:
    return f"mine-{secrets.token_hex(4)}"


@pytest.fixture
async def http(server: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
        yield client


async def save(http: httpx.AsyncClient, text: str) -> httpx.Response:
    return await http.post("/api/scenarios", content=text.encode(),
                           headers={"content-type": "application/yaml"})


async def test_the_list_has_built_ins_with_their_kinds_and_languages(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/api/scenarios", params={"language": "fr"})
    assert response.status_code == 200
    (card,) = [c for c in response.json() if c["id"] == "every-kind"]
    assert card["builtin"] is True
    assert card["title"] == "Chaque type"
    assert card["languages"] == ["en", "fr", "zh"]
    steps = sc.loads(EVERY_KIND).steps
    assert card["kinds"] == list(dict.fromkeys(type(s).__struct_config__.tag for s in steps))
    assert len(card["kinds"]) >= 8
    assert card["steps"] == len(sc.loads(EVERY_KIND).steps)


async def test_a_saved_scenario_is_listed_and_read_back_as_json_and_yaml(
    http: httpx.AsyncClient,
) -> None:
    sid = new_id()
    created = await save(http, saved_yaml(sid))
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.json()["version"] == 1
    listed = {c["id"]: c for c in (await http.get("/api/scenarios")).json()}
    assert listed[sid]["builtin"] is False
    assert listed[sid]["title"] == "Saved here"
    assert listed[sid]["version"] == 1
    assert listed[sid]["saved_at"] > 0
    as_json = await http.get(f"/api/scenarios/{sid}")
    assert as_json.json()["version"] == 1
    assert as_json.headers["etag"] == '"1"'
    scenario = msgspec.convert(as_json.json()["scenario"], sc.Scenario)
    assert scenario == sc.loads(saved_yaml(sid))
    as_yaml = await http.get(f"/api/scenarios/{sid}", params={"format": "yaml"})
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert sc.loads(as_yaml.text) == scenario
    assert "每一种" in as_yaml.text  # written as text, not \u escapes


async def test_a_built_in_is_served_as_its_own_file(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/scenarios/every-kind", params={"format": "yaml"})
    assert response.text == EVERY_KIND
    assert (await http.get("/api/scenarios/every-kind")).json()["builtin"] is True
    assert (await http.get("/api/scenarios/nope")).status_code == 404


async def test_every_error_is_listed_with_its_path_and_line(http: httpx.AsyncClient) -> None:
    broken = (saved_yaml(new_id())
              .replace("duration_minutes: 10", "duration_minutes: ten")
              .replace("  - kind: scale", "  - kind: scael")
              .replace("    prompt: {en: Pick one", "    promt: {en: Pick one")
              .replace("zh: 慢慢读。}", "}"))
    response = await save(http, broken)
    assert response.status_code == 422
    errors = response.json()["errors"]
    lines = broken.splitlines()
    found = {(e["path"], e["line"]) for e in errors}
    assert ("$.duration_minutes", lines.index("duration_minutes: ten") + 1) in found
    assert ("$.steps[2].kind", lines.index("  - kind: scael") + 1) in found
    promt = next(i for i, line in enumerate(lines) if "promt:" in line) + 1
    assert ("$.steps[3].promt", promt) in found
    assert ("$.steps[3].prompt", promt - 1) in found  # the prompt it still needs
    assert len(errors) >= 4
    assert response.json()["error"] == f"The scenario has {len(errors)} errors."


async def test_rules_beyond_types_are_all_reported_too(http: httpx.AsyncClient) -> None:
    broken = saved_yaml(new_id()).replace("zh: 慢慢读。", "zh: ''").replace(
        "fr: Une histoire, ", "")
    errors = (await save(http, broken)).json()["errors"]
    assert [e["path"] for e in errors] == ["$.steps[0].title", "$.steps[0].notes"]
    assert all(e["line"] for e in errors)


async def test_json_bodies_are_checked_the_same_way(http: httpx.AsyncClient) -> None:
    """Type errors and the rules across fields (max above min) together, in one answer; a rule
    inside a step that has a type error waits until that step's types are right."""
    plain = yaml.safe_load(saved_yaml(new_id()))
    plain["steps"][1]["intensity"] = "very"
    plain["steps"][3]["multiple"] = "yes"
    plain["steps"][2]["max"] = 0
    plain["steps"][3]["options"][1]["id"] = "a"
    response = await http.post("/api/scenarios", json=plain)
    assert response.status_code == 422
    assert [(e["path"], e["line"]) for e in response.json()["errors"]] == [
        ("$.steps[1].intensity", None), ("$.steps[3].multiple", None), ("$.steps[2].max", None)]
    plain["steps"][1]["intensity"] = plain["steps"][3]["multiple"] = True
    response = await http.post("/api/scenarios", json=plain)
    assert [e["path"] for e in response.json()["errors"]] == ["$.steps[2].max",
                                                             "$.steps[3].options"]


async def test_a_stale_version_is_a_clear_conflict_and_keeps_the_winner(
    http: httpx.AsyncClient,
) -> None:
    sid = new_id()
    await save(http, saved_yaml(sid))
    first, second = await asyncio.gather(*(
        http.put(f"/api/scenarios/{sid}", content=saved_yaml(sid, title).encode(),
                 headers={"if-match": '"1"'}) for title in ("Alice's", "Bob's")))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409]
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert loser.json()["current_version"] == 2
    assert "Someone else saved" in loser.json()["error"]
    assert winner.headers["etag"] == '"2"'
    kept = (await http.get(f"/api/scenarios/{sid}")).json()
    won_title = "Alice's" if winner is first else "Bob's"
    assert kept["scenario"]["title"]["en"] == won_title
    assert kept["version"] == 2


async def test_saving_a_new_scenario_under_a_taken_id_is_a_conflict(
    http: httpx.AsyncClient,
) -> None:
    sid = new_id()
    await save(http, saved_yaml(sid, "First"))
    again = await save(http, saved_yaml(sid, "Second"))
    assert again.status_code == 409
    assert "already exists" in again.json()["error"]
    assert (await http.get(f"/api/scenarios/{sid}")).json()["scenario"]["title"]["en"] == "First"


async def test_built_ins_cannot_be_overwritten_shadowed_or_deleted(
    http: httpx.AsyncClient,
) -> None:
    shadow = await save(http, saved_yaml("every-kind", "Impostor"))
    assert shadow.status_code == 409
    assert shadow.json()["path"] == "$.id"
    put = await http.put("/api/scenarios/every-kind", content=saved_yaml("every-kind").encode(),
                         headers={"if-match": '"0"'})
    assert put.status_code == 409
    deleted = await http.delete("/api/scenarios/every-kind", headers={"if-match": '"0"'})
    assert deleted.status_code == 409
    listed = [c for c in (await http.get("/api/scenarios")).json() if c["id"] == "every-kind"]
    assert [c["builtin"] for c in listed] == [True]


async def test_writes_must_name_the_version_and_the_id(http: httpx.AsyncClient) -> None:
    sid = new_id()
    await save(http, saved_yaml(sid))
    unnamed = await http.put(f"/api/scenarios/{sid}", content=saved_yaml(sid).encode())
    assert unnamed.status_code == 428
    renamed = await http.put(f"/api/scenarios/{sid}", content=saved_yaml(new_id()).encode(),
                             headers={"if-match": '"1"'})
    assert renamed.status_code == 422
    assert renamed.json()["errors"][0]["path"] == "$.id"
    assert (await http.delete(f"/api/scenarios/{sid}")).status_code == 428


async def test_delete_needs_the_current_version(http: httpx.AsyncClient) -> None:
    sid = new_id()
    await save(http, saved_yaml(sid))
    stale = await http.delete(f"/api/scenarios/{sid}", headers={"if-match": '"7"'})
    assert stale.status_code == 409
    assert (await http.delete(f"/api/scenarios/{sid}", headers={"if-match": '"1"'})
            ).status_code == 204
    assert (await http.get(f"/api/scenarios/{sid}")).status_code == 404
    gone = await http.delete(f"/api/scenarios/{sid}", headers={"if-match": '"1"'})
    assert gone.status_code == 404


async def test_a_running_session_keeps_the_copy_it_started_with(
    server: Running, http: httpx.AsyncClient,
) -> None:
    sid = new_id()
    await save(http, saved_yaml(sid, "Before"))
    created = await create_session(server.base, sid)
    changed = await http.put(f"/api/scenarios/{sid}", content=saved_yaml(sid, "After").encode(),
                             headers={"if-match": '"1"'})
    assert changed.status_code == 200
    assert (await http.delete(f"/api/scenarios/{sid}", headers={"if-match": '"2"'})
            ).status_code == 204
    participant = await server.participant(created)
    try:
        assert participant.welcome is not None and participant.welcome.snapshot is not None
        assert participant.welcome.snapshot.title == "Before"
    finally:
        await participant.close()
    with pytest.raises(RuntimeError, match="404"):
        await create_session(server.base, sid)


@pytest.mark.parametrize(("name", "body", "status", "expected"), [
    ("1 MB", "id: x\n" + "# padding\n" * 110_000, 413, "the limit is"),
    ("500 steps", None, 422, "at most 100 steps; this one has 500"),
    ("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n",
     422, "aliases"),
    ("deep", "id: x\nsteps: " + "[" * 5000 + "]" * 5000, 422, "nested deeper"),
    ("python tag", "!!python/object:os.system {}\n", 422, "not valid YAML"),
])
async def test_hostile_uploads_are_refused_clearly(
    http: httpx.AsyncClient, name: str, body: str | None, status: int, expected: str,
) -> None:
    if body is None:
        step = "  - {kind: reflect, prompt: {en: a, fr: b, zh: c}}\n"
        head = saved_yaml(new_id()).split("steps:")[0]
        body = head + "steps:\n" + step * 500
    response = await save(http, body)
    assert response.status_code == status
    answer = response.json()
    text = answer["error"] + " ".join(e["message"] for e in answer.get("errors", []))
    assert expected in text
    check = await http.post("/api/scenario-check", content=body.encode())
    assert check.status_code in (200, 413)


async def test_markup_in_text_is_kept_as_text(http: httpx.AsyncClient) -> None:
    sid = new_id()
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    text = saved_yaml(sid, "x").replace("title: {en: x,", f"title: {{en: '{hostile}',")
    assert (await save(http, text)).status_code == 201
    response = await http.get(f"/api/scenarios/{sid}")
    assert response.headers["content-type"] == "application/json"
    assert response.json()["scenario"]["title"]["en"] == hostile


async def test_the_check_lists_errors_and_previews_the_steps_that_work(
    http: httpx.AsyncClient,
) -> None:
    broken = saved_yaml(new_id()).replace("  - kind: scale", "  - kind: scael")
    response = await http.post("/api/scenario-check", params={"language": "zh"},
                               content=broken.encode())
    assert response.status_code == 200
    checked = response.json()
    assert [e["path"] for e in checked["errors"]] == ["$.steps[2].kind"]
    # A code and its parameters for the editor to word in its language, the English as well.
    assert checked["errors"][0]["code"] == "unknown-kind"
    assert checked["errors"][0]["params"]["value"] == "scael"
    assert checked["errors"][0]["message"].startswith("Invalid value 'scael'")
    views = checked["views"]
    assert views[2] is None
    assert views[0]["title"] == "一个故事"
    assert views[0]["notes"] == "慢慢读。"
    assert len(views[1]["words"]) > 10  # the check-in's words, labelled as phones see them
    assert checked["document"]["steps"][2]["kind"] == "scael"  # to open it in the editor
    fine = await http.post("/api/scenario-check", content=EVERY_KIND.encode())
    assert fine.json()["errors"] == []
    assert fine.json()["document"] == msgspec.to_builtins(sc.loads(EVERY_KIND))


async def test_the_emotion_words_are_listed_in_the_asked_language(
    http: httpx.AsyncClient,
) -> None:
    words = {w["id"]: w for w in (await http.get("/api/emotion-words?language=fr")).json()}
    assert words["happy"]["label"] != "happy"
    assert all(w["p"] != 0 and w["e"] != 0 for w in words.values())


# --- who may write ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def library(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A server with settings of its own, and a client to it."""
    async with serving(settings_for(**options)) as running, \
            httpx.AsyncClient(base_url=running.base, timeout=10) as http:
        yield http


async def test_with_an_admin_key_only_its_holders_write() -> None:
    async with library(admin_key="sesame") as http:
        sid = new_id()
        assert (await save(http, saved_yaml(sid))).status_code == 401
        allowed = await http.post("/api/scenarios", content=saved_yaml(sid).encode(),
                                  headers={"authorization": "Bearer sesame"})
        assert allowed.status_code == 201
        assert (await http.get(f"/api/scenarios/{sid}")).status_code == 200  # reads are open
        assert (await http.delete(f"/api/scenarios/{sid}", headers={"if-match": '"1"'})
                ).status_code == 401


@pytest.mark.parametrize(("mode", "status"), [("off", 403), ("anyone", 201)])
async def test_the_library_write_setting(mode: str, status: int) -> None:
    async with library(admin_key="sesame", library_write=mode) as http:
        assert (await save(http, saved_yaml(new_id()))).status_code == status
