"""Request bodies, Discord-shaped errors, fault injection and the recording middleware."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.typedefs import Middleware

from tests.conformance.traffic import BODY as CONFORMANCE_BODY
from tests.conformance.traffic import SCRIPTED
from tests.fakes.discord.model import RecordedRequest, UploadedFile
from tests.fakes.discord.records import Watch

API_PREFIX = "/api/v10"
BODY = web.RequestKey("standin_body", object)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Body:
    json: Any
    files: tuple[UploadedFile, ...]
    invalid_json: bool = False


def body_of(request: web.Request) -> Body:
    found = request.get(BODY)
    return found if isinstance(found, Body) else Body(None, ())


async def read_body(request: web.Request) -> Body:
    """JSON, or multipart with `payload_json` and `files[n]` parts, as discord.py sends them."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = await part.read(decode=False)
            if part.name == "payload_json":
                payload = _loads(data)
                if payload is _INVALID:
                    return Body(None, (), invalid_json=True)
            else:
                ctype = part.headers.get("Content-Type")
                files.append(UploadedFile(part.name, part.filename or part.name, ctype, data))
        return Body(payload, tuple(files))
    raw = await request.read()
    parsed = _loads(raw) if raw else None
    return Body(None, (), invalid_json=True) if parsed is _INVALID else Body(parsed, ())


_INVALID = object()


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _INVALID


class DiscordError(Exception):
    """Raised by routes; answered as `{"message": ..., "code": ...}` with the HTTP status."""

    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Exactly `Content-Type: application/json`, as Discord sends it: discord.py compares the
    header verbatim, so aiohttp's `application/json; charset=utf-8` would reach it as text."""
    merged = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=merged)


def error_response(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status=status)


def form_error(where: str, error_code: str, text: str) -> DiscordError:
    """Discord's 50035 Invalid Form Body with the nested `errors` object."""
    errors: Any = {"_errors": [{"code": error_code, "message": text}]}
    for key in reversed(where.split(".")):
        errors = {key: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


@dataclass(slots=True)
class Fault:
    """An injected failure: the next `times` matching requests get `status` (None = forever)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    times: int | None
    retry_after: float
    is_global: bool
    delay: float
    hits: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        live = self.times is None or self.hits < self.times
        return live and self.method in ("*", method) and bool(self.pattern.fullmatch(path))

    def response(self) -> web.Response:
        if self.status == 429:
            bucket = hashlib.sha256(f"{self.method} {self.pattern.pattern}".encode()).hexdigest()
            return rate_limited(self.retry_after, is_global=self.is_global, bucket=bucket[:16])
        reason = web.Response(status=self.status).reason
        return error_response(self.status, 0, f"{self.status}: {reason}")


def rate_limited(retry_after: float, *, is_global: bool, bucket: str) -> web.Response:
    """A 429 as Discord sends it; discord.py only retries a 429 that carries `Via`."""
    body = {"message": "You are being rate limited.", "retry_after": retry_after}
    body["global"] = is_global
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    return json_response(body, status=429, headers=headers)


def relative_path(path: str) -> str:
    return path[len(API_PREFIX) :] or "/" if path.startswith(API_PREFIX) else path


def _needs_bot_token(path: str) -> bool:
    """Interaction callbacks and webhook calls authenticate with their token in the path."""
    return path.startswith(API_PREFIX) and not re.match(r"/api/v10/(interactions|webhooks)/", path)


def discord_lenient(path: str, body: object) -> object:
    """discord.py sends some snowflakes as integers where the spec's SnowflakeType wants
    strings, and the API accepts them: a new file's `attachments[].id` (an index,
    `File.to_dict`), `allowed_mentions.users`/`roles` and `message_reference`'s ids."""
    if not isinstance(body, dict):
        return body
    return {key: _lenient(key, value) for key, value in body.items()}


_SNOWFLAKE_KEYS = frozenset({"users", "roles", "message_id", "channel_id", "guild_id"})


def _lenient(key: str, value: object) -> object:
    if key == "attachments" and isinstance(value, list):
        return [
            {**item, "id": str(item["id"])} if isinstance(item, dict) and "id" in item else item
            for item in value
        ]
    if isinstance(value, list):
        return [_lenient(key, item) for item in value]
    if isinstance(value, dict):
        return discord_lenient("", value)
    if key in _SNOWFLAKE_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def discord_errata(status: int, body: object) -> object:
    """The spec types every `errors…_errors[].code` as an integer; Discord's field errors carry
    string codes (`BASE_TYPE_REQUIRED`, as its docs show). The nested part is not checked."""
    if status >= 400 and isinstance(body, dict):
        return {key: value for key, value in body.items() if key != "errors"}
    return body


def recording_middleware(
    requests: list[RecordedRequest],
    faults: list[Fault],
    token: str,
    watch: Watch,
    errors: list[BaseException],
) -> Middleware:
    """Records every request, plays faults, checks the bot token, answers errors like Discord.
    A crash of the stand-in itself lands in `errors`, so the fixture can fail the test."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = relative_path(request.path)
        body = Body(None, ()) if request.headers.get("Upgrade") else await read_body(request)
        request[BODY] = body
        request[CONFORMANCE_BODY] = body.json
        record = RecordedRequest(
            request.method, path, dict(request.query), body.json, body.files, time.monotonic()
        )
        requests.append(record)
        try:
            response = await _answer(request, handler, record, faults, token)
            record.status = response.status
            if not response.prepared:
                response.headers.setdefault("Via", "1.1 google")
            return response
        except Exception as exc:
            errors.append(exc)
            raise
        finally:
            watch.notify()

    return middleware


async def _answer(
    request: web.Request, handler: Handler, record: RecordedRequest, faults: list[Fault], token: str
) -> web.StreamResponse:
    fault = next((f for f in faults if f.matches(record.method, record.path)), None)
    if fault is not None:
        fault.hits += 1
        fault.requests.append(record)
        record.fault = True
        request[SCRIPTED] = True
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status:
            return fault.response()
    if _needs_bot_token(request.path) and request.headers.get("Authorization") != f"Bot {token}":
        return error_response(401, 0, "401: Unauthorized")
    if body_of(request).invalid_json:
        return error_response(400, 50109, "The request body contains invalid JSON.")
    try:
        return await handler(request)
    except DiscordError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.errors)
    except web.HTTPNotFound:
        record.matched = False
        return error_response(404, 0, "404: Not Found")
    except web.HTTPMethodNotAllowed:
        record.matched = False
        return error_response(405, 0, "405: Method Not Allowed")
