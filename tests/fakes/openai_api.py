"""A loopback OpenAI stand-in: real HTTP on 127.0.0.1, the real wire format, scripted faults.

Point the real SDK (or the bot, via OPENAI_BASE_URL) at `standin.base_url`. Every request is
recorded in `standin.requests`; answers are solid-colour PNGs (`color`, `size`) and a fixed
`scene_text` unless a scripted answer is queued for the route:

    async with OpenAIStandin(latency=1.0) as standin:       # or the `openai_standin` fixture
        standin.queue(EDITS, status=429, headers={"retry-after": "0"})
        standin.refuse(GENERATIONS)                          # 400 moderation_blocked
        standin.always(EDITS, status=503)                    # 5xx forever (until reset())
        standin.queue(CHAT, delay=30)                        # longer than the client's timeout
        standin.malformed(GENERATIONS); standin.not_an_image(EDITS)
        ...
        standin.requests_to(EDITS)[0].images[0].data
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import json
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from aiohttp import BodyPartReader, web
from PIL import Image

from tests.conformance.traffic import BODY, SCRIPTED, Conformance, form_fields
from tests.fakes.loopback import LoopbackServer
from tests.fakes.scene_art import scene_picture

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
CHAT = "/v1/chat/completions"
MODELS = "/v1/models"
ROUTES = (GENERATIONS, EDITS, CHAT)

# The image ids of openai 3.57.0's ImageModel with their shutdown dates (provider-apis.md §1.1);
# from its date on a model answers 404 model_not_found, and leaves GET /v1/models.
IMAGE_MODELS: Mapping[str, date | None] = {
    "gpt-image-1.5": date(2026, 12, 1),
    "gpt-image-2": None,
    "gpt-image-2-2026-04-21": None,
    "gpt-image-2.5-sunburst": None,
    "gpt-image-2.5-flare": None,
    "gpt-image-2.6-sunburst": None,
    "gpt-image-2.6-flare": None,
    "gpt-image-1": date(2026, 10, 23),
    "gpt-image-1-mini": date(2026, 12, 1),
    "chatgpt-image-latest": date(2026, 12, 1),
    "dall-e-2": date(2026, 5, 12),
    "dall-e-3": date(2026, 5, 12),
}
TEXT_MODELS: Mapping[str, date | None] = {"gpt-5.4-mini": None, "gpt-5-mini": date(2026, 12, 11)}

DEFAULT_SCENE = "The lighthouse keeper's fox padded along the wet rocks toward the singing whale."
REFUSAL = "Your request was rejected by the safety system. safety_violations=[violence]."


@dataclass(frozen=True, slots=True)
class FilePart:
    """One uploaded file of a multipart request."""

    field: str  # "image[]" for a list of images, "image" for a single one, "mask"...
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the stand-in received it."""

    method: str
    path: str
    content_type: str
    headers: Mapping[str, str]  # lower-case names
    fields: Mapping[str, object]  # the JSON body, or the multipart text fields
    files: tuple[FilePart, ...]
    at: float  # time.monotonic() on arrival

    @property
    def images(self) -> tuple[FilePart, ...]:
        return tuple(part for part in self.files if part.field in ("image", "image[]"))


@dataclass(frozen=True, slots=True)
class Scripted:
    """One scripted answer; `json`/`body` None means the route's normal answer."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    json: object = None
    body: bytes | None = None  # sent as is (malformed JSON, a proxy's HTML page)
    delay: float = 0.0  # seconds, added to the stand-in's latency
    b64_json: str | None = None  # image routes: this instead of the picture

    @property
    def on_purpose(self) -> bool:
        """An answer the test chose (a status, a body): not held to the spec."""
        return self.status != 200 or self.json is not None or self.body is not None

    content_type: str = "application/json"  # of `body`


def error_body(status: int, message: str, code: str | None = None, kind: str = "") -> object:
    """OpenAI's error envelope."""
    kind = kind or ("server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@functools.lru_cache(maxsize=32)  # encoding a large picture per request would skew benchmarks
def solid_png(color: str | tuple[int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def describe(picture: bytes) -> tuple[tuple[int, int], tuple[int, int, int]]:
    """Size and top-left RGB colour of a picture, to recognise what the stand-in drew."""
    with Image.open(io.BytesIO(picture)) as image:
        rgb = image.convert("RGB")
        red, green, blue = rgb.getpixel((0, 0))  # type: ignore[misc]  # RGB pixels are 3-tuples
        return image.size, (red, green, blue)


class OpenAIStandin(LoopbackServer):
    """The stand-in server. Use as `async with OpenAIStandin() as standin:` or the fixture."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        color: str | tuple[int, int, int] = (0, 128, 128),
        size: tuple[int, int] = (64, 64),
        scene_text: str = DEFAULT_SCENE,
        api_key: str | None = None,
    ) -> None:
        super().__init__(Conformance("openai", "/v1/", spec_prefix="/"))
        self.latency = latency  # seconds before every answer (benchmarks use 1 s)
        self.color = color
        self.size = size
        self.draws_scenes = False  # True: pictures show the prompt's words on a gradient
        self.scene_text = scene_text
        self.api_key = api_key  # when set, any other bearer key gets a realistic 401
        self.models: dict[str, date | None] = {**IMAGE_MODELS, **TEXT_MODELS}
        self.today: date | None = None  # the stand-in's own date; None: today in UTC
        self.requests: list[Recorded] = []
        self._queues: dict[str, deque[Scripted]] = {route: deque() for route in ROUTES}
        self._standing: dict[str, Scripted] = {}

    # -- life cycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def build(self, app: web.Application) -> None:
        for route in ROUTES:
            app.router.add_post(route, self._handle)
        app.router.add_get(MODELS, self._list_models)

    # -- scripting --------------------------------------------------------------------------

    def queue(
        self,
        path: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        json: object = None,
        body: bytes | None = None,
        delay: float = 0.0,
        b64_json: str | None = None,
        content_type: str = "application/json",
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests to `path` like this, then carry on as before."""
        scripted = Scripted(status, dict(headers or {}), json, body, delay, b64_json, content_type)
        self._queues[_route(path)].extend([scripted] * times)

    def always(
        self,
        path: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        json: object = None,
        body: bytes | None = None,
        delay: float = 0.0,
        b64_json: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer every request to `path` like this (after the queue) until `reset()`."""
        self._standing[_route(path)] = Scripted(
            status, dict(headers or {}), json, body, delay, b64_json, content_type
        )

    def refuse(self, path: str, message: str = REFUSAL, *, times: int = 1) -> None:
        """The GPT-image safety refusal: 400 with error.code "moderation_blocked"."""
        refusal = error_body(400, message, "moderation_blocked", "image_generation_user_error")
        self.queue(path, status=400, json=refusal, times=times)

    def malformed(self, path: str, *, times: int = 1) -> None:
        """A 200 whose body is cut-off JSON."""
        self.queue(path, body=b'{"created": 1, "data": [{"b64_json": "iVBO', times=times)

    def not_an_image(self, path: str, *, times: int = 1) -> None:
        """A well-formed answer whose b64_json decodes to something that is not a picture."""
        text = base64.b64encode(b"this is not a picture").decode()
        self.queue(path, b64_json=text, times=times)

    def reset(self) -> None:
        """Forget queued and standing answers and the recorded requests."""
        for pending in self._queues.values():
            pending.clear()
        self._standing.clear()
        self.requests.clear()

    # -- reading ----------------------------------------------------------------------------

    def requests_to(self, path: str) -> list[Recorded]:
        route = _route(path)
        return [request for request in self.requests if request.path == route]

    @property
    def picture(self) -> bytes:
        """The PNG the stand-in currently answers with."""
        return solid_png(self.color, self.size)

    # -- serving ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        recorded = await _record(request)
        self.requests.append(recorded)
        files = Counter(part.field for part in recorded.files)
        request[BODY] = form_fields(recorded.fields, files) if files else recorded.fields
        pending = self._queues[request.path]
        scripted = pending.popleft() if pending else self._standing.get(request.path, Scripted())
        request[SCRIPTED] = scripted.on_purpose
        await self._sleep(self.latency + scripted.delay)
        rejected = self._check_key(recorded) or self._model_gone(recorded)
        if rejected is not None:
            return rejected
        return self._answer(recorded, scripted)

    def served(self, model: str) -> bool:
        """Whether `model` exists today, by the stand-in's date."""
        if model not in self.models:
            return False
        shutdown = self.models[model]
        today = self.today or datetime.now(UTC).date()
        return shutdown is None or today < shutdown

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1/models`: every model served today, with its announced shutdown date."""
        await self._sleep(self.latency)
        rejected = self._check_key(await _record(request))
        if rejected is not None:
            return rejected
        data = [
            {
                "id": model,
                "object": "model",
                "created": 1_750_000_000,
                "owned_by": "system",
                "shutdown_date": shutdown.isoformat() if shutdown else None,
            }
            for model, shutdown in self.models.items()
            if self.served(model)
        ]
        return _json(200, {"object": "list", "data": data}, {})

    def _model_gone(self, recorded: Recorded) -> web.Response | None:
        """OpenAI's answer to an image call naming a model it does not (or no longer) serve."""
        model = str(recorded.fields.get("model", ""))
        if recorded.path == CHAT or self.served(model):
            return None
        message = f"The model `{model}` does not exist or you do not have access to it."
        return _json(404, error_body(404, message, "model_not_found"), {})

    def _check_key(self, recorded: Recorded) -> web.Response | None:
        if self.api_key is None:
            return None
        sent = recorded.headers.get("authorization", "").removeprefix("Bearer ")
        if sent == self.api_key:
            return None
        shown = f"{sent[:8]}{'*' * 12}{sent[-4:]}"  # how OpenAI echoes a wrong key
        message = f"Incorrect API key provided: {shown}. You can find your API key elsewhere."
        return _json(401, error_body(401, message, "invalid_api_key"), {})

    def _answer(self, recorded: Recorded, scripted: Scripted) -> web.Response:
        headers = {"x-request-id": f"req_{len(self.requests)}", **scripted.headers}
        if scripted.body is not None:
            return web.Response(
                status=scripted.status,
                body=scripted.body,
                headers=headers,
                content_type=scripted.content_type,
            )
        if scripted.json is not None:
            return _json(scripted.status, scripted.json, headers)
        if scripted.status >= 400:
            return _json(scripted.status, error_body(scripted.status, "scripted"), headers)
        if recorded.path == CHAT:
            return _json(scripted.status, self._completion(recorded), headers)
        return _json(scripted.status, self._images(recorded, scripted.b64_json), headers)

    def _images(self, recorded: Recorded, b64_json: str | None) -> object:
        prompt = recorded.fields.get("prompt")
        drawn = None
        if self.draws_scenes and isinstance(prompt, str):
            drawn = scene_picture(prompt, take=len(self.requests))
        picture = b64_json or base64.b64encode(drawn or self.picture).decode()
        return {
            "created": int(time.time()),
            "data": [{"b64_json": picture}],
            "background": "opaque",
            "output_format": recorded.fields.get("output_format", "png"),
            "quality": recorded.fields.get("quality", "medium"),
            "size": recorded.fields.get("size", "1024x1024"),
            "usage": _usage(50, 1056),
        }

    def _completion(self, recorded: Recorded) -> object:
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": recorded.fields.get("model", "gpt-5.4-mini"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.scene_text, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 200, "completion_tokens": 180, "total_tokens": 380},
        }


def _route(path: str) -> str:
    route = path if path.startswith("/v1/") else "/v1/" + path.lstrip("/")
    if route not in ROUTES:
        raise ValueError(f"the stand-in does not serve {path!r}; it serves {ROUTES}")
    return route


def _json(status: int, payload: object, headers: Mapping[str, str]) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(payload), headers=headers, content_type="application/json"
    )


def _usage(text_tokens: int, image_tokens: int) -> dict[str, object]:
    return {
        "input_tokens": text_tokens,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": 0},
        "output_tokens": image_tokens,
        "total_tokens": text_tokens + image_tokens,
    }


async def _record(request: web.Request) -> Recorded:
    fields: dict[str, object] = {}
    files: list[FilePart] = []
    if request.content_type == "multipart/form-data":
        await _read_multipart(request, fields, files)
    else:
        with contextlib.suppress(ValueError):
            body = json.loads(await request.read() or b"{}")
            fields = body if isinstance(body, dict) else {"_body": body}
    return Recorded(
        method=request.method,
        path=request.path,
        content_type=request.headers.get("content-type", ""),
        headers={name.lower(): value for name, value in request.headers.items()},
        fields=fields,
        files=tuple(files),
        at=time.monotonic(),
    )


async def _read_multipart(
    request: web.Request, fields: dict[str, object], files: list[FilePart]
) -> None:
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue  # nested multipart: the OpenAI API never sends one
        name = part.name or ""
        if part.filename is not None:
            content_type = part.headers.get("content-type", "application/octet-stream")
            files.append(FilePart(name, part.filename, content_type, bytes(await part.read())))
        else:
            fields[name] = await part.text()


@pytest.fixture
async def openai_standin() -> AsyncIterator[OpenAIStandin]:
    """A running stand-in for one test; import this name into a test module to use it."""
    async with OpenAIStandin() as standin:
        yield standin
