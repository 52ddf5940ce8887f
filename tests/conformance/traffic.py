"""Every request a stand-in receives and every answer it gives, checked against the official
spec while the tests run: a stand-in can no longer drift from the real API unnoticed.

A stand-in adds `Conformance(...).middleware()` as its outermost middleware, hands over what it
parsed of each body with `request[BODY] = ...`, and marks answers a test scripted on purpose
(faults, malformed bodies) with `request[SCRIPTED] = True`; those are not held to the spec.
Request problems count only when the stand-in accepted the request (2xx): refusing a bad one is
its job. `problems` is asserted empty when the stand-in closes (`assert_clean`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from tests.conformance.openapi import Problem, Spec, load

BODY = web.RequestKey("conformance_body", object)  # the request body as the stand-in parsed it
SCRIPTED = web.RequestKey("conformance_scripted", bool)  # an answer a test asked for on purpose
UNSET = object()
# A body as the spec should see it, where a real client is lenient in a way the real API accepts
# (listed in docs/RELIABILITY.md): (the operation's spec path, the body) → the body.
Normalizer = Callable[[str, object], object]


@dataclass
class Conformance:
    """The checks of one stand-in for `spec_name` (discord, openai, xai): requests whose path
    starts with `prefix`; the spec names them with `spec_prefix` instead."""

    spec_name: str
    prefix: str
    spec_prefix: str = ""
    normalize: Normalizer | None = None
    lenient_booleans: bool = False  # query booleans sent as 1/0 (discord.py), which the API takes
    # An answer as the spec can judge it, where the spec is wrong (its errata, in RELIABILITY):
    # (status, body) → body.
    errata: Callable[[int, object], object] | None = None
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    enabled: bool = True

    @property
    def spec(self) -> Spec:
        return load(self.spec_name)

    def middleware(self) -> Middleware:
        @web.middleware
        async def conformance(request: web.Request, handler: Handler) -> web.StreamResponse:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # aiohttp's raised answers (redirects, 404s)
                self._check(request, exc)
                raise
            self._check(request, response)
            return response

        return conformance

    def _check(self, request: web.Request, response: web.StreamResponse) -> None:
        if not self.enabled or not request.path.startswith(self.prefix):
            return
        if request.headers.get("Upgrade"):  # the gateway's websocket: not REST
            return
        path = self.spec_prefix + request.path.removeprefix(self.prefix)
        operation = self.spec.operation(request.method, path)
        self.checked += 1
        if operation is None:
            self.problems.append(
                Problem(f"{self.spec_name} {request.method} {path}", ("not in the spec",))
            )
            return
        status = response.status
        if 200 <= status < 300:
            body = request.get(BODY, None)
            if self.normalize is not None:
                body = self.normalize(operation.path, body)
            self.problems += operation.path_problems()
            self.problems += operation.query_problems(
                request.query, lenient_booleans=self.lenient_booleans
            )
            self.problems += operation.body_problems(request.content_type, body)
        if request.get(SCRIPTED, False):
            return
        answer = _answer_body(response)
        if answer is UNSET:
            self.problems.append(Problem(f"{operation.where} {status}", ("not valid JSON",)))
        else:
            if self.errata is not None:
                answer = self.errata(status, answer)
            self.problems += operation.response_problems(status, response.content_type, answer)

    def assert_clean(self) -> None:
        """Fail with every problem seen (called when the stand-in closes)."""
        if self.problems:
            listed = "\n  ".join(str(p) for p in self.problems[:20])
            raise AssertionError(
                f"{len(self.problems)} spec violation(s) at the {self.spec_name} stand-in "
                f"(shared/reference/specs):\n  {listed}"
            )


def _answer_body(response: web.StreamResponse) -> object:
    """The JSON an answer carries; None when it has none (or streams one)."""
    if not isinstance(response, web.Response) or response.body is None:
        return None
    raw = response.body
    if not isinstance(raw, bytes | bytearray) or not raw:
        return None
    if "json" not in response.content_type:
        return raw.decode("utf-8", "replace")
    try:
        parsed: object = json.loads(raw)
    except ValueError:
        return UNSET
    return parsed


def form_fields(fields: Mapping[str, object], files: Mapping[str, int]) -> dict[str, object]:
    """A multipart body as the spec's object: text fields as sent, each file as a string
    (`files` maps a field name to how many files it carried)."""
    body: dict[str, object] = dict(fields)
    for name, count in files.items():
        key = name.removesuffix("[]")
        body[key] = ["<file>"] * count if name.endswith("[]") or count > 1 else "<file>"
    return body
