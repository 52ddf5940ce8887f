"""/settings view|model|video|tier. Permissions are checked here, on the server side:
Manage Server for model and video, OWNER_IDS for tier (Discord's UI hints are not enough)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from bot.cogs.story import model_autocomplete
from bot.errors import NEEDS_MANAGER, NEEDS_OPERATOR, Refusal, no_such_tier_text
from bot.render import NO_PINGS, settings_embed
from bot.respond import Interaction

if TYPE_CHECKING:
    from bot.app import StoryBot


def _require_manager(interaction: Interaction) -> None:
    if not interaction.permissions.manage_guild:
        raise Refusal(NEEDS_MANAGER)


async def _view(interaction: Interaction) -> None:
    """The server's tier and settings."""
    policy = interaction.client.services.policy
    guild_id = interaction.guild_id or 0
    embed = settings_embed(
        await policy.guild(guild_id), await policy.tier(guild_id), policy.catalog
    )
    await interaction.response.send_message(embed=embed, ephemeral=True)


@app_commands.describe(model="The model new stories use unless the member picks one")
@app_commands.autocomplete(model=model_autocomplete)
async def _model(interaction: Interaction, model: str) -> None:
    """Set the server's default image model."""
    policy = interaction.client.services.policy
    _require_manager(interaction)
    resolved = await policy.choose(interaction.guild_id or 0, model, None)
    await policy.set_default_model(interaction.guild_id or 0, resolved.spec.key)
    text = f"New stories on this server are drawn with **{resolved.spec.display}**."
    await interaction.response.send_message(text, ephemeral=True)


@app_commands.describe(enabled="Animate every scene of new stories")
async def _video(interaction: Interaction, enabled: bool) -> None:
    """Whether new stories animate every scene by default."""
    policy = interaction.client.services.policy
    _require_manager(interaction)
    await policy.set_video_default(interaction.guild_id or 0, enabled)
    tier = await policy.tier(interaction.guild_id or 0)
    text = f"New stories {'animate' if enabled else 'do not animate'} every scene by default."
    if enabled and not tier.video:
        text += f" (The **{tier.name}** tier has no video, so this waits for a tier with video.)"
    await interaction.response.send_message(text, ephemeral=True)


async def _tier(interaction: Interaction, tier: str) -> None:
    """Set this server's tier (operators only)."""
    policy = interaction.client.services.policy
    if not policy.is_operator(interaction.user.id):
        raise Refusal(NEEDS_OPERATOR)
    if tier not in policy.tiers.tiers:
        raise Refusal(no_such_tier_text(tier))
    await policy.set_tier(interaction.guild_id or 0, tier)
    await interaction.response.send_message(
        f"This server is now on the **{tier}** tier.", ephemeral=True, allowed_mentions=NO_PINGS
    )


def settings_group(tier_names: Sequence[str]) -> app_commands.Group:
    """Built at start because the tier choices come from the tier table in force."""
    group = app_commands.Group(
        name="settings", description="This server's StoryBot settings", guild_only=True
    )
    group.command(name="view", description="The server's tier and settings")(_view)
    manager = {"who": "manager"}  # what /help lists for whom
    group.command(name="model", description="Set the server's default image model", extras=manager)(
        _model
    )
    group.command(name="video", description="Animate every scene of new stories", extras=manager)(
        _video
    )
    choices = [app_commands.Choice(name=name, value=name) for name in tier_names][:25]
    tier_command = app_commands.choices(tier=choices)(
        app_commands.describe(tier="The tier that decides models, quotas and video")(_tier)
    )
    group.command(
        name="tier",
        description="Set this server's tier (operators only)",
        extras={"who": "operator"},
    )(tier_command)
    return group


class SettingsCog(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.group = settings_group(list(bot.services.policy.tiers.tiers))

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)
