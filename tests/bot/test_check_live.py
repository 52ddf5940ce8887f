"""`check --live` against the provider stand-ins: reachable, not offered, provider unreachable."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiohttp import web

from bot import live_check
from bot.lineup import Lineup
from bot.live_check import check_live
from bot.settings import Settings
from bot.tiers import BUILT_IN_TIERS, TierTable
from providers.registry import BUILT_IN, Catalog
from tests.fakes.gemini_api import GeminiStandin
from tests.fakes.loopback import LoopbackServer
from tests.fakes.openai_api import OpenAIStandin
from tests.fakes.xai_api import XAIStandin

NOV_30 = datetime(2026, 11, 30, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
KEYS = {"OPENAI_API_KEY": "sk-live-secret", "XAI_API_KEY": "xai-live-secret"}


@pytest.fixture
def env(
    openai_standin: OpenAIStandin,
    xai_standin: XAIStandin,
    gemini_standin: GeminiStandin,
    tmp_path: Path,
) -> dict[str, str]:
    openai_standin.today = NOV_30.date()
    return {
        **KEYS,
        "GEMINI_API_KEY": "AIza-live-secret",
        "OPENAI_BASE_URL": openai_standin.base_url,
        "XAI_BASE_URL": xai_standin.base_url,
        "GEMINI_BASE_URL": gemini_standin.base_url,
        "DATA_DIR": str(tmp_path / "data"),
        "DISCORD_TOKEN": "discord-live-secret",
    }


async def live(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], bool]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    lineup = Lineup(Catalog(BUILT_IN, clock=lambda: NOV_30), settings.keyed_providers())
    return await check_live(settings, lineup, TierTable(BUILT_IN_TIERS, "free"))


def state(lines: list[str], key: str) -> str:
    return next(line for line in lines if line.strip().split()[:1] == [key]).split(": ", 1)[1]


async def test_every_catalog_model_the_providers_serve_is_reachable(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, healthy = await live(env, monkeypatch)

    assert healthy
    for spec in BUILT_IN:
        if spec.key != "gpt-image-1":  # retired: neither offered nor asked about
            assert state(lines, spec.key) == "reachable", spec.key
    assert not [line for line in lines if line.lstrip().startswith("gpt-image-1 ")]


async def test_a_model_a_tier_draws_with_that_the_provider_no_longer_lists_fails_the_check(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, openai_standin: OpenAIStandin
) -> None:
    del openai_standin.models["gpt-image-2"]
    openai_standin.today = date(2026, 12, 1)  # and mini and 1.5 are gone (the bot says 30 Nov)

    lines, healthy = await live(env, monkeypatch)

    assert not healthy
    assert state(lines, "gpt-image-2") == (
        'not offered by the provider; a tier draws with it: fix [models."gpt-image-2"] in '
        "MODELS_FILE"
    )
    assert state(lines, "gpt-image-1-mini").startswith("not offered by the provider")
    assert state(lines, "grok-imagine") == "reachable"


async def test_a_provider_that_cannot_be_reached_is_reported_not_fatal(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"

    lines, healthy = await live({**env, "GEMINI_BASE_URL": closed}, monkeypatch)

    assert healthy, "an unreachable provider is reported, not fatal"
    assert any(line.startswith("  Google: could not be reached") for line in lines)
    assert state(lines, "gemini") == "not checked (Google could not be reached)"
    assert state(lines, "gpt-image-2") == "reachable"


async def test_a_provider_whose_key_is_missing_is_not_asked(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, gemini_standin: GeminiStandin
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    env.pop("GEMINI_API_KEY")

    lines, _ = await live(env, monkeypatch)

    assert state(lines, "gemini-pro") == "not checked (no GEMINI_API_KEY)"
    assert gemini_standin.requests == []


async def test_check_live_as_a_process_reports_and_exits_non_zero_never_printing_a_key(
    env: dict[str, str], openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    del openai_standin.models["gpt-image-2"]
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", "--live",
        cwd=tmp_path, env={**clean, **env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    text = (out + err).decode()

    assert process.returncode == 1
    assert "Live check" in text
    assert "gpt-image-2 (OpenAI): not offered by the provider" in text
    assert "grok-imagine-image (xAI): reachable" in text
    for secret in (*KEYS.values(), "AIza-live-secret", "discord-live-secret"):
        assert secret not in text


async def test_a_provider_slower_than_the_bound_is_reported_as_not_answering(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, xai_standin: XAIStandin
) -> None:
    monkeypatch.setattr(live_check, "CALL_TIMEOUT", 0.2)
    xai_standin.latency = 30.0  # ends at once when the stand-in closes

    lines, healthy = await live(env, monkeypatch)

    assert healthy
    assert "  xAI: could not be reached (no answer within 0.2 s)" in lines
    assert state(lines, "grok-imagine") == "not checked (xAI could not be reached)"


class NotTheAPI(LoopbackServer):
    """What a wrong base URL or a login proxy answers: 200 and something else than a model list."""

    def __init__(self, body: str, content_type: str) -> None:
        super().__init__()
        self.body, self.content_type = body, content_type

    def build(self, app: web.Application) -> None:
        async def answer(request: web.Request) -> web.Response:
            return web.Response(text=self.body, content_type=self.content_type)

        app.router.add_route("*", "/{tail:.*}", answer)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<html>Sign in to the proxy</html>", "text/html"), ("[1, 2]", "application/json")],
)
async def test_a_base_url_that_answers_something_else_is_reported_not_fatal(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, body: str, content_type: str
) -> None:
    async with NotTheAPI(body, content_type) as other:
        urls = {f"{name}_BASE_URL": other.origin for name in ("OPENAI", "XAI", "GEMINI")}
        urls["OPENAI_BASE_URL"] = urls["XAI_BASE_URL"] = f"{other.origin}/v1"
        lines, healthy = await live({**env, **urls}, monkeypatch)

    assert healthy, "a provider that cannot be asked is reported, not fatal"
    for provider in ("OpenAI", "xAI", "Google"):
        assert any(line.startswith(f"  {provider}: could not be reached") for line in lines)
    assert state(lines, "gpt-image-2") == "not checked (OpenAI could not be reached)"


def text_state(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("  scene text ")).split(": ", 1)[1]


@pytest.mark.parametrize(
    ("dropped", "model"),
    [
        ((), "gpt-5.4-mini (OpenAI)"),
        (("OPENAI_API_KEY",), "grok-4.20-non-reasoning (xAI)"),
        (("OPENAI_API_KEY", "XAI_API_KEY"), "gemini-3.8-flash (Google)"),
    ],
)
async def test_the_model_that_writes_scene_text_is_asked_about_on_its_provider(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, dropped: tuple[str, ...], model: str
) -> None:
    for name in dropped:
        monkeypatch.delenv(name, raising=False)
        env.pop(name)

    lines, healthy = await live(env, monkeypatch)

    assert healthy
    assert f"  scene text  {model}: reachable" in lines


async def test_a_text_model_the_provider_does_not_serve_fails_the_check(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, xai_standin: XAIStandin
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    env.pop("OPENAI_API_KEY")
    del xai_standin.text_models["grok-4.20-0309-non-reasoning"]  # and its alias with it

    lines, healthy = await live(env, monkeypatch)

    assert not healthy
    assert text_state(lines) == "not offered by the provider; set TEXT_MODEL to a model it serves"
    assert state(lines, "grok-imagine") == "reachable"


async def test_text_model_is_the_model_asked_about(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, healthy = await live({**env, "TEXT_MODEL": "gpt-9-imaginary"}, monkeypatch)

    assert not healthy
    assert "  scene text  gpt-9-imaginary (OpenAI): not offered by the provider" in "\n".join(lines)
