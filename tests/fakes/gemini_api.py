"""A loopback Gemini stand-in: real HTTP on 127.0.0.1, the real wire format, scripted faults.

Point the real google-genai SDK (or the bot, via GEMINI_BASE_URL) at `standin.base_url`. It
serves `POST /{version}/models/{model}:generateContent`, records every request and answers with
a solid-colour PNG (`color`, `size`) unless a scripted outcome is queued; a request without the
IMAGE response modality (a scene writer's) is answered with `scene_text`. `times=None` keeps an
outcome for every later request until `reset()`:

    async with GeminiStandin(latency=1.0) as standin:
        standin.block_prompt("SAFETY")                    # promptFeedback.blockReason
        standin.finish("IMAGE_SAFETY", "Too graphic.")    # finishReason + finishMessage, no image
        standin.text_only("I can't draw that.")           # a text answer, STOP, no image
        standin.rate_limit(times=2)                       # 429 RESOURCE_EXHAUSTED
        standin.server_error(503, times=None)             # 5xx forever
        standin.delay(30)                                 # longer than the client's timeout
        standin.malformed(); standin.not_an_image(); standin.thinking()
        standin.requests[0].images[0].data
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import pytest
from aiohttp import web

from tests.fakes.loopback import LoopbackServer
from tests.fakes.pictures import png

GENERATE = "generateContent"
DEFAULT_TEXT = "Here is the scene you asked for."
DEFAULT_SCENE = "Snow fell on the harbour as the fox carried the brass key up the stairs."
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
QUOTA_MESSAGE = "Resource has been exhausted (e.g. check quota)."

# What Google serves on 2026-11-29 (shared/reference/provider-apis.md §3.1): the GA image ids
# and a text model. `gemini-2.5-flash-image` and the -preview ids were shut down: 404 NOT_FOUND.
SERVED = frozenset({"gemini-3.1-flash-image", "gemini-3-pro-image", "gemini-3.8-flash"})
SHUT_DOWN = (
    "gemini-2.5-flash-image",
    "gemini-3.1-flash-image-preview",
    "gemini-3-pro-image-preview",
)


@dataclass(frozen=True, slots=True)
class InlinePart:
    """One `inlineData` part of a request, decoded."""

    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the stand-in received it."""

    version: str  # "v1", "v1beta"...
    model: str
    api_key_present: bool  # the x-goog-api-key header; its value is never recorded
    user_agent: str
    images: tuple[InlinePart, ...]  # every inlineData part, in order
    texts: tuple[str, ...]  # every text part, in order
    system: str  # the systemInstruction's text, "" without one
    kinds: tuple[str, ...]  # "image" / "text" per part, in order
    generation_config: Mapping[str, object]
    at: float  # time.monotonic() on arrival


@dataclass(frozen=True, slots=True)
class Scripted:
    """One scripted answer; `json` and `body` None mean the normal answer (a picture)."""

    status: int = 200
    json: object = None
    body: bytes | None = None  # sent as is, with a JSON content type (for malformed answers)
    delay: float = 0.0  # seconds, added to the stand-in's latency


def error_body(status: int, message: str, details: tuple[object, ...] = ()) -> object:
    """Google's error envelope."""
    error: dict[str, object] = {
        "code": status,
        "message": message,
        "status": STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = list(details)
    return {"error": error}


def error_info(reason: str) -> object:
    """A google.rpc.ErrorInfo detail, as Google attaches to auth errors."""
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def inline(data: bytes, mime_type: str = "image/png", *, thought: bool = False) -> object:
    part: dict[str, object] = {"inlineData": {"mimeType": mime_type, "data": _b64(data)}}
    if thought:
        part["thought"] = True
    return part


def answer(
    parts: list[object],
    finish: str = "STOP",
    message: str | None = None,
    *,
    model: str = "gemini-3.1-flash-image",
) -> object:
    """A generateContent answer with one candidate."""
    candidate: dict[str, object] = {"finishReason": finish, "index": 0}
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    if message is not None:
        candidate["finishMessage"] = message
    return {"candidates": [candidate], **_metadata(1290 if parts else 0, model)}


class GeminiStandin(LoopbackServer):
    """The stand-in server. Use as `async with GeminiStandin() as standin:` or the fixture."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        color: str = "orange",
        size: tuple[int, int] = (64, 64),
        api_key: str | None = None,
        models: frozenset[str] = SERVED,
    ) -> None:
        super().__init__()
        self.latency = latency  # seconds before every answer (benchmarks use 1 s)
        self.color = color
        self.size = size
        self.api_key = api_key  # when set, another key gets Google's 400 API_KEY_INVALID
        self.models = set(models)  # any other model gets Google's 404 NOT_FOUND
        self.scene_text = DEFAULT_SCENE  # the answer to a text-only request
        self.requests: list[Recorded] = []
        self._queue: deque[Scripted] = deque()
        self._standing: Scripted | None = None

    # -- life cycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.origin

    def build(self, app: web.Application) -> None:
        app.router.add_post("/{version}/models/{call}", self._handle)
        app.router.add_get("/{version}/models", self._list_models)

    # -- scripting --------------------------------------------------------------------------

    def queue(
        self,
        *,
        status: int = 200,
        json: object = None,
        body: bytes | None = None,
        delay: float = 0.0,
        times: int | None = 1,
    ) -> None:
        """Answer the next `times` requests like this (`None`: every request until `reset()`)."""
        scripted = Scripted(status, json, body, delay)
        if times is None:
            self._standing = scripted
        else:
            self._queue.extend([scripted] * times)

    def block_prompt(self, reason: str = "SAFETY", *, times: int | None = 1) -> None:
        """The prompt itself is blocked: no candidates, promptFeedback.blockReason."""
        self.queue(json={"promptFeedback": {"blockReason": reason}, **_metadata(0)}, times=times)

    def finish(
        self, reason: str = "IMAGE_SAFETY", message: str | None = None, *, times: int | None = 1
    ) -> None:
        """A candidate without a picture that ends with `reason` (and `finishMessage`).

        google-genai 3.6.1 drops `finishMessage` when it parses a Gemini API answer.
        """
        self.queue(json=answer([], reason, message), times=times)

    def text_only(self, text: str = "I can't draw that.", *, times: int | None = 1) -> None:
        """The model answers in words only and stops normally."""
        self.queue(json=answer([{"text": text}]), times=times)

    def error(
        self,
        status: int,
        message: str = "scripted",
        details: tuple[object, ...] = (),
        *,
        times: int | None = 1,
    ) -> None:
        """An HTTP error with Google's envelope."""
        self.queue(status=status, json=error_body(status, message, details), times=times)

    def rate_limit(self, *, retry_delay: str | None = None, times: int | None = 1) -> None:
        """429 RESOURCE_EXHAUSTED, with a google.rpc.RetryInfo when `retry_delay` ("7s") is set."""
        info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        self.error(429, QUOTA_MESSAGE, (info,) if retry_delay else (), times=times)

    def server_error(self, status: int = 503, *, times: int | None = 1) -> None:
        self.error(status, "The model is overloaded. Please try again later.", times=times)

    def delay(self, seconds: float, *, times: int | None = 1) -> None:
        """The normal answer, `seconds` late (beyond a client's timeout, say)."""
        self.queue(delay=seconds, times=times)

    def malformed(self, *, times: int | None = 1) -> None:
        """A 200 whose body is cut-off JSON."""
        self.queue(body=b'{"candidates": [{"content": {"parts": [{"inlineData": ', times=times)

    def not_an_image(self, *, times: int | None = 1) -> None:
        """A well-formed answer whose image part does not decode as a picture."""
        self.queue(json=answer([inline(b"this is not a picture")]), times=times)

    def thinking(self, thought_color: str = "gray", *, times: int | None = 1) -> None:
        """A thinking model's answer: a draft image marked `thought` before the final one."""
        draft = inline(png(self.size, thought_color), thought=True)
        self.queue(json=answer([draft, inline(self.picture)]), times=times)

    def reset(self) -> None:
        """Forget queued and standing outcomes and the recorded requests."""
        self._queue.clear()
        self._standing = None
        self.requests.clear()

    # -- reading ----------------------------------------------------------------------------

    @property
    def picture(self) -> bytes:
        """The PNG the stand-in currently answers with."""
        return png(self.size, self.color)

    # -- serving ----------------------------------------------------------------------------

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        """`models.list`: the served models, one page of `pageSize` (default 50) at a time."""
        await self._sleep(self.latency)
        sent = request.headers.get("x-goog-api-key")
        if self.api_key is not None and sent != self.api_key:
            message = "API key not valid. Please pass a valid API key."
            return _json(400, error_body(400, message, (error_info("API_KEY_INVALID"),)))
        names = sorted(self.models)
        start = int(request.query.get("pageToken") or 0)
        size = int(request.query.get("pageSize") or 50)
        page: dict[str, object] = {"models": [_model(name) for name in names[start : start + size]]}
        if start + size < len(names):
            page["nextPageToken"] = str(start + size)
        return _json(200, page)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["call"].partition(":")
        if method != GENERATE:
            return _json(404, error_body(404, f"Method {method!r} is not served here."))
        recorded = await _record(request, model)
        self.requests.append(recorded)
        scripted = self._queue.popleft() if self._queue else self._standing or Scripted()
        await self._sleep(self.latency + scripted.delay)
        rejected = self._check(request, recorded)
        if rejected is not None:
            return rejected
        if scripted.body is not None:
            return web.Response(
                status=scripted.status, body=scripted.body, content_type="application/json"
            )
        if scripted.json is not None:
            return _json(scripted.status, scripted.json)
        if not _wants_image(recorded.generation_config):
            return _json(200, answer([{"text": self.scene_text}], model=recorded.model))
        return _json(200, answer([{"text": DEFAULT_TEXT}, inline(self.picture)]))

    def _check(self, request: web.Request, recorded: Recorded) -> web.Response | None:
        """Google's own answers to a missing or wrong key and to an unknown model."""
        sent = request.headers.get("x-goog-api-key")
        if self.api_key is not None and sent is None:
            message = "Method doesn't allow unregistered callers. Please use an API Key."
            return _json(403, error_body(403, message))
        if self.api_key is not None and sent != self.api_key:
            message = "API key not valid. Please pass a valid API key."
            return _json(400, error_body(400, message, (error_info("API_KEY_INVALID"),)))
        if recorded.model not in self.models:
            message = (
                f"models/{recorded.model} is not found for API version {recorded.version}, "
                "or is not supported for generateContent."
            )
            return _json(404, error_body(404, message))
        return None


def _model(name: str) -> dict[str, object]:
    """One `Model` of the Gemini API's models.list."""
    image = "image" in name
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name.replace("-", " ").title(),
        "description": f"Stand-in for {name}",
        "inputTokenLimit": 65536 if image else 1048576,
        "outputTokenLimit": 32768 if image else 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    """Proto JSON bytes: standard or URL-safe base64, padded or not (the SDK sends URL-safe)."""
    text = text.replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _metadata(tokens: int, model: str = "gemini-3.1-flash-image") -> dict[str, object]:
    usage = {"promptTokenCount": 12, "candidatesTokenCount": tokens}
    usage["totalTokenCount"] = 12 + tokens
    return {"usageMetadata": usage, "modelVersion": model}


def _wants_image(config: Mapping[str, object]) -> bool:
    """Whether the request asked for a picture (responseModalities naming IMAGE)."""
    modalities = config.get("responseModalities") or config.get("response_modalities")
    return isinstance(modalities, list) and "IMAGE" in modalities


def _json(status: int, payload: object) -> web.Response:
    return web.Response(status=status, text=json.dumps(payload), content_type="application/json")


async def _record(request: web.Request, model: str) -> Recorded:
    body: object = {}
    with contextlib.suppress(ValueError):
        body = json.loads(await request.read() or b"{}")
    body = body if isinstance(body, dict) else {}
    images: list[InlinePart] = []
    texts: list[str] = []
    kinds: list[str] = []
    for part in _parts(body):
        blob = part.get("inlineData") or part.get("inline_data")
        if isinstance(blob, dict):
            mime = blob.get("mimeType") or blob.get("mime_type") or ""
            images.append(InlinePart(str(mime), _unb64(str(blob.get("data", "")))))
            kinds.append("image")
        elif isinstance(text := part.get("text"), str):
            texts.append(text)
            kinds.append("text")
    config = body.get("generationConfig")
    system = body.get("systemInstruction") or body.get("system_instruction")
    system_parts = _parts({"contents": [system]})
    return Recorded(
        version=request.match_info["version"],
        model=model,
        api_key_present="x-goog-api-key" in request.headers,
        user_agent=request.headers.get("user-agent", ""),
        images=tuple(images),
        texts=tuple(texts),
        system="".join(str(part.get("text", "")) for part in system_parts),
        kinds=tuple(kinds),
        generation_config=config if isinstance(config, dict) else {},
        at=time.monotonic(),
    )


def _parts(body: Mapping[str, object]) -> list[dict[str, object]]:
    contents = body.get("contents")
    found: list[dict[str, object]] = []
    for content in contents if isinstance(contents, list) else []:
        parts = content.get("parts") if isinstance(content, dict) else None
        found.extend(part for part in parts or [] if isinstance(part, dict))
    return found


@pytest.fixture
async def gemini_standin() -> AsyncIterator[GeminiStandin]:
    """A running stand-in for one test; import this name into a test module to use it."""
    async with GeminiStandin() as standin:
        yield standin
