"""Why a storybook cannot be made; bot/errors.py gives each its member text."""

from __future__ import annotations


class NoStoryHere(Exception):
    """No story option, and the member has no story in this channel."""


class UnknownStory(Exception):
    """The story option names no story of this server (another server's gets the same)."""


class EmptyStory(Exception):
    """The story has no scene members have seen yet."""
