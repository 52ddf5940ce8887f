"""The providers' and Discord's official OpenAPI 3.1 documents (shared/reference/specs/) as
request and response checks: which operation a method and path are, and what its spec says of
a query, a body and an answer. Each document is loaded once per test session and every schema
gets one cached jsonschema validator."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SPECS = Path("shared") / "reference" / "specs"
FILES = {
    "discord": "discord-openapi.json",
    "openai": "openai-openapi.json",
    "xai": "xai-openapi.json",
}
JSON = dict[str, Any]
MAX_ERRORS = 3  # per body: enough to see what drifted
MAX_JUDGED = 20_000  # remembered verdicts, per spec
_SNOWFLAKE = re.compile(r'"[1-9][0-9]{14,19}"')


class SpecsMissing(RuntimeError):
    """The official specs are not beside the repository (../shared/reference/specs)."""


def specs_dir(start: Path = ROOT) -> Path:
    """The `shared/reference/specs` folder nearest above the repository (CI clones it beside)."""
    for folder in (start, *start.parents):
        if (folder / SPECS / FILES["discord"]).is_file():
            return folder / SPECS
    raise SpecsMissing(
        f"no {SPECS} folder with the official OpenAPI specs above {start}: the conformance "
        "tests need the shared/ folder beside the repository (shared/reference/specs/*.json)"
    )


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True, slots=True)
class Problem:
    """What the spec rejected, said briefly: where, and the first errors."""

    where: str
    errors: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: " + "; ".join(self.errors)


class Spec:
    """One OpenAPI document: its operations by method and path, and cached validators."""

    def __init__(self, name: str, document: JSON) -> None:
        self.name = name
        self.document = document
        self._judged: dict[tuple[str, bytes], tuple[str, ...]] = {}
        self._templates = sorted(
            (_Template.of(path) for path in document["paths"]),
            key=lambda t: (t.params, -len(t.text)),  # literal segments win (`@original`)
        )

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving `method path` (a concrete path, without the server prefix)."""
        for template in self._templates:
            params = template.match(path)
            item = self.document["paths"][template.text]
            if params is not None and method.lower() in item:
                return Operation(self, template.text, method.lower(), params)
        return None

    def resolve(self, value: JSON) -> JSON:
        """Follow a local `$ref` (parameters, request bodies, responses)."""
        while "$ref" in value:
            target: Any = self.document
            for part in value["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            value = target
        return value

    def errors(self, pointer: str, instance: object) -> tuple[str, ...]:
        """jsonschema's complaints about `instance` against the schema at `pointer`. The same
        body (every test syncs the same commands) is judged once per session."""
        # Snowflakes differ from test to test but never change the verdict: keyed as one.
        text = _SNOWFLAKE.sub('"1"', json.dumps(instance, sort_keys=True, default=repr))
        key = (pointer, hashlib.blake2b(text.encode(), digest_size=16).digest())
        known = self._judged.get(key)
        if known is None:
            found = sorted(self._validator(pointer).iter_errors(instance), key=_depth)
            known = tuple(_describe(error) for error in found[:MAX_ERRORS])
            if len(self._judged) >= MAX_JUDGED:
                self._judged.clear()
            self._judged[key] = known
        return known

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - specs live for the whole session
    def _validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator({**self.document, "$ref": pointer})


@dataclass(frozen=True, slots=True)
class _Template:
    text: str
    regex: re.Pattern[str]
    names: tuple[str, ...]

    @property
    def params(self) -> int:
        return len(self.names)

    @classmethod
    def of(cls, text: str) -> _Template:
        names = tuple(re.findall(r"\{([^}]+)\}", text))
        pattern = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(text))
        return cls(text, re.compile(pattern), names)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(path)
        return dict(zip(self.names, found.groups(), strict=True)) if found else None


@dataclass(frozen=True, slots=True)
class Operation:
    spec: Spec
    path: str
    method: str
    path_params: Mapping[str, str]

    @property
    def where(self) -> str:
        return f"{self.spec.name} {self.method.upper()} {self.path}"

    def _item(self) -> JSON:
        found: JSON = self.spec.document["paths"][self.path]
        return found

    def _parameters(self) -> Iterator[tuple[JSON, str]]:
        """Every parameter with the pointer of its schema (path-level ones, then the method's)."""
        item = self._item()
        for level, holder in (((), item), ((self.method,), item[self.method])):
            for index, raw in enumerate(holder.get("parameters", [])):
                param = self.spec.resolve(raw)
                if "$ref" in raw:
                    base = raw["$ref"].removeprefix("#/").split("/")
                    yield param, _pointer(*base, "schema")
                else:
                    parts = ("paths", self.path, *level, "parameters", str(index), "schema")
                    yield param, _pointer(*parts)

    def query_problems(
        self, query: Mapping[str, str], *, lenient_booleans: bool = False
    ) -> list[Problem]:
        """`lenient_booleans`: `1`/`0` count as booleans, as the API takes them."""
        known = {p["name"]: (p, pointer) for p, pointer in self._parameters() if p["in"] == "query"}
        problems = []
        for name, raw in query.items():
            if name not in known:
                problems.append(Problem(f"{self.where} ?{name}", ("not a documented parameter",)))
                continue
            param, pointer = known[name]
            value = _query_value(raw, self.spec.resolve(param.get("schema", {})), lenient_booleans)
            errors = self.spec.errors(pointer, value)
            if errors:
                problems.append(Problem(f"{self.where} ?{name}={raw}", errors))
        return problems

    def path_problems(self) -> list[Problem]:
        found = {p["name"]: pointer for p, pointer in self._parameters() if p["in"] == "path"}
        return [
            Problem(f"{self.where} {{{name}}}={value}", errors)
            for name, value in self.path_params.items()
            if name in found and (errors := self.spec.errors(found[name], value))
        ]

    def body_problems(self, content_type: str, body: object) -> list[Problem]:
        raw = self._item()[self.method].get("requestBody")
        if raw is None:
            return [] if body is None else [Problem(self.where, ("takes no request body",))]
        request_body = self.spec.resolve(raw)
        media = _media(request_body.get("content", {}), content_type)
        if media is None:
            return [Problem(self.where, (f"no request body of type {content_type!r}",))]
        if body is None:
            required = request_body.get("required", False)
            return [Problem(self.where, ("the request body is required",))] if required else []
        pointer = _schema_pointer(raw, ("paths", self.path, self.method, "requestBody"), media)
        if media == "multipart/form-data" and isinstance(body, dict):
            body = self._form_values(request_body["content"][media]["schema"], body)
        errors = self.spec.errors(pointer, body)
        return [Problem(f"{self.where} request body", errors)] if errors else []

    def _form_values(self, schema: JSON, body: Mapping[str, object]) -> dict[str, object]:
        """Form fields are text on the wire: each becomes the type its property names."""
        properties: dict[str, JSON] = {}
        for part in (schema, *schema.get("allOf", [])):
            properties |= self.spec.resolve(part).get("properties", {})
        return {
            name: _typed(value, _types(self.spec.resolve(properties.get(name, {}))))
            if isinstance(value, str)
            else value
            for name, value in body.items()
        }

    def response_problems(self, status: int, content_type: str, body: object) -> list[Problem]:
        responses: JSON = self._item()[self.method].get("responses", {})
        key = next(
            (k for k in (str(status), f"{status // 100}XX", "default") if k in responses), None
        )
        if key is None and status >= 400:
            return []  # specs rarely list 401, 429 or 5xx; only the described errors are checked
        if key is None:
            return [Problem(self.where, (f"answers {status}, which the spec does not list",))]
        raw = responses[key]
        content = self.spec.resolve(raw).get("content") or {}
        if not content:
            return []  # no body described (204, or a status with prose only)
        media = _media(content, content_type)
        if media is None:
            if body is None:
                return []
            return [Problem(f"{self.where} {status}", (f"no {content_type!r} answer",))]
        base = ("paths", self.path, self.method, "responses", key)
        errors = self.spec.errors(_schema_pointer(raw, base, media), body)
        return [Problem(f"{self.where} {status} answer", errors)] if errors else []


def _media(content: JSON, content_type: str) -> str | None:
    wanted = content_type.split(";")[0].strip() or "application/json"
    return next((m for m in content if m == wanted), None)


def _schema_pointer(raw: JSON, base: tuple[str, ...], media: str) -> str:
    """The pointer of `content[media].schema` of a request body or response, even behind a ref."""
    if "$ref" in raw:
        base = tuple(raw["$ref"].removeprefix("#/").split("/"))
    return _pointer(*base, "content", media, "schema")


def _types(schema: JSON) -> set[str]:
    kind = schema.get("type")
    found = set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        nested = branch.get("type")
        found |= set(nested) if isinstance(nested, list) else {nested} if nested else set()
    return found


def _typed(raw: str, types: set[str]) -> object:
    """A text form value as the first of `types` it reads as (else the text itself)."""
    if "string" in types or not types:
        return raw
    for kind in ("integer", "number", "boolean"):
        if kind in types:
            value = _query_value(raw, {"type": kind}, False)
            if value is not raw:
                return value
    return raw


def _query_value(raw: str, schema: JSON, lenient_booleans: bool) -> object:
    """A query string value as its schema's type (booleans as `true`/`false`, numbers)."""
    kind = schema.get("type")
    if kind == "boolean":
        words = {"true": True, "false": False}
        if lenient_booleans:
            words |= {"1": True, "0": False}
        return words.get(raw.lower(), raw)
    if kind in ("integer", "number"):
        try:
            return int(raw) if kind == "integer" else float(raw)
        except ValueError:
            return raw
    return raw


def _depth(error: jsonschema.ValidationError) -> int:
    return -len(error.absolute_path)


def _describe(error: jsonschema.ValidationError) -> str:
    """Where and why, following anyOf/oneOf down to the deepest complaint."""
    while error.context:  # the branch that got furthest into the body says most
        error = max(error.context, key=lambda e: len(e.absolute_path))
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message[:160]}"


def _nullable_to_31(node: object) -> object:
    """OpenAI's file mixes 3.0's `nullable: true` into 3.1 schemas; JSON Schema ignores the
    keyword, so it becomes what it means: `null` is also allowed."""
    if isinstance(node, list):
        return [_nullable_to_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_31(value) for key, value in node.items()}
    if converted.pop("nullable", False) is not True:
        return converted
    if "enum" in converted and None not in converted["enum"]:
        converted["enum"] = [*converted["enum"], None]
    if isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


@functools.cache
def load(name: str) -> Spec:
    """The spec called `name` (discord, openai, xai), read and prepared once per session."""
    document = json.loads((specs_dir() / FILES[name]).read_text(encoding="utf-8"))
    if name == "openai":
        converted = _nullable_to_31(document)
        assert isinstance(converted, dict)
        document = converted
    return Spec(name, document)
