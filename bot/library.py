"""A member's stories on a server: listing them and deleting one (SPEC §5 /story list, delete).

Discord-free: the cog hands in who asks and whether they may manage the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import NO_SUCH_STORY, NOT_YOURS_TO_DELETE, Refusal
from bot.services import Actor
from storage import NotFound, Storage, Story, StoryDigest

LISTED = 25  # stories /story list shows, newest first


@dataclass(frozen=True, slots=True)
class Deleted:
    """What a deletion removed: the title, and the scene messages that still show it."""

    title: str
    messages: tuple[tuple[int, int], ...]  # (channel_id, message_id)


class Library:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def mine(self, actor: Actor) -> list[StoryDigest]:
        """The member's stories on this server, newest first."""
        return await self._storage.stories.digests(actor.guild_id, actor.member_id, LISTED)

    async def deletable_choices(self, actor: Actor, typed: str, manager: bool) -> list[Story]:
        """Stories this member may delete whose title holds `typed`: all of the server's for
        a manager, their own otherwise."""
        if manager:
            return await self._storage.stories.in_guild(actor.guild_id, typed)
        needle = typed.strip().lower()
        own = await self.mine(actor)
        return [d.story for d in own if needle in d.story.title.lower()]

    async def deletable(self, actor: Actor, story_id: str, manager: bool) -> tuple[Story, int]:
        """The story, if this member may delete it, and how many scenes it has shown."""
        story = await self._story(actor, story_id)
        if story.author_id != actor.member_id and not manager:
            raise Refusal(NOT_YOURS_TO_DELETE)
        scenes = await self._storage.scenes.list_for_story(story.id)
        return story, sum(1 for scene in scenes if scene.told_number is not None)

    async def delete(self, actor: Actor, story_id: str, manager: bool) -> Deleted:
        """Delete the story's rows and every picture, video and reference photo of it. Usage
        rows are not the story's: the day's counts stay."""
        story, _ = await self.deletable(actor, story_id, manager)
        scenes = await self._storage.scenes.list_for_story(story.id)
        try:
            await self._storage.delete_story(story.id)
        except NotFound as exc:  # deleted meanwhile, e.g. by a second press
            raise Refusal(NO_SUCH_STORY) from exc
        posted = tuple((s.channel_id, s.message_id) for s in scenes if s.message_id is not None)
        return Deleted(story.title, posted)

    async def _story(self, actor: Actor, story_id: str) -> Story:
        """The story named by an option or a button, on this server only; another server's
        story answers exactly like one that does not exist."""
        story = None
        if story_id.isdigit() and len(story_id) <= 19:
            story = await self._storage.stories.get(int(story_id))
        if story is None or story.guild_id != actor.guild_id:
            raise Refusal(NO_SUCH_STORY)
        return story
