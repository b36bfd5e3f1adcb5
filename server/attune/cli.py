"""The ``attune`` command: serve, check scenario files, print schemas."""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from attune.backends import SCHEMES, SHARED
from attune.config import ENVIRONMENT, Settings, missing
from attune.core import protocol
from attune.core import scenario as sc
from attune.lan import startup_lines


def _env(name: str, default: object) -> object:
    return os.environ.get(ENVIRONMENT[name], default)


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = Settings()
    serve = sub.add_parser("serve", help="run the server",
                           description="Run the Attune server. Every option also reads an "
                                       "ATTUNE_* environment variable (shown in brackets).")
    serve.add_argument("--host", default=_env("host", d.host),
                       help=f"address to listen on [ATTUNE_HOST] (default {d.host})")
    serve.add_argument("--port", type=int, default=_env("port", d.port),
                       help=f"port [ATTUNE_PORT] (default {d.port})")
    serve.add_argument("--backend", default=_env("backend", d.backend),
                       help="; ".join(SCHEMES.values()) + " [ATTUNE_BACKEND] (default "
                            f"{d.backend})")
    serve.add_argument("--data", type=Path, default=_env("data", d.data),
                       help="data folder; the default backend keeps its SQLite file here "
                            f"[ATTUNE_DATA] (default {d.data})")
    serve.add_argument("--scenarios", type=Path, default=_env("scenarios", d.scenarios),
                       help="folder of scenario files [ATTUNE_SCENARIOS] (default: built-in)")
    serve.add_argument("--allowed-origins", default=_env("allowed_origins", ""),
                       help="comma-separated browser origins allowed to connect besides the "
                            "server's own [ATTUNE_ALLOWED_ORIGINS]")
    serve.add_argument("--min-responses", type=int,
                       default=_env("min_responses", d.min_responses),
                       help="answers needed before any result is shown "
                            f"[ATTUNE_MIN_RESPONSES] (default {d.min_responses})")
    serve.add_argument("--admin-key", default=_env("admin_key", None),
                       help="require this key to create sessions [ATTUNE_ADMIN_KEY]")
    serve.add_argument("--library-write", choices=["auto", "anyone", "off"],
                       default=_env("library_write", d.library_write),
                       help="who may save scenarios in the library: auto (admin-key holders "
                            "if a key is set, else anyone), anyone, off [ATTUNE_LIBRARY_WRITE] "
                            f"(default {d.library_write})")
    serve.add_argument("--resume-window", type=float,
                       default=_env("resume_window_s", d.resume_window_s),
                       help="seconds a dropped client is sent just what it missed "
                            f"[ATTUNE_RESUME_WINDOW] (default {d.resume_window_s:g})")
    serve.add_argument("--retention", type=float, default=_env("retention_s", d.retention_s),
                       help="seconds an ended session's answers are kept "
                            f"[ATTUNE_RETENTION] (default {d.retention_s:g})")
    serve.add_argument("--inactivity", type=float, default=_env("inactive_s", d.inactive_s),
                       help="seconds a session that was never ended is kept after its last "
                            f"activity [ATTUNE_INACTIVITY] (default {d.inactive_s:g}, 7 days)")
    serve.add_argument("--workers", type=int, default=_env("workers", d.workers),
                       help="worker processes; more than 1 needs a shared backend "
                            "[ATTUNE_WORKERS] (default 1)")
    serve.add_argument("--lexicon", type=Path, default=_env("lexicon", None),
                       help="a word list that holds matching cards back, added to the built-in "
                            "ones; a [distress] line starts distress phrases [ATTUNE_LEXICON]")
    serve.add_argument("--help-text", default=_env("help_text", None),
                       help="where help is, shown privately to a participant whose card reads "
                            "like distress, when the scenario does not say [ATTUNE_HELP_TEXT]")
    serve.add_argument("--no-themes", dest="themes", action="store_false",
                       default=_env("themes", "1") not in ("0", "false", "no", "off"),
                       help="do not group free-text answers into themes even where the themes "
                            "extra is installed [ATTUNE_THEMES=0]")


def settings_from(args: argparse.Namespace) -> Settings:
    origins = [o.strip() for o in str(args.allowed_origins).split(",") if o.strip()]
    return Settings(
        host=str(args.host), port=int(args.port), backend=str(args.backend),
        data=Path(args.data), scenarios=Path(args.scenarios), allowed_origins=origins,
        min_responses=int(args.min_responses), admin_key=args.admin_key or None,
        library_write=args.library_write,
        resume_window_s=float(args.resume_window), retention_s=float(args.retention),
        inactive_s=float(args.inactivity), workers=int(args.workers), themes=bool(args.themes),
        lexicon=Path(args.lexicon) if args.lexicon else None, help_text=args.help_text or None,
    )


def serve(settings: Settings) -> int:
    import uvicorn

    from attune.app import uvicorn_config

    scheme = settings.backend.partition("://")[0]
    if settings.workers > 1 and scheme not in SHARED:
        print(f"attune: --workers above 1 needs a shared backend: the {scheme} backend serves "
              "one process, so sessions would split between workers. Run Redis and start with "
              "--backend redis://HOST:PORT/0 (see docs/deploy.md, \"When to move to Redis\"), "
              "or run one worker.", file=sys.stderr)
        return 2
    problems = missing(settings)
    if problems:
        print(f"attune: this installation lacks {' and '.join(problems)}; reinstall Attune "
              "(pip install --force-reinstall attune) or point --scenarios at a folder.",
              file=sys.stderr)
        return 2
    where = settings.backend
    if scheme == "sqlite":
        from attune.backends.sqlite import DataFolderBusy, lock, path_from_url

        try:
            path = path_from_url(settings.backend, settings.data)[0]
            lock(path).release()
        except (DataFolderBusy, ValueError, OSError) as error:
            print(f"attune: {error}", file=sys.stderr)
            return 2
        where = f"{settings.backend} in {path}"
    try:
        sc.load_folder(settings.scenarios)
    except sc.ScenarioError as error:
        print(f"attune: cannot load scenarios: {error}", file=sys.stderr)
        return 2
    os.environ["ATTUNE_SETTINGS"] = msgspec.json.encode(settings, enc_hook=str).decode()
    print(f"Attune {version()} on http://{settings.host}:{settings.port}  (backend {where}, "
          f"scenarios from {settings.scenarios})", file=sys.stderr)
    for line in startup_lines(settings.host, settings.port):
        print(line, file=sys.stderr)
    uvicorn.run("attune.cli:app_from_environment", factory=True, workers=settings.workers,
                log_level="warning", **uvicorn_config(settings))  # type: ignore[arg-type]
    return 0


def app_from_environment() -> object:
    """Uvicorn factory: each worker process builds its app from the settings ``serve`` left."""
    from attune.app import create_app

    app = create_app(msgspec.json.decode(
        os.environ["ATTUNE_SETTINGS"], type=Settings, dec_hook=_path
    ))
    tune_collector()
    return app


def tune_collector() -> None:
    """A room's sockets and answers are hundreds of thousands of long-lived objects, and with
    CPython's default thresholds the cyclic collector rescans them every few thousand
    allocations: a tenth of the CPU an answer costs and a third of a reconnect storm's (measured
    at 10,000 participants, see "Optimisation log" in ``docs/benchmarks.md``). Collect less
    often, and never rescan what exists at startup (modules, scenarios).

    Only a serving process does this (``attune serve``'s workers, and the bench's ``attune``
    target, which measures Attune as served): a process that imports Attune as a library, or the
    test suite, keeps the collector it had."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _path(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(kind)


def scenarios_command(args: argparse.Namespace) -> int:
    if args.action == "schema":
        print(json.dumps(sc.json_schema(), indent=2, ensure_ascii=False))
        return 0
    if args.action == "list":
        try:
            found = sc.load_folder(args.paths[0] if args.paths else Settings().scenarios)
        except sc.ScenarioError as error:
            print(error, file=sys.stderr)
            return 1
        for s in found.values():
            print(f"{s.id:24} {s.duration_minutes:>3} min  {','.join(s.languages):9} "
                  f"{','.join(s.audience):22} {sc.localize(s.title, 'en')}")
        return 0
    failed = 0
    paths = [p for path in args.paths for p in (sorted(path.glob("*.yaml")) if path.is_dir()
                                                else [path])]
    for path in paths:
        try:
            scenario = sc.load(path)
        except sc.ScenarioError as error:
            failed += 1
            for each in error.found:
                print(f"FAIL {each}", file=sys.stderr)
        else:
            print(f"ok   {path} ({scenario.id}: {len(scenario.steps)} steps)")
    return 1 if failed or not paths else 0


def backup_command(args: argparse.Namespace) -> int:
    from attune.backends.sqlite import backup, path_from_url

    if not str(args.backend).startswith("sqlite://"):
        print(f"attune: backup copies a SQLite file; {args.backend} is not one (back Redis up "
              "with its own tools, see docs/deploy.md)", file=sys.stderr)
        return 2
    destination = Path(args.destination)
    if destination.exists():
        print(f"attune: {destination} exists; name a new file", file=sys.stderr)
        return 2
    source = path_from_url(str(args.backend), Path(args.data))[0]
    try:
        backup(source, destination)
    except (OSError, sqlite3.Error) as error:
        print(f"attune: backup failed: {error}", file=sys.stderr)
        return 1
    print(f"copied {source} to {destination}", file=sys.stderr)
    return 0


def version() -> str:
    from importlib.metadata import version as installed

    return installed("attune-server")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attune", description=__doc__)
    parser.add_argument("--version", action="version", version=f"attune {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    scenarios = sub.add_parser("scenarios",
                               help="list or validate scenario files, or print their JSON Schema")
    scenarios.add_argument("action", choices=["list", "validate", "schema"])
    scenarios.add_argument("paths", nargs="*", type=Path)
    sub.add_parser("protocol-schema", help="print the JSON Schema of every wire message")
    copy = sub.add_parser("backup", help="copy the SQLite data file consistently, even while "
                                         "a server uses it")
    copy.add_argument("destination", type=Path, help="the copy to write (a new file)")
    copy.add_argument("--data", type=Path, default=_env("data", Settings().data),
                      help="data folder [ATTUNE_DATA]")
    copy.add_argument("--backend", default=_env("backend", Settings().backend),
                      help="a sqlite:// URL [ATTUNE_BACKEND]")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(settings_from(args))
    if args.command == "scenarios":
        return scenarios_command(args)
    if args.command == "backup":
        return backup_command(args)
    schema = msgspec.json.schema_components(
        [protocol.ClientMessage, protocol.ServerMessage], ref_template="#/$defs/{name}"
    )
    out = {"client": schema[0][0], "server": schema[0][1], "$defs": _dedented(schema[1])}
    print(json.dumps(out, indent=2))
    return 0


def _dedented(definitions: dict[str, Any]) -> dict[str, Any]:
    """Descriptions as ``inspect.cleandoc`` gives them: msgspec 0.23 started dedenting docstrings
    and 0.22 did not, and the published schema must not depend on which one is installed."""
    return {
        name: {**d, "description": inspect.cleandoc(d["description"])} if "description" in d else d
        for name, d in definitions.items()
    }


if __name__ == "__main__":
    sys.exit(main())
