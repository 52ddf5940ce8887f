"""Two `python -m bot` processes on one PostgreSQL split two shards (SPEC §11). The loopback
Discord delivers each guild's events only on its shard's session and holds the IDENTIFYs to
Discord's rules, so the test fails if a guild reached the wrong process, if both processes
synced the commands, if they identified closer than max_concurrency per 5 s, or if a video
job finished by either process were posted twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from storage import JobState, Storage
from tests.e2e.helpers import custom_id
from tests.fakes.discord import DiscordStandin, Guild, InteractionRecord, StoredMessage
from tests.fakes.discord.sharding import IDENTIFY_INTERVAL
from tests.fakes.openai_api import OpenAIStandin
from tests.fakes.xai_api import VIDEOS, XAIStandin

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 45.0  # seconds any one wait may take on a loaded machine before the test fails
SHARDS = 2
NOT_MINE = "commands are synced by the process that runs shard 0"


class BotProcess:
    """`python -m bot` running the shard `shard_id` of SHARDS, its log in a file."""

    def __init__(self, shard_id: int, env: dict[str, str], workdir: Path) -> None:
        self.shard_id = shard_id
        self.log_path = workdir / f"shard-{shard_id}.log"
        self.env = env | {
            "SHARD_COUNT": str(SHARDS),
            "SHARD_IDS": str(shard_id),
            "DATA_DIR": str(workdir / f"data-{shard_id}"),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=self.env, stderr=log
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def stop(self) -> int | None:
        """SIGTERM, as systemd stops it; SIGKILL if it has not exited in WITHIN seconds."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), WITHIN)
        except TimeoutError:
            process.kill()
            await process.wait()
            return None


def environment(
    discord: DiscordStandin, openai: OpenAIStandin, xai: XAIStandin, database_url: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    for name in ("DEV_GUILD_ID", "MODELS_FILE", "TIERS_FILE", "TEXT_MODEL", "OWNER_IDS"):
        env.pop(name, None)
    return env | {
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE_URL": discord.api_base_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        "OPENAI_API_KEY": "sk-test-shards",
        "OPENAI_BASE_URL": openai.base_url,
        "XAI_API_KEY": "xai-test-shards",
        "XAI_BASE_URL": xai.base_url,
        "DATABASE_URL": database_url,
        "DEFAULT_TIER": "premium",
        "VIDEO_POLL_SECONDS": "0.05",
        "LOG_LEVEL": "INFO",
    }


@asynccontextmanager
async def two_processes(env: dict[str, str], workdir: Path) -> AsyncIterator[list[BotProcess]]:
    bots = [BotProcess(shard_id, env, workdir) for shard_id in range(SHARDS)]
    try:
        await asyncio.gather(*(bot.start() for bot in bots))  # at once: they must take turns
        yield bots
    finally:
        for bot in bots:
            await bot.stop()


def socket_owner(port: int, pids: Iterable[int]) -> int | None:
    """The process holding the TCP socket whose local port is `port` (/proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):
                if os.readlink(fd) in inodes:
                    return pid
    return None


def receiver(discord: DiscordStandin, ix: InteractionRecord, bots: list[BotProcess]) -> int:
    """The shard the interaction went to, checked to be the socket of that shard's process."""
    (delivery,) = [
        d
        for d in discord.gateway.deliveries
        if d.event == "INTERACTION_CREATE" and d.ident == str(ix.id)
    ]
    shard_id = delivery.shard[0]
    owner = socket_owner(delivery.peer_port, [bot.pid for bot in bots])
    assert owner == bots[shard_id].pid, f"shard {shard_id}'s event reached pid {owner}"
    return shard_id


async def story_in(
    discord: DiscordStandin, guild: Guild
) -> tuple[InteractionRecord, StoredMessage]:
    ix = await discord.slash(
        "story", "start", options={"premise": f"A lighthouse in {guild.name}"}, guild=guild
    )
    scene = await ix.wait_for_final(within=WITHIN)
    assert scene is not None, f"no answer in {guild.name}"
    assert scene.filenames == ["scene.png"], scene
    return ix, scene


def mp4_uploads(discord: DiscordStandin) -> int:
    return sum(
        1 for r in discord.requests_to("*", r".*") for f in r.files if f.filename == "scene.mp4"
    )


async def test_two_processes_answer_their_own_shards_and_post_a_video_once(
    postgres_url: str,
    discord_standin: DiscordStandin,
    openai_standin: OpenAIStandin,
    xai_standin: XAIStandin,
    tmp_path: Path,
) -> None:
    discord = discord_standin
    rules = discord.gateway.rules
    rules.identify_interval = IDENTIFY_INTERVAL  # Discord's: max_concurrency (1) per 5 s
    guilds = [discord.add_guild(f"Shard {n} guild", shard=(n, SHARDS)) for n in range(SHARDS)]
    env = environment(discord, openai_standin, xai_standin, postgres_url)
    async with two_processes(env, tmp_path) as bots:
        everyone = {(n, SHARDS) for n in range(SHARDS)}
        await discord.until(
            lambda: discord.gateway.connected_shards == everyone,
            WITHIN,
            f"for both processes' shards (logs: {[b.log()[-2000:] for b in bots]})",
        )
        assert rules.refusals == [], f"IDENTIFYs Discord would refuse: {rules.refusals}"
        first, second = rules.accepted
        assert second.at - first.at >= IDENTIFY_INTERVAL, "identified closer than 5 s apart"
        assert discord.command_syncs() == 1, "commands synced once"
        assert (NOT_MINE in bots[0].log(), NOT_MINE in bots[1].log()) == (False, True)

        scenes = []
        for shard_id, guild in enumerate(guilds):
            ix, scene = await story_in(discord, guild)
            assert receiver(discord, ix, bots) == shard_id
            scenes.append(scene)

        scene = scenes[1]
        click = await discord.click(scene, custom_id(scene, "animate"))
        assert await click.wait_for_final(within=WITHIN) is scene
        assert receiver(discord, click, bots) == 1
        await discord.until(lambda: "scene.mp4" in scene.filenames, WITHIN, "for the MP4")
        await until_reported(postgres_url, tmp_path / "reader", scene_id=2)
        codes = [await bot.stop() for bot in bots]
        assert codes == [0, 0], [bot.log()[-2000:] for bot in bots]
    assert scene.filenames == ["scene.png", "scene.mp4"]
    assert mp4_uploads(discord) == 1, "the MP4 was posted once"
    assert len(xai_standin.requests_to(VIDEOS)) == 1, "the video was submitted once"


async def until_reported(database_url: str, data_dir: Path, *, scene_id: int) -> None:
    """Poll the shared database (nothing wakes us) until the scene's job is done and shown."""
    storage = await Storage.open(data_dir, database_url=database_url)
    try:
        deadline = time.monotonic() + WITHIN
        while (job := await storage.jobs.for_scene(scene_id)) is None or not job.reported:
            assert time.monotonic() < deadline, f"timed out after {WITHIN}s; job {job}"
            await asyncio.sleep(0.05)
        assert job.state is JobState.DONE, job
    finally:
        await storage.close()
