"""Loopback stand-ins for Discord and every provider, registered as fixtures for all tests."""

pytest_plugins = [
    "tests.postgres",
    "tests.fakes.discord.fixtures",
    "tests.fakes.openai_api",
    "tests.fakes.xai_api",
    "tests.fakes.gemini_api",
]
