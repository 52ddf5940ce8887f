"""Discord's rules as the stand-in enforces them, spoken to in raw HTTP: the 3-second window,
single acknowledgement, token lifetime, auth, unknown routes, command sync, fault shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from bot.discord_endpoints import point_discord_at
from tests.fakes.discord import DiscordStandin
from tests.fakes.discord.fixtures import running

COMMANDS = [
    {"name": "ping", "description": "p", "type": 1},
    {
        "name": "story",
        "description": "s",
        "options": [{"name": "start", "description": "s", "type": 1}],
    },
]


@pytest.fixture
async def http(discord_standin: DiscordStandin) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {discord_standin.token}"}
    async with aiohttp.ClientSession(
        discord_standin.api_base_url + "/", headers=headers
    ) as session:
        yield session


@pytest.fixture
async def silent(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> AsyncIterator[None]:
    """A connected client that never answers interactions; the test answers in raw HTTP."""
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    async with running(discord.Client(intents=discord.Intents.none()), discord_standin):
        await call(http, "PUT", f"applications/{discord_standin.application_id}/commands", COMMANDS)
        yield


async def call(
    http: aiohttp.ClientSession, method: str, path: str, body: Any = None, **params: str
) -> tuple[int, Any]:
    async with http.request(method, path, json=body, params=params) as response:
        if response.status == 204:
            return 204, None
        assert response.headers["Content-Type"] == "application/json"  # discord.py needs it exact
        return response.status, await response.json()


async def test_callback_after_the_deadline_is_an_unknown_interaction(
    discord_endpoints_restored: None,
) -> None:
    async with DiscordStandin(ack_deadline=0.0) as standin:
        point_discord_at(standin.api_base_url, standin.gateway_url)
        async with (
            aiohttp.ClientSession() as http,
            running(discord.Client(intents=discord.Intents.none()), standin),
        ):
            url = f"{standin.api_base_url}/applications/{standin.application_id}/commands"
            await http.put(url, json=COMMANDS, headers={"Authorization": f"Bot {standin.token}"})
            ix = await standin.slash("ping", wait_ack=False)
            callback = f"{standin.api_base_url}/interactions/{ix.id}/{ix.token}/callback"
            async with http.post(callback, json={"type": 5}) as late:
                assert late.status == 404
                assert (await late.json())["code"] == 10062
        assert ix.ack is None
        assert [code for _, code in ix.rejected] == [10062]


async def test_an_interaction_is_acknowledged_once(
    silent: None, discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    ix = await discord_standin.slash("ping", wait_ack=False)
    path = f"interactions/{ix.id}/{ix.token}/callback"
    status, answer = await call(
        http, "POST", path, {"type": 5, "data": {"flags": 64}}, with_response="1"
    )
    assert status == 200
    assert "resource" not in answer, "Discord gives a resource only for types 4, 7 and 12"
    assert answer["interaction"]["response_message_loading"] is True
    assert answer["interaction"]["response_message_ephemeral"] is True
    assert await call(http, "POST", path, {"type": 4, "data": {"content": "x"}}) == (
        400,
        {"message": "Interaction has already been acknowledged.", "code": 40060},
    )
    assert ix.deferred
    assert ix.ephemeral
    assert not ix.final


async def test_webhook_needs_an_acknowledged_live_token(
    silent: None, discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    ix = await discord_standin.slash("ping", wait_ack=False)
    hook = f"webhooks/{discord_standin.application_id}/{ix.token}"
    assert (await call(http, "POST", hook, {"content": "early"}))[1]["code"] == 10015
    assert (await call(http, "POST", f"interactions/{ix.id}/{ix.token}/callback", {"type": 5}))[
        0
    ] == 204
    status, filled = await call(http, "POST", hook, {"content": "done"}, wait="true")
    assert status == 200
    assert filled["id"] == str(ix.original_id)
    assert filled["flags"] == 0
    status, second = await call(http, "POST", hook, {"content": "more", "flags": 64}, wait="true")
    assert status == 200
    assert second["flags"] == 64
    assert len(ix.followups) == 2
    discord_standin.expire(ix)
    status, body = await call(http, "PATCH", f"{hook}/messages/@original", {"content": "late"})
    assert (status, body["code"]) == (401, 50027)


async def test_a_response_type_the_interaction_cannot_take_is_refused(
    silent: None, discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    ix = await discord_standin.slash("ping", wait_ack=False)
    status, body = await call(
        http, "POST", f"interactions/{ix.id}/{ix.token}/callback", {"type": 6}
    )
    assert (status, body["code"]) == (400, 50035)
    assert ix.ack is None


async def test_ephemeral_messages_are_not_reachable_through_the_channel(
    silent: None, discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    ix = await discord_standin.slash("ping", wait_ack=False)
    body = {"type": 4, "data": {"content": "secret", "flags": 64}}
    await call(http, "POST", f"interactions/{ix.id}/{ix.token}/callback", body)
    path = f"channels/{ix.channel_id}/messages/{ix.original_id}"
    assert await call(http, "GET", path) == (404, {"message": "Unknown Message", "code": 10008})


async def test_unknown_routes_and_missing_tokens_are_recorded(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    assert (await call(http, "GET", f"guilds/{discord_standin.guild.id}/roles"))[0] == 404
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{discord_standin.api_base_url}/users/@me") as response,
    ):
        assert response.status == 401
    assert [r.path for r in discord_standin.unexpected] == [
        f"/guilds/{discord_standin.guild.id}/roles"
    ]
    assert [r.status for r in discord_standin.requests] == [404, 401]


async def test_command_sync_is_recorded_per_scope_and_keeps_ids(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    app, guild = discord_standin.application_id, discord_standin.guild
    _, first = await call(http, "PUT", f"applications/{app}/commands", COMMANDS)
    _, again = await call(http, "PUT", f"applications/{app}/commands", COMMANDS)
    await call(http, "PUT", f"applications/{app}/guilds/{guild.id}/commands", COMMANDS[:1])
    assert [c["id"] for c in first] == [c["id"] for c in again]
    assert discord_standin.command_syncs() == 2
    assert discord_standin.command_syncs(guild) == 1
    assert discord_standin.command_syncs(discord_standin.guilds[1]) == 0
    assert [c["name"] for c in discord_standin.commands(guild)] == ["ping"]
    _, listed = await call(http, "GET", f"applications/{app}/guilds/{guild.id}/commands")
    assert listed[0]["guild_id"] == str(guild.id)


async def test_injected_faults_look_like_discords(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    discord_standin.fail("GET", "/users/@me", 429, retry_after=0.05, is_global=True)
    discord_standin.fail("*", "/users/@me", 502)
    async with http.get("users/@me") as limited:
        assert limited.status == 429
        assert limited.headers["Via"]
        assert limited.headers["X-RateLimit-Global"] == "true"
        assert limited.headers["Retry-After"] == "1"
        assert await limited.json() == {
            "message": "You are being rate limited.",
            "retry_after": 0.05,
            "global": True,
        }
    assert await call(http, "GET", "users/@me") == (502, {"message": "502: Bad Gateway", "code": 0})
    assert (await call(http, "GET", "users/@me"))[0] == 200
    assert [r.fault for r in discord_standin.requests] == [True, True, False]
