"""The custom_id grammar of the persistent buttons, in one place.

- `scene:{action}:{scene_id}` where action is `regen`, `animate` or `continue` and scene_id a
  decimal scene row id (≤ 19 digits), e.g. `scene:animate:1234` — at most 33 characters, far
  under Discord's 100;
- `story:delete:{story_id}`, the confirm button of /story delete (at most 32 characters).
Everything else (story, guild, model, author) is looked up in the database when the button is
pressed, so buttons keep working after a restart.

The scene template also takes forged `scene:` ids (unknown action, not a number, beyond
SQLite's 64-bit integers): they parse to NO_SCENE, which answers "no longer exists" ephemerally
instead of leaving the interaction unanswered.

bot/buttons.py builds its DynamicItems on this grammar, and the bot asks `is_ours` of a
custom_id no item matched. (What breaks the render → buttons → handlers → render loop is
bot/presses.py: the handlers are reached through the bot, not imported by bot/buttons.py.)
"""

from __future__ import annotations

import re

ACTIONS = ("regen", "animate", "continue")
MAX_SCENE_ID = 2**63 - 1  # SQLite's INTEGER; a larger id cannot even be looked up
NO_SCENE = 0  # never a row id (SQLite's start at 1)
_SCENE_ID = re.compile(r"[0-9]{1,19}")

SCENE_TEMPLATE = r"scene:(?P<action>[^:]{0,20}):(?P<scene_id>.{0,100})"
DELETE_TEMPLATE = r"story:delete:(?P<story_id>[0-9]{1,19})"
_TEMPLATES = (re.compile(SCENE_TEMPLATE), re.compile(DELETE_TEMPLATE))


def scene_button_id(action: str, scene_id: int) -> str:
    return f"scene:{action}:{scene_id}"


def delete_button_id(story_id: int) -> str:
    return f"story:delete:{story_id}"


def parse_scene(action: str, raw_scene_id: str) -> tuple[str, int]:
    """The action and scene of a matched `scene:` id; a forged one is ("regen", NO_SCENE)."""
    if (
        action in ACTIONS
        and _SCENE_ID.fullmatch(raw_scene_id)
        and int(raw_scene_id) <= MAX_SCENE_ID
    ):
        return action, int(raw_scene_id)
    return "regen", NO_SCENE


def is_ours(custom_id: str) -> bool:
    """Whether a component's custom_id is in our grammar (forged ids included: they are
    answered as scenes that no longer exist)."""
    return any(template.fullmatch(custom_id) for template in _TEMPLATES)
