"""point_discord_at: the production seam the bot calls with DISCORD_API_BASE_URL/_GATEWAY_URL."""

from __future__ import annotations

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord_endpoints import point_discord_at
from bot.settings import Settings
from tests.fakes.discord import DiscordStandin


def test_the_setting_defaults_are_discord_pys_own(discord_endpoints_restored: None) -> None:
    defaults = Settings.model_fields
    before = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(
        defaults["discord_api_base_url"].default, defaults["discord_gateway_url"].default
    )
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


def test_rest_routes_and_the_gateway_follow_the_given_urls(
    discord_endpoints_restored: None,
) -> None:
    point_discord_at("http://127.0.0.1:8080/api/v10/", "ws://127.0.0.1:8080/gateway")
    route = Route(
        "POST",
        "/interactions/{webhook_id}/{webhook_token}/callback",
        webhook_id=1,
        webhook_token="t",
    )
    assert route.url == "http://127.0.0.1:8080/api/v10/interactions/1/t/callback"
    assert yarl.URL("ws://127.0.0.1:8080/gateway") == DiscordWebSocket.DEFAULT_GATEWAY


@pytest.mark.parametrize(
    ("api", "gateway"),
    [
        ("discord.com/api/v10", "wss://gateway.discord.gg/"),
        ("https://discord.com/api/v10", "https://x/"),
    ],
)
def test_urls_of_the_wrong_kind_are_refused(
    discord_endpoints_restored: None, api: str, gateway: str
) -> None:
    with pytest.raises(ValueError, match="DISCORD_"):
        point_discord_at(api, gateway)


async def test_a_client_reaches_the_stand_in_through_the_settings_alone(
    discord_env: dict[str, str], discord_standin: DiscordStandin
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings init kwarg
    assert settings.discord_token is not None
    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    client = discord.Client(intents=discord.Intents.none())
    await client.login(settings.discord_token.get_secret_value())
    try:
        assert client.user is not None
        assert client.user.id == discord_standin.bot.id
    finally:
        await client.close()
    assert [r.path for r in discord_standin.requests] == ["/users/@me", "/oauth2/applications/@me"]
