"""A loopback xAI stand-in: real HTTP on 127.0.0.1, xAI's REST wire format, scripted faults.

Point the real OpenAI SDK (or the bot, via XAI_BASE_URL) at `standin.base_url`. Every request is
recorded, inline `data:` images decoded. Pictures are `standin.picture` (a PNG); videos finish
after `polls_until_done` pending polls with a `video.url` on this same server, which serves
`standin.video_bytes(request_id)`:

    async with XAIStandin(latency=1.0) as standin:
        standin.queue(EDITS, status=429, headers={"retry-after": "0.2"})
        standin.always(GENERATIONS, status=503)         # 5xx forever (until reset())
        standin.queue(GENERATIONS, delay=30)            # longer than the client's timeout
        standin.moderate(EDITS)                         # HTTP 200 with data: []
        standin.script(VideoOutcome.failed("boom"), VideoOutcome.oversize(10_000_000))
        standin.queue(FILES, status=503)                # the next MP4 download fails once
        standin.scene_text = "The fox ..."              # what chat completions answer
        standin.queue(CHAT, json=chat_answer(None, refusal="I can't write that."))
        ...
        standin.requests_to(EDITS)[0].images[0].data
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from tests.conformance.traffic import BODY, Conformance
from tests.conformance.traffic import SCRIPTED as ON_PURPOSE
from tests.fakes.loopback import LoopbackServer
from tests.fakes.pictures import mp4, png
from tests.fakes.scene_art import scene_film, scene_picture
from tests.fakes.xai_wire import (
    PENDING_FORMS,
    InlineImage,
    PendingForm,
    VideoJob,
    VideoOutcome,
    chat_answer,
    chat_problem,
    edit_problem,
    error_body,
    fields_of,
    final_answer,
    image_model,
    image_problem,
    inline_images,
    language_model,
    pending_answer,
    video_problem,
)

__all__ = [
    "BLOCKED",
    "CHAT",
    "EDITS",
    "FILES",
    "GENERATIONS",
    "IMAGE_MODELS",
    "LANGUAGE_MODELS",
    "PENDING_FORMS",
    "POLL",
    "REDIRECTS",
    "VIDEOS",
    "InlineImage",
    "PendingForm",
    "Recorded",
    "VideoOutcome",
    "XAIStandin",
    "chat_answer",
    "error_body",
    "xai_standin",
]

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
VIDEOS = "/v1/videos/generations"
POLL = "/v1/videos/{request_id}"
FILES = "/files/{name}"
REDIRECTS = "/redirect/{name}"
IMAGE_MODELS = "/v1/image-generation-models"
LANGUAGE_MODELS = "/v1/language-models"
CHAT = "/v1/chat/completions"
ROUTES = (GENERATIONS, EDITS, VIDEOS, POLL, FILES, REDIRECTS, IMAGE_MODELS, LANGUAGE_MODELS, CHAT)
# xAI's image models (provider-apis.md §2.1) and their aliases; any other id answers 404.
SERVED_IMAGE_MODELS: Mapping[str, tuple[str, ...]] = {
    "grok-imagine-image": (),
    "grok-imagine-image-2.0": (),
    "grok-imagine-image-quality": ("grok-imagine-image-pro",),
}
# xAI's text models (provider-apis.md §2.1) and their aliases; chat completions take either.
SERVED_TEXT_MODELS: Mapping[str, tuple[str, ...]] = {
    "grok-4.20-0309-non-reasoning": ("grok-4.20-non-reasoning",),
    "grok-4.20-0309-reasoning": ("grok-4.20",),
    "grok-4.3": (),
    "grok-4.5": (),
}
IMAGE_TICKS = 200_000_000  # what an image costs, in the answer's usage: $0.02
DEFAULT_SCENE = "Under a violet sky the fox turned the brass key, and the lighthouse door opened."
CHUNK = 64 * 1024
# The wording of xAI's 400 for a blocked prompt or picture (described only in prose by xAI).
BLOCKED = "Generated image rejected by content moderation."


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the stand-in received it; `route` is one of ROUTES."""

    method: str
    path: str
    route: str
    content_type: str
    headers: Mapping[str, str]  # lower-case names
    json: object  # the decoded JSON body, None when there was none or it was not JSON
    images: tuple[InlineImage, ...]  # `image` / `images[]` data URIs, in order
    at: float  # time.monotonic() on arrival

    @property
    def fields(self) -> Mapping[str, object]:
        return fields_of(self.json)


@dataclass(frozen=True, slots=True)
class Scripted:
    """One scripted answer; `json`/`body` None means the route's normal answer."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    json: object = None
    body: bytes | None = None  # sent as is, with a JSON content type (for malformed answers)
    delay: float = 0.0  # seconds, added to the stand-in's latency
    b64_json: str | None = None  # image routes: this instead of the picture

    @property
    def on_purpose(self) -> bool:
        """An answer the test chose (a status, a body): not held to the spec."""
        return self.status != 200 or self.json is not None or self.body is not None


RECORDED = web.RequestKey("recorded", Recorded)
SCRIPTED = web.RequestKey("scripted", Scripted)


class XAIStandin(LoopbackServer):
    """The stand-in server. Use as `async with XAIStandin() as standin:` or the fixture."""

    def __init__(
        self, *, latency: float = 0.0, polls_until_done: int = 1, api_key: str | None = None
    ) -> None:
        super().__init__(Conformance("xai", "/v1/", spec_prefix="/v1/"))
        self.latency = latency  # seconds before every answer (benchmarks use it)
        self.route_latency: dict[str, float] = {}  # extra seconds per route
        self.polls_until_done = polls_until_done  # pending answers before a job's outcome
        self.api_key = api_key  # when set, any other bearer key gets a 401
        self.picture = png((64, 64), "purple")
        self.pending_form: PendingForm = "202-json"  # how a job still rendering is answered
        self.image_models: dict[str, tuple[str, ...]] = dict(SERVED_IMAGE_MODELS)
        self.image_ticks: int | None = IMAGE_TICKS  # None: answers without `usage`
        self.text_models: dict[str, tuple[str, ...]] = dict(SERVED_TEXT_MODELS)
        self.scene_text = DEFAULT_SCENE  # what chat completions answer
        # True: pictures show the prompt's words, videos are real H.264 clips of the picture.
        self.draws_scenes = False
        self.requests: list[Recorded] = []
        self.in_flight = 0  # requests being answered now
        self.peak_in_flight = 0  # the most requests answered at once
        self.jobs: dict[str, VideoJob] = {}
        self._outcomes: deque[VideoOutcome] = deque()
        self._queues: dict[str, deque[Scripted]] = {route: deque() for route in ROUTES}
        self._standing: dict[str, Scripted] = {}

    # -- life cycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def middlewares(self) -> list[Middleware]:
        return [self._middleware]

    def build(self, app: web.Application) -> None:
        app.router.add_post(GENERATIONS, self._images)
        app.router.add_post(EDITS, self._edits)
        app.router.add_post(VIDEOS, self._submit)
        app.router.add_get(POLL, self._poll)
        app.router.add_get(FILES, self._file)
        app.router.add_get(REDIRECTS, self._redirect)
        app.router.add_get(IMAGE_MODELS, self._image_models)
        app.router.add_get(LANGUAGE_MODELS, self._language_models)
        app.router.add_post(CHAT, self._chat)

    # -- scripting --------------------------------------------------------------------------

    def queue(
        self,
        route: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        json: object = None,
        body: bytes | None = None,
        delay: float = 0.0,
        b64_json: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests to `route` like this, then carry on as before."""
        scripted = Scripted(status, dict(headers or {}), json, body, delay, b64_json)
        self._queues[_known(route)].extend([scripted] * times)

    def always(
        self,
        route: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        json: object = None,
        body: bytes | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer every request to `route` like this (after the queue) until `reset()`."""
        self._standing[_known(route)] = Scripted(status, dict(headers or {}), json, body, delay)

    def moderate(self, route: str, *, blank_item: bool = False, times: int = 1) -> None:
        """xAI's silent moderation: HTTP 200 with `data: []` (or an item without a picture)."""
        data = [{"revised_prompt": ""}] if blank_item else []
        self.queue(route, json={"created": int(time.time()), "data": data}, times=times)

    def block(self, route: str, message: str = BLOCKED, *, times: int = 1) -> None:
        """xAI's spoken moderation: HTTP 400 whose error text says moderation blocked it."""
        self.queue(route, status=400, json=error_body(message), times=times)

    def malformed(self, route: str, *, times: int = 1) -> None:
        """A 200 whose body is cut-off JSON."""
        self.queue(route, body=b'{"created": 1, "data": [{"b64_json": "iVBO', times=times)

    def not_an_image(self, route: str, *, times: int = 1) -> None:
        """A well-formed answer whose b64_json decodes to something that is not a picture."""
        self.queue(route, b64_json=base64.b64encode(b"not a picture").decode(), times=times)

    def url_only(self, route: str, *, times: int = 1) -> None:
        """An item with a temporary URL instead of the base64 the request asked for."""
        item = {"url": f"{self.origin}/files/missing.png", "revised_prompt": ""}
        self.queue(route, json={"created": int(time.time()), "data": [item]}, times=times)

    def script(self, *outcomes: VideoOutcome) -> None:
        """The next submitted video jobs end like this, in order; later ones end `done`."""
        self._outcomes.extend(outcomes)

    def reset(self) -> None:
        """Forget queued and standing answers, scripted outcomes and recorded requests."""
        for pending in self._queues.values():
            pending.clear()
        self._standing.clear()
        self._outcomes.clear()
        self.requests.clear()

    # -- reading ----------------------------------------------------------------------------

    def requests_to(self, route: str) -> list[Recorded]:
        route = _known(route)
        return [request for request in self.requests if request.route == route]

    def video_bytes(self, request_id: str) -> bytes:
        """The MP4 this job's URL serves."""
        job = self.jobs[request_id]
        first_frame = inline_images(job.body)
        if self.draws_scenes and job.outcome == VideoOutcome() and first_frame:
            return scene_film(first_frame[0].data)
        return mp4(job.outcome.size)

    def _picture(self, recorded: Recorded) -> bytes:
        prompt = recorded.fields.get("prompt")
        if self.draws_scenes and isinstance(prompt, str):
            return scene_picture(prompt, take=len(self.requests))
        return self.picture

    # -- serving ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._answer(request, handler)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else request.path
        recorded = await _record(request, route)
        self.requests.append(recorded)
        request[BODY] = recorded.json
        pending = self._queues.get(route, deque())
        scripted = pending.popleft() if pending else self._standing.get(route, Scripted())
        request[ON_PURPOSE] = scripted.on_purpose
        await self._sleep(self.latency + self.route_latency.get(route, 0.0) + scripted.delay)
        if self.api_key is not None and route.startswith("/v1/"):
            sent = recorded.headers.get("authorization", "").removeprefix("Bearer ")
            if sent != self.api_key:
                return _json(401, error_body("Incorrect API key provided", "Unauthorized"))
        if scripted.body is not None:
            return web.Response(
                status=scripted.status,
                body=scripted.body,
                headers=scripted.headers,
                content_type="application/json",
            )
        if scripted.json is not None:
            return _json(scripted.status, scripted.json, scripted.headers)
        if scripted.status >= 400:
            failure = error_body(f"scripted HTTP {scripted.status}", "Scripted failure")
            return _json(scripted.status, failure, scripted.headers)
        request[RECORDED], request[SCRIPTED] = recorded, scripted
        return await handler(request)

    async def _images(self, request: web.Request) -> web.StreamResponse:
        recorded = request[RECORDED]
        problem = image_problem(recorded.fields)
        if problem is not None:
            return _json(400, error_body(problem))
        model = recorded.fields.get("model")
        if not _serves(self.image_models, model):
            return _unknown_model(model)
        scripted = request[SCRIPTED]
        picture = scripted.b64_json or base64.b64encode(self._picture(recorded)).decode()
        item = {"b64_json": picture, "revised_prompt": ""}
        answer: dict[str, object] = {"created": int(time.time()), "data": [item]}
        if self.image_ticks is not None:
            answer["usage"] = {"cost_in_usd_ticks": self.image_ticks}
        return _json(200, answer)

    async def _image_models(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1/image-generation-models` (ListImageGenerationModelsResponse)."""
        return _json(
            200,
            {"models": [image_model(key, aliases) for key, aliases in self.image_models.items()]},
        )

    async def _language_models(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1/language-models` (ListLanguageModelsResponse)."""
        models = [language_model(key, aliases) for key, aliases in self.text_models.items()]
        return _json(200, {"models": models})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        """`POST /v1/chat/completions`: a ChatRequest answered with a ChatResponse."""
        fields = request[RECORDED].fields
        problem = chat_problem(fields)
        if problem is not None:
            return _json(422, error_body(problem))
        model = str(fields["model"])
        if not _serves(self.text_models, model):
            return _unknown_model(model)
        answer = chat_answer(self.scene_text, model=model, request_number=len(self.requests))
        return _json(200, answer)

    async def _edits(self, request: web.Request) -> web.StreamResponse:
        recorded = request[RECORDED]
        problem = edit_problem(recorded.content_type, recorded.fields, len(recorded.images))
        if problem is not None:
            return _json(400, error_body(problem))
        return await self._images(request)

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        recorded = request[RECORDED]
        problem = video_problem(recorded.fields, len(recorded.images))
        if problem is not None:
            return _json(400, error_body(problem))
        outcome = self._outcomes.popleft() if self._outcomes else VideoOutcome()
        request_id = str(uuid.uuid4())
        self.jobs[request_id] = VideoJob(request_id, outcome, recorded.fields)
        return _json(200, {"request_id": request_id})

    async def _poll(self, request: web.Request) -> web.StreamResponse:
        job = self.jobs.get(request.match_info["request_id"])
        if job is None:
            return _json(404, error_body("No such request", "Not found"))
        job.polls += 1
        if job.outcome.kind == "never" or job.polls <= self.polls_until_done:
            status, pending = pending_answer(job, self.polls_until_done, self.pending_form)
            if pending is None:
                return web.Response(status=status)
            return _json(status, pending)
        return _json(200, final_answer(job, self.origin))

    async def _file(self, request: web.Request) -> web.StreamResponse:
        job = self.jobs.get(request.match_info["name"].removesuffix(".mp4"))
        if job is None or job.outcome.kind == "missing_file":
            return web.Response(status=404, text="Not Found")
        data = self.video_bytes(job.request_id)
        if job.outcome.declare_length:
            return web.Response(body=data, content_type="video/mp4")
        response = web.StreamResponse(headers={"content-type": "video/mp4"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(data), CHUNK):
            await response.write(data[start : start + CHUNK])
        await response.write_eof()
        return response

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/files/{request.match_info['name']}")


def _known(route: str) -> str:
    if route not in ROUTES:
        raise ValueError(f"the stand-in does not serve {route!r}; it serves {ROUTES}")
    return route


def _serves(models: Mapping[str, tuple[str, ...]], model: object) -> bool:
    return any(model == key or model in aliases for key, aliases in models.items())


def _unknown_model(model: object) -> web.Response:
    message = f"The model {model} does not exist or your team does not have access to it."
    return _json(404, error_body(message, "Some requested entity was not found"))


def _json(status: int, payload: object, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(payload), headers=headers, content_type="application/json"
    )


async def _record(request: web.Request, route: str) -> Recorded:
    body: object = None
    if request.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = json.loads(await request.read() or b"null")
    return Recorded(
        method=request.method,
        path=request.path,
        route=route,
        content_type=request.headers.get("content-type", ""),
        headers={name.lower(): value for name, value in request.headers.items()},
        json=body,
        images=inline_images(fields_of(body)),
        at=time.monotonic(),
    )


@pytest.fixture
async def xai_standin() -> AsyncIterator[XAIStandin]:
    """A running stand-in for one test; import this name into a test module to use it."""
    async with XAIStandin() as standin:
        yield standin
