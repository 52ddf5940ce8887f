"""The Bot subclass and start-up: storage → services → cogs, buttons, video loop, sync."""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import json
import logging
import signal
import sys
from collections.abc import Mapping
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.acknowledgements import Acknowledgements
from bot.book.web import WebPortUnavailable
from bot.buttons import DeleteButton, SceneButton, is_ours
from bot.cogs.info import InfoCog
from bot.cogs.settings import SettingsCog
from bot.cogs.story import StoryCog
from bot.discord_endpoints import point_discord_at
from bot.errors import IN_SERVERS, NOT_OUR_BUTTON, RESTARTING, unknown_command_text
from bot.identify import IdentifyTurns
from bot.instance_lock import DataDirInUse, hold_data_dir
from bot.presses import Presses
from bot.render import NO_PINGS
from bot.respond import answer_unsupported, report_unexpected
from bot.settings import Settings
from bot.tiers import TierTable
from bot.video_delivery import deliver
from bot.video_loop import VideoLoop
from bot.wiring import Services, build_services
from providers.registry import Catalog
from storage import SchemaTooNew

log = logging.getLogger(__name__)
TREE_HASH_KEY = "command_tree_hash"
LAST_WORDS_SECONDS = 5.0  # for scenes stopped at shutdown to say "restarted"
# What a stale client causes: a command this version never registered, or registered otherwise.
_STALE = (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)


class StoryTree(app_commands.CommandTree["StoryBot"]):
    async def interaction_check(self, interaction: discord.Interaction[StoryBot]) -> bool:
        """Every command lives in servers; one from a DM (a stale client) is told so. While the
        bot stops, new commands are told to come back."""
        if interaction.client.draining:
            await answer_unsupported(interaction, RESTARTING)
            return False
        if interaction.guild_id is not None:
            return True
        await answer_unsupported(interaction, IN_SERVERS)
        return False

    async def on_error(
        self, interaction: discord.Interaction[StoryBot], error: app_commands.AppCommandError
    ) -> None:
        """The one place an unexpected command error becomes a member-facing message."""
        if isinstance(error, _STALE):
            await answer_unsupported(interaction, unknown_command_text(_command_path(error)))
            return
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await report_unexpected(interaction, cause)


def _command_path(
    error: app_commands.CommandNotFound | app_commands.CommandSignatureMismatch,
) -> str:
    if isinstance(error, app_commands.CommandNotFound):
        return " ".join([*error.parents, error.name])
    return error.command.qualified_name


class StoryBot(commands.AutoShardedBot):
    """Holds `services`; everything else hangs off setup_hook. Runs the shards SHARD_IDS of
    SHARD_COUNT, or every shard discord.py is told to run when they are unset."""

    def __init__(self, services: Services, **options: object) -> None:
        # StoryBot has no voice: discord.py's "voice will NOT be supported" warnings are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        settings = services.settings
        if settings.shard_count is not None:
            options = {"shard_count": settings.shard_count, **options}
        if settings.shard_ids is not None:
            options = {"shard_ids": list(settings.shard_ids), **options}
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),  # no privileged intents
            allowed_mentions=NO_PINGS,
            help_command=None,
            tree_cls=StoryTree,
            **options,  # type: ignore[arg-type]  # discord.Client's keyword options
        )
        self.services = services
        self.presses = Presses()  # what the persistent buttons do when pressed
        self.acknowledgements = Acknowledgements()
        self.video_loop: VideoLoop | None = None
        self.draining = False  # SIGTERM came: new interactions are told to come back
        self._scenes: set[asyncio.Task[Any]] = set()
        self._warming: asyncio.Task[None] | None = None
        db = services.storage.db
        self.identify_turns = IdentifyTurns(db, self) if db.shared else None

    async def setup_hook(self) -> None:
        recovery = await self.services.storage.recover_after_restart()
        if recovery.interrupted_jobs:
            log.warning(
                "%d video jobs were interrupted by a restart", len(recovery.interrupted_jobs)
            )
        await self.add_cog(StoryCog(self))
        await self.add_cog(SettingsCog(self))
        await self.add_cog(InfoCog(self))
        self.add_dynamic_items(SceneButton, DeleteButton)
        if self.services.videos.available:
            report = functools.partial(deliver, self)
            self.video_loop = VideoLoop(self.services.videos, report, ready=self.wait_until_ready)
            self.video_loop.start()
        if self.services.web is not None:
            await self.services.web.start()
        self._warming = asyncio.create_task(self._connect_providers())
        await self.sync_commands()

    async def _connect_providers(self) -> None:
        """The provider SDKs are imported and their clients built once the gateway session is
        up: off the path from start to the first answered command, before the first scene."""
        await self.wait_until_ready()
        try:
            await self.services.warm_up()
        except Exception:  # the first scene connects (and reports) on its own
            log.exception("connecting the providers after start-up failed")
        gc.freeze()  # the SDKs' modules and types join what start-up kept out of collections

    async def sync_commands(self) -> None:
        """To DEV_GUILD_ID at every start; globally only when the command tree changed."""
        if not self.services.settings.syncs_commands():
            log.info("commands are synced by the process that runs shard 0")
            return
        dev_guild = self.services.settings.dev_guild_id
        if dev_guild is not None:
            guild = discord.Object(id=dev_guild)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
            log.info("commands synced to guild %s", dev_guild)
            return
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        meta = self.services.storage.meta
        if await meta.get(TREE_HASH_KEY) == digest:
            log.info("command tree unchanged; no sync")
            return
        await self.tree.sync()
        await meta.set(TREE_HASH_KEY, digest)
        log.info("commands synced globally")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Processes sharing a database take turns to IDENTIFY (bot/identify.py); a process
        alone keeps discord.py's own pacing."""
        if self.identify_turns is None:
            await super().before_identify_hook(shard_id, initial=initial)
        else:
            await self.identify_turns.take(shard_id or 0)

    async def on_interaction(self, interaction: discord.Interaction[StoryBot]) -> None:
        """Every interaction joins the acknowledgement order (bot/acknowledgements.py). A button
        (or form) whose custom_id is not in our grammar has no handler in discord.py; answer it
        here, or the member would read "This interaction failed"."""
        self.acknowledgements.arrived(interaction.id, interaction.response.is_done)
        if interaction.type not in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            return
        data: Mapping[str, object] = interaction.data or {}
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str) or not is_ours(custom_id):
            await answer_unsupported(interaction, NOT_OUR_BUTTON)

    def track_scene(self) -> None:
        """The running task makes a scene; a shutdown waits for it (up to its grace)."""
        task = asyncio.current_task()
        if task is not None:
            self._scenes.add(task)
            task.add_done_callback(self._scenes.discard)

    async def drain(self, grace: float) -> None:
        """SIGTERM (SPEC §10): take no new interactions, let the scenes in flight finish for up
        to `grace` seconds, end the rest in "restarted", then close (the HTTP session last)."""
        if self.draining:
            return
        self.draining = True
        log.info("stopping: no new interactions are taken")
        if self.video_loop is not None:
            self.video_loop.stop()
        pending = {task for task in self._scenes if not task.done()}
        if pending:
            log.info("stopping: %d scene(s) in flight get up to %.0f s", len(pending), grace)
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                log.warning("stopping: %d scene(s) ended as restarted", len(late))
                await asyncio.wait(late, timeout=LAST_WORDS_SECONDS)
        await self.close()

    async def close(self) -> None:
        if self.video_loop is not None:
            await self.video_loop.close()  # its tick ends before storage closes (in _main)
        if self.identify_turns is not None:
            await self.identify_turns.close()
        if self.services.web is not None:
            await self.services.web.stop()
        await super().close()


async def _main(settings: Settings, catalog: Catalog, tiers: TierTable) -> None:
    assert settings.discord_token is not None  # noqa: S101 - __main__ checked it
    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    services = await build_services(settings, catalog, tiers)
    try:
        async with StoryBot(services) as bot:
            # systemd and container runtimes stop with SIGTERM: drain, then close (SPEC §10).
            closing: list[asyncio.Task[None]] = []
            grace = settings.shutdown_grace_seconds
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGTERM, lambda: closing.append(asyncio.create_task(bot.drain(grace)))
            )
            # What start-up loaded (modules, SDK types, clients) lives as long as the process:
            # keep it out of the cyclic collector, whose full passes over it stalled the event
            # loop for ~90 ms in the middle of a burst of scenes.
            gc.freeze()
            # A scene allocates thousands of objects: at the default threshold (700) the
            # collector ran several times per scene, and its passes over the older generations
            # paused the loop for 3-10 ms in bursts. 10,000 takes ~0.7 ms off the steady
            # acknowledgements' p99 for ~1 MB of memory; 50,000 cost 4 MB (PERFORMANCE.md, 11).
            gc.set_threshold(10_000, 50, 100)
            await bot.start(settings.discord_token.get_secret_value())
    finally:
        await services.close()


def run(settings: Settings, catalog: Catalog, tiers: TierTable) -> int:
    try:
        with hold_data_dir(settings.data_dir):
            asyncio.run(_main(settings, catalog, tiers))
    except (DataDirInUse, WebPortUnavailable) as exc:
        print(f"Not started: {exc}.", file=sys.stderr)
        return 1
    except SchemaTooNew as exc:
        print(
            f"Not started: the database in {settings.data_dir} was written by a newer StoryBot "
            f"(schema version {exc.found}; this version knows up to {exc.known}). Run that "
            "newer version, or restore a backup made with this one.",
            file=sys.stderr,
        )
        return 1
    except discord.LoginFailure:
        print("Discord rejected DISCORD_TOKEN: check the token in .env.", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, discord.GatewayNotFound) as exc:
        base = settings.discord_api_base_url
        print(f"Could not reach Discord at {base}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
