"""Sharding as Discord does it (tests/fakes/discord/sharding.py): each guild's events only on
its shard's session, READY and GUILD_CREATE per shard, /gateway/bot's limits, and the
IDENTIFYs Discord refuses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.discord_endpoints import point_discord_at
from tests.discord_standin.minibot import ShardedMiniBot
from tests.fakes.discord import DiscordStandin, Guild
from tests.fakes.discord.fixtures import running
from tests.fakes.discord.gateway import HELLO, IDENTIFY, INVALID_SESSION
from tests.fakes.discord.sharding import IDENTIFY_INTERVAL, shard_of

Socket = aiohttp.ClientWebSocketResponse


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def identify(
    http: aiohttp.ClientSession, standin: DiscordStandin, shard: list[int] | None
) -> tuple[Socket, aiohttp.WSMessage]:
    """Open a gateway socket, IDENTIFY with `shard`, and return the first answer to it."""
    ws = await http.ws_connect(f"{standin.gateway_url}?v=10&encoding=json")
    hello = await ws.receive_json(timeout=5)
    assert hello["op"] == HELLO
    data: dict[str, object] = {"token": standin.token, "intents": 1, "properties": {}}
    if shard is not None:
        data["shard"] = shard
    await ws.send_json({"op": IDENTIFY, "d": data})
    return ws, await ws.receive(timeout=5)


def dispatched(message: aiohttp.WSMessage) -> str:
    assert message.type is aiohttp.WSMsgType.TEXT, f"closed: {message!r}"
    event = json.loads(message.data)
    return str(event.get("t") or f"op {event['op']}")


def on_shards(standin: DiscordStandin, count: int) -> list[Guild]:
    """One more guild on each shard of `count`."""
    return [standin.add_guild(f"Shard {n} guild", shard=(n, count)) for n in range(count)]


async def test_a_guild_s_interactions_reach_only_the_client_that_runs_its_shard(
    discord_standin: DiscordStandin,
) -> None:
    zero, one = on_shards(discord_standin, 2)
    assert (shard_of(zero.id, 2), shard_of(one.id, 2)) == (0, 1)
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    first, second = (
        ShardedMiniBot(shard_ids=[0], shard_count=2),
        ShardedMiniBot(shard_ids=[1], shard_count=2),
    )
    async with running(first, discord_standin), running(second, discord_standin):
        await discord_standin.until(lambda: discord_standin.gateway.connected_shards == {
            (0, 2), (1, 2)
        }, what="for both shards")  # fmt: skip
        await first.tree.sync()
        for guild, runner in ((zero, first), (one, second)):
            ix = await discord_standin.slash("ping", guild=guild)
            assert await ix.wait_for_final() is not None
            assert [i.guild_id for i in runner.seen] == [guild.id]
        assert {g.id for g in first.guilds} == {
            g.id for g in discord_standin.guilds if shard_of(g.id, 2) == 0
        }
        assert {g.id for g in second.guilds} == {
            g.id for g in discord_standin.guilds if shard_of(g.id, 2) == 1
        }
    assert discord_standin.gateway.rules.refusals == []


async def test_an_interaction_for_a_shard_nobody_runs_fails_the_test_at_once(
    discord_standin: DiscordStandin,
) -> None:
    zero, one = on_shards(discord_standin, 2)
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    async with running(ShardedMiniBot(shard_ids=[0], shard_count=2), discord_standin) as bot:
        await bot.tree.sync()
        assert await (await discord_standin.slash("ping", guild=zero)).wait_for_final()
        with pytest.raises(RuntimeError, match=f"shard of guild {one.id}"):
            await discord_standin.slash("ping", guild=one)


async def test_gateway_bot_answers_the_recommended_shards_and_the_session_start_limit(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    discord_standin.gateway.rules.recommended_shards = 3
    discord_standin.gateway.rules.max_concurrency = 16
    headers = {"Authorization": f"Bot {discord_standin.token}"}
    async with http.get(f"{discord_standin.api_base_url}/gateway/bot", headers=headers) as got:
        body = await got.json()
    assert body["shards"] == 3
    assert body["session_start_limit"]["max_concurrency"] == 16
    assert body["session_start_limit"]["remaining"] == 1000  # none used yet
    point_discord_at(discord_standin.api_base_url, discord_standin.gateway_url)
    async with running(ShardedMiniBot(), discord_standin) as bot:  # asks /gateway/bot
        await discord_standin.until(
            lambda: len(discord_standin.gateway.connected_shards) == 3, what="for 3 shards"
        )
        assert (bot.shard_count, sorted(bot.shards)) == (3, [0, 1, 2])


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0]], ids=str)
async def test_a_shard_outside_its_count_is_closed_with_4010(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession, shard: list[int]
) -> None:
    ws, answer = await identify(http, discord_standin, shard)
    assert (answer.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, 4010)


async def test_a_shard_already_live_or_another_shard_count_is_closed_with_4010(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    first, answer = await identify(http, discord_standin, [0, 2])
    assert dispatched(answer) == "READY"
    for shard in ([0, 2], [1, 3]):
        ws, answer = await identify(http, discord_standin, shard)
        assert (answer.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, 4010), shard
    _, answer = await identify(http, discord_standin, [1, 2])
    assert dispatched(answer) == "READY"
    await first.close()
    await discord_standin.until(lambda: (0, 2) not in discord_standin.gateway.connected_shards)
    _, answer = await identify(http, discord_standin, [0, 2])  # the shard is free again
    assert dispatched(answer) == "READY"


async def test_too_many_guilds_on_one_shard_is_closed_with_4011(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    on_shards(discord_standin, 2)  # each of 2 shards holds one guild at least
    # Discord's limit is 2,500: here one shard may not hold every guild, half of two may.
    discord_standin.gateway.rules.guilds_per_shard = len(discord_standin.guilds) - 1
    ws, answer = await identify(http, discord_standin, None)
    assert (answer.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, 4011)
    ws, answer = await identify(http, discord_standin, [0, 2])  # enough shards
    assert dispatched(answer) == "READY"


async def test_an_identify_within_5_s_of_another_in_its_bucket_gets_invalid_session(
    discord_standin: DiscordStandin, http: aiohttp.ClientSession
) -> None:
    rules = discord_standin.gateway.rules
    rules.identify_interval = IDENTIFY_INTERVAL
    _, answer = await identify(http, discord_standin, [0, 4])
    assert dispatched(answer) == "READY"
    _, answer = await identify(http, discord_standin, [1, 4])
    assert dispatched(answer) == f"op {INVALID_SESSION}"
    assert [entry.shard for entry in rules.refusals] == [(1, 4)]
    rules.max_concurrency = 2  # bucket = shard_id % max_concurrency: shard 1 has its own
    _, answer = await identify(http, discord_standin, [1, 4])
    assert dispatched(answer) == "READY"
    _, answer = await identify(http, discord_standin, [2, 4])  # bucket 0 again
    assert dispatched(answer) == f"op {INVALID_SESSION}"
