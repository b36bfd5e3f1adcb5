"""The HTTP side: the session API, health and metrics, the static web UI; and what serves ``/ws``.

``POST /api/sessions`` is the only way a session starts. It returns the facilitator token once; the
server keeps only its hash, so whoever holds the token runs the session and nobody else can.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, ClassVar

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attune.backends import Backend, CodeTaken, open_backend
from attune.clock import Clock
from attune.config import Settings, missing
from attune.core import scenario as sc
from attune.core.errors import BackendUnavailable
from attune.core.export import export, to_csv
from attune.core.moderation import help_text
from attune.core.session import SessionInfo, digest, entry_encoder
from attune.library import Library
from attune.library import routes as library_routes
from attune.metrics import Metrics
from attune.node import Node, Replica
from attune.themes import open_grouper
from attune.transport import uvicorn_glue
from attune.transport.limits import AddressLimits
from attune.transport.ws import Endpoint

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I: a code read off a projector must not be misread."""
CODE_LENGTH = 6
MAX_UPLOAD = sc.MAX_FILE_BYTES
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[dict[str, Endpoint]]]


class CreateSession(msgspec.Struct, forbid_unknown_fields=True):
    scenario: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    """Id of a loaded scenario."""
    scenario_yaml: Annotated[str, msgspec.Meta(max_length=MAX_UPLOAD)] | None = None
    """Or a whole scenario file, uploaded from the console."""
    language: str = "en"
    moderation: bool | None = None
    """Free-text cards wait for approval; by default on for scenarios meant for a classroom."""
    min_responses: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    """Answers a step needs before results show; never below the server's floor."""


class Created(msgspec.Struct):
    session: str
    code: str
    token: str
    join_url: str
    facilitator_url: str
    screen_url: str


class ModeratorLink(msgspec.Struct):
    """The moderator link, shown once: the server keeps only the token's hash."""

    token: str
    moderator_url: str


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _json(data: object, status: int = 200) -> Response:
    return Response(msgspec.json.encode(data), status, media_type="application/json")


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip()


def _problem(status: int, message: str, **extra: object) -> Response:
    return JSONResponse({"error": message, **extra}, status)


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    """The application; raises RuntimeError, naming what, if the web UI or the scenarios are
    missing (a broken install must not start as a server that answers 404). ``clock`` is the
    node's session time (tests pass one they can move forward; the real one otherwise)."""
    problems = missing(settings)
    if problems:
        raise RuntimeError("Attune cannot start without " + " and ".join(problems))
    metrics = Metrics()
    backend = open_backend(settings.backend, settings.retention_s, settings.inactive_s,
                           data=settings.data)
    node = Node(backend, settings, metrics, clock=clock)
    library = Library(backend, settings)
    limits = AddressLimits()
    routes: list[BaseRoute] = [
        *library_routes(library),
        *Sessions(node, library, settings).routes(),
        *Health(backend, metrics).routes(),
        Route("/join/{code:str}", join_redirect),
        Mount("/", StaticFiles(directory=settings.web_root, html=True)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan(node, limits, settings),
                    middleware=[Middleware(SecurityHeaders)])
    app.state.node = node
    app.state.limits = limits
    app.state.scenarios = library.builtins
    return app


def lifespan(node: Node, limits: AddressLimits, settings: Settings) -> Lifespan:
    """Start the node (and the themes worker), and open the ``/ws`` endpoint while serving."""

    @contextlib.asynccontextmanager
    async def serving(app: Starlette) -> AsyncIterator[dict[str, Endpoint]]:
        # The lifespan state is how uvicorn's WebSocket protocol (``Connection``) finds the node.
        if settings.themes:
            node.grouper = open_grouper()
        await node.start()
        try:
            async with Endpoint(node, limits, settings) as endpoint:
                app.state.endpoint = endpoint
                yield {uvicorn_glue.ENDPOINT_KEY: endpoint}
        finally:
            await node.stop()

    return serving


class Sessions:
    """``/api/sessions``: start a session; then, with its facilitator token, hand out the
    moderator link, export the answers, delete it."""

    def __init__(self, node: Node, library: Library, settings: Settings) -> None:
        self.node = node
        self.library = library
        self.settings = settings

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/sessions", self.create, methods=["POST"]),
            Route("/api/sessions/{session}", self.delete, methods=["DELETE"]),
            Route("/api/sessions/{session}/export", self.export),
            Route("/api/sessions/{session}/moderator", self.moderator,
                  methods=["POST", "DELETE"]),
        ]

    async def create(self, request: Request) -> Response:
        admin_key = self.settings.admin_key
        if admin_key is not None and not hmac.compare_digest(
            _bearer(request).encode(), admin_key.encode()
        ):
            return _problem(401, "This server requires an admin key to create sessions.")
        body = await request.body()
        if len(body) > MAX_UPLOAD + 4096:
            return _problem(413, f"Request too large; scenario files are limited to {MAX_UPLOAD} "
                            "bytes.")
        try:
            wanted = msgspec.json.decode(body, type=CreateSession)
        except msgspec.DecodeError as exc:
            return _problem(400, f"Invalid request: {exc}")
        scenario = await self._scenario(wanted)
        if isinstance(scenario, Response):
            return scenario
        token = secrets.token_urlsafe(24)
        info = await self._store(wanted, scenario, token)
        if info is None:
            return _problem(503, "Could not find a free join code; try again.")
        self.node.metrics.sessions_created.inc()
        base = str(request.base_url).rstrip("/")
        return _json(Created(
            session=info.id, code=info.code, token=token,
            join_url=f"{base}/join/{info.code}",
            facilitator_url=f"{base}/console/#{info.id}.{token}",
            screen_url=f"{base}/screen/#{info.code}",
        ), 201)

    async def _scenario(self, wanted: CreateSession) -> sc.Scenario | Response:
        """The uploaded scenario, or a copy of the library's: changing the library later changes
        nothing for this session."""
        if wanted.scenario_yaml is not None:
            try:
                return sc.loads(wanted.scenario_yaml, "upload")
            except sc.ScenarioError as exc:
                # Every mistake at once, in the file's order, as the library's API lists them.
                return _problem(422, "\n".join(str(e) for e in exc.found), path=exc.path,
                                line=exc.line, errors=[{"path": e.path, "line": e.line,
                                                        "message": e.detail, "code": e.code,
                                                        "params": e.params} for e in exc.found])
        found = await self.library.resolve(wanted.scenario) if wanted.scenario else None
        if found is None:
            return _problem(404, f"Unknown scenario {wanted.scenario!r}.",
                            known=sorted(self.library.builtins))
        return found

    async def _store(self, wanted: CreateSession, scenario: sc.Scenario,
                     token: str) -> SessionInfo | None:
        """Create the session under a free join code; None if twenty draws were all taken."""
        settings = self.settings
        language = wanted.language if wanted.language in scenario.languages else "en"
        queue = wanted.moderation if wanted.moderation is not None \
            else "classroom" in scenario.audience
        session_id = secrets.token_hex(8)
        for _ in range(20):
            info = SessionInfo(
                id=session_id, code=new_code(), epoch=secrets.token_hex(4),
                secret=secrets.token_hex(16), token_hash=digest(token), language=language,
                min_responses=max(settings.min_responses, wanted.min_responses or 0),
                created_at=self.node.clock.now_ms(), scenario=scenario, moderation=queue,
                help_text=help_text(language, sc.localize(scenario.help, language),
                                    settings.help_text),
            )
            try:
                await self.node.backend.create(session_id, info.code, entry_encoder.encode(info))
            except CodeTaken:
                continue
            return info
        return None

    async def _facilitated(self, request: Request) -> Replica | Response:
        """The session named in the path if the request carries its facilitator token."""
        replica = await self.node.replica(request.path_params["session"])
        if replica is None:
            return _problem(404, "No such session.")
        proof = digest(_bearer(request))
        if not hmac.compare_digest(proof, replica.session.info.token_hash):
            moderator = replica.session.moderator_hash
            if moderator and hmac.compare_digest(proof, moderator):
                return _problem(403, "A moderator link cannot do this; the facilitator can.",
                                code="not-for-moderators")
            return _problem(403, "The facilitator token does not match this session.")
        return replica

    async def moderator(self, request: Request) -> Response:
        """A new moderator link (revoking the one before), or, with DELETE, none."""
        replica = await self._facilitated(request)
        if isinstance(replica, Response):
            return replica
        if request.method == "DELETE":
            await self.node.delegate(replica, "")
            return Response(status_code=204)
        token = secrets.token_urlsafe(24)
        await self.node.delegate(replica, digest(token))
        base = str(request.base_url).rstrip("/")
        session_id = replica.session.info.id
        return _json(ModeratorLink(token=token,
                                   moderator_url=f"{base}/console/#{session_id}.{token}"), 201)

    async def delete(self, request: Request) -> Response:
        replica = await self._facilitated(request)
        if isinstance(replica, Response):
            return replica
        await self.node.delete(replica.session.info.id)
        return Response(status_code=204)

    async def export(self, request: Request) -> Response:
        replica = await self._facilitated(request)
        if isinstance(replica, Response):
            return replica
        session_id = replica.session.info.id
        data = export(replica.session)
        if request.query_params.get("format") == "csv":
            return Response(to_csv(data), media_type="text/csv; charset=utf-8", headers={
                "content-disposition": f'attachment; filename="attune-{session_id}.csv"'})
        return _json(data)


class Health:
    """``/healthz`` (the process answers), ``/readyz`` (and reaches its store), ``/metrics``."""

    def __init__(self, backend: Backend, metrics: Metrics) -> None:
        self.backend = backend
        self.metrics = metrics

    def routes(self) -> list[BaseRoute]:
        return [Route("/healthz", self.healthz), Route("/readyz", self.readyz),
                Route("/metrics", self.render)]

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        try:
            ready = await self.backend.ready()
        except BackendUnavailable:
            ready = False
        return PlainTextResponse("ready" if ready else "backend unavailable",
                                 200 if ready else 503)

    async def render(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4")


async def join_redirect(request: Request) -> Response:
    """``/join/CODE``, the address printed and in the QR code: the join page with the code."""
    return RedirectResponse(f"/join/#{request.path_params['code']}")


class SecurityHeaders:
    """A strict Content-Security-Policy (no inline script) and the usual hardening headers."""

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"content-security-policy",
         b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
         b"form-action 'self'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]

    FRAMED: ClassVar[frozenset[str]] = frozenset({"/screen/preview.html"})
    """Pages another page of this server shows in a frame (the editor's projector preview draws
    the real projector page at its real size); every other page refuses any frame."""
    FRAMED_HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (name, {
            b"content-security-policy": value.replace(b"frame-ancestors 'none'",
                                                      b"frame-ancestors 'self'"),
            b"x-frame-options": b"SAMEORIGIN",
        }.get(name, value))
        for name, value in HEADERS
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.FRAMED_HEADERS if scope["path"] in self.FRAMED else self.HEADERS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def uvicorn_config(settings: Settings) -> dict[str, object]:
    """Transport settings shared by ``attune serve`` and the tests."""
    return {
        "host": settings.host,
        "port": settings.port,
        **uvicorn_glue.protocols(),
        "ws_max_size": 64 * 1024,
        "timeout_keep_alive": 5,
        "access_log": False,
        "server_header": False,
        "lifespan": "on",
    }
