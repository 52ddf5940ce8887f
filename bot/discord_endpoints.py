"""Where discord.py sends REST calls and opens the gateway (DISCORD_API_BASE_URL, _GATEWAY_URL)."""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def point_discord_at(api_base_url: str, gateway_url: str) -> None:
    """Make discord.py in this process use this REST base and gateway.

    discord.py 2.7 has no per-client setting for either. Every REST call — interaction
    callbacks and webhooks included — builds its URL from `Route.BASE`, and `Client.connect`
    opens `DiscordWebSocket.DEFAULT_GATEWAY`, falling back to it whenever a session cannot be
    resumed (between those it follows READY's `resume_gateway_url`). Both are class attributes
    the library itself reassigns (`http._set_api_version`), so this is the seam it offers.
    """
    api = yarl.URL(api_base_url)
    gateway = yarl.URL(gateway_url)
    if api.scheme not in ("http", "https") or not api.host:
        raise ValueError(f"DISCORD_API_BASE_URL must be an http(s) URL, not {api_base_url!r}")
    if gateway.scheme not in ("ws", "wss") or not gateway.host:
        raise ValueError(f"DISCORD_GATEWAY_URL must be a ws(s) URL, not {gateway_url!r}")
    Route.BASE = api_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
