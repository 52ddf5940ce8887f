"""The conformance layer itself: it finds the official specs, and it rejects the deviations our
stand-ins once had, so they cannot come back unnoticed. The stand-ins are held to the specs in
every test through their middleware (tests/conformance/traffic.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from tests.conformance.openapi import Spec, SpecsMissing, load, specs_dir
from tests.conformance.traffic import BODY, Conformance
from tests.fakes.discord.http_support import discord_lenient

COMPONENT = {"type": 2, "style": 1, "label": "Continue", "custom_id": "scene:continue:1"}


def _message(components: list[object]) -> dict[str, object]:
    """A minimal MessageResponse body around `components`."""
    author = {"id": "1", "username": "StoryBot", "discriminator": "0", "avatar": None}
    return {
        "id": "10",
        "channel_id": "20",
        "author": {**author, "global_name": None, "public_flags": 0, "flags": 0}
        | {"primary_guild": None},
        "content": "",
        "timestamp": "2026-11-29T12:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [{"type": 1, "id": 1, "components": components}],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }


def _answer_problems(spec: Spec, method: str, path: str, status: int, body: object) -> list[str]:
    operation = spec.operation(method, path)
    assert operation is not None, f"{method} {path} is not in the {spec.name} spec"
    return [str(p) for p in operation.response_problems(status, "application/json", body)]


def test_the_specs_are_found_beside_the_repository() -> None:
    assert (specs_dir() / "xai-openapi.json").is_file()


def test_without_the_specs_the_failure_says_where_they_belong(tmp_path: Path) -> None:
    with pytest.raises(SpecsMissing, match=r"shared/reference/specs"):
        specs_dir(tmp_path)


def test_literal_path_segments_win_over_parameters() -> None:
    operation = load("discord").operation("PATCH", "/webhooks/1/token/messages/@original")
    assert operation is not None
    assert operation.path.endswith("/messages/@original")


@pytest.mark.parametrize(
    ("status", "body", "accepted"),
    [
        (202, None, True),
        (202, {"status": "pending", "progress": 40}, True),
        (200, {"status": "pending", "progress": 40}, True),
        (200, {"request_id": "abc"}, False),  # what our stand-in once answered while pending
    ],
)
def test_xai_pending_video_answers(status: int, body: object, accepted: bool) -> None:
    problems = _answer_problems(load("xai"), "GET", "/v1/videos/abc", status, body)
    assert (problems == []) is accepted, problems


def test_discord_message_components_need_their_integer_id() -> None:
    discord = load("discord")
    path = "/channels/20/messages/10"
    assert _answer_problems(discord, "GET", path, 200, _message([{**COMPONENT, "id": 2}])) == []
    assert _answer_problems(discord, "GET", path, 200, _message([COMPONENT]))


@pytest.mark.parametrize(("kind", "accepted"), [(4, True), (7, True), (5, False), (6, False)])
def test_an_interaction_callback_resource_exists_only_for_messages(
    kind: int, accepted: bool
) -> None:
    answer = {
        "interaction": {"id": "5", "type": 2},
        "resource": {"type": kind, "message": _message([{**COMPONENT, "id": 2}])},
    }
    path = "/interactions/5/token/callback"
    problems = _answer_problems(load("discord"), "POST", path, 200, answer)
    assert (problems == []) is accepted, problems


def test_command_answers_carry_integration_types_as_a_list_never_null() -> None:
    command = {
        "id": "7",
        "application_id": "1",
        "version": "7",
        "type": 1,
        "name": "usage",
        "description": "Use today",
        "default_member_permissions": None,
        "integration_types": None,
    }
    path = "/applications/1/commands"
    assert _answer_problems(load("discord"), "GET", path, 200, [command])
    fixed = [{**command, "integration_types": [0]}]
    assert _answer_problems(load("discord"), "GET", path, 200, fixed) == []


def test_the_application_answer_needs_every_required_field() -> None:
    problems = _answer_problems(
        load("discord"), "GET", "/oauth2/applications/@me", 200, {"id": "1", "name": "StoryBot"}
    )
    assert any("required property" in p for p in problems)


def test_openai_system_fingerprint_is_a_string_or_absent_never_null() -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-5.4-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Once", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
    }
    openai = load("openai")
    assert _answer_problems(openai, "POST", "/chat/completions", 200, completion) == []
    nulled = {**completion, "system_fingerprint": None}
    assert _answer_problems(openai, "POST", "/chat/completions", 200, nulled)


def test_discord_py_integer_attachment_ids_are_lenient_and_normalised() -> None:
    """discord.py 2.7.1 sends a new file's id (an index), mentioned users and a reply's ids as
    integers; the API accepts them, the spec's SnowflakeType does not. The stand-in normalises
    them before checking (RELIABILITY); component ids stay integers."""
    body = {
        "content": "<@42> your video is ready",
        "attachments": [{"id": 0, "filename": "scene.mp4"}],
        "allowed_mentions": {"parse": [], "users": [42], "replied_user": False},
        "message_reference": {"message_id": 10, "channel_id": 20, "guild_id": 30},
        "components": [{"type": 1, "id": 1, "components": [{**COMPONENT, "id": 2}]}],
    }
    operation = load("discord").operation("POST", "/channels/20/messages")
    assert operation is not None
    assert operation.body_problems("application/json", body)
    normalised = discord_lenient(operation.path, body)
    assert operation.body_problems("application/json", normalised) == []


async def test_a_stand_in_that_drifts_fails_when_it_closes() -> None:
    """The hook itself: an unscripted off-spec answer is caught and reported with its reason."""
    conformance = Conformance("xai", "/v1/", spec_prefix="/v1/")

    async def pending(request: web.Request) -> web.Response:
        request[BODY] = None
        return web.json_response({"request_id": request.match_info["rid"]})

    app = web.Application(middlewares=[conformance.middleware()])
    app.router.add_get("/v1/videos/{rid}", pending)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with ClientSession() as session:
            await (await session.get(f"http://127.0.0.1:{port}/v1/videos/abc")).read()
    finally:
        await runner.cleanup()
    with pytest.raises(AssertionError, match="'status' is a required property"):
        conformance.assert_clean()
