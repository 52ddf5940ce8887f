"""Load the benchmarks generate through the Discord stand-in, and how its latency is read."""

from __future__ import annotations

import asyncio
import itertools
import time

from bench.rig import MODEL, Rig
from tests.fakes.discord import InteractionRecord

AUTOCOMPLETE = 4
PREMISE = "A lighthouse fox and a singing whale, tale"
_members = itertools.count(100_000)


def ack_latency(record: InteractionRecord) -> float | None:
    """Gateway dispatch → first callback; a callback Discord refused as too late (10062)
    still counts, at the moment it arrived. None: no callback at all (yet)."""
    if record.callbacks:
        return record.callbacks[0].at - record.created_at
    if record.rejected:
        return record.rejected[0][0] - record.created_at
    return None


async def start_story(rig: Rig, *, wait_ack: bool = False) -> InteractionRecord:
    """`/story start` by a fresh member (quotas per member stay out of the way); the premise
    carries the member's id so the provider requests of each story can be told apart."""
    member = next(_members)
    return await rig.discord.slash(
        "story",
        "start",
        options={"premise": f"{PREMISE} {member}", "model": MODEL},
        user=member,
        wait_ack=wait_ack,
    )


async def autocomplete(rig: Rig) -> list[str]:
    choices = await rig.discord.autocomplete("story", "start", focused="model", value="gpt")
    return [str(choice["value"]) for choice in choices]


def autocomplete_records(rig: Rig, since: float) -> list[InteractionRecord]:
    return [
        r
        for r in rig.discord.state.interactions.values()
        if r.type == AUTOCOMPLETE and r.created_at >= since
    ]


async def wait_all(rig: Rig, records: list[InteractionRecord], within: float) -> int:
    """Wait until every record has its final answer; returns how many did not in time."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        missing = sum(not r.final for r in records)
        if not missing:
            return 0
        await asyncio.sleep(0.05)
    return sum(not r.final for r in records)


class AutocompleteLoad:
    """Autocomplete at a steady `rate` per second until stopped (a member typing)."""

    def __init__(self, rig: Rig, rate: float = 20.0) -> None:
        self.rig, self.rate = rig, rate
        self.started = 0.0
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[list[str]]] = set()

    def start(self) -> None:
        self.started = time.monotonic()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        for n in itertools.count():
            await asyncio.sleep(max(0.0, self.started + n / self.rate - time.monotonic()))
            task = asyncio.create_task(autocomplete(self.rig))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def stop(self) -> list[InteractionRecord]:
        if self._task is not None:
            self._task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        return autocomplete_records(self.rig, self.started)


def splits(rig: Rig, records: list[InteractionRecord], latency: float) -> list[tuple[float, float]]:
    """(dispatch → image request arrives, image answered → scene edit arrives) in seconds for
    each /story start that has both: the bot's own time before and after the provider call."""
    # A picture's prompt begins with its story's premise, which names its member.
    images = {str(r.fields.get("prompt", "")).split("\n", 1)[0]: r.at for r in rig.openai.requests}
    edits = {
        r.path.rsplit("/", 3)[-3]: r.at  # …/webhooks/<app>/<token>/messages/@original
        for r in rig.discord.requests
        if r.method == "PATCH" and r.path.endswith("/messages/@original")
    }
    found = []
    for record in records:
        options = record.payload["data"]["options"][0]["options"]  # /story start's own options
        premise = next(str(o["value"]) for o in options if o["name"] == "premise")
        image = images.get(premise)
        edit = edits.get(record.token)
        if image is not None and edit is not None:
            found.append((image - record.created_at, edit - (image + latency)))
    return found
