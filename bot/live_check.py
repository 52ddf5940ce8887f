"""`python -m bot check --live`: one question to each keyed provider, which models does this
key reach, and each catalog model marked reachable or not offered. Bounded in time; a provider
that cannot be reached is reported, never fatal."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.lineup import Lineup
from bot.settings import Settings
from bot.tiers import TierTable
from providers.connect import CONNECTORS, Access
from providers.errors import ProviderError
from providers.registry import ModelSpec, Provider, TextModel, text_model

LIVE_BUDGET = 20.0  # seconds for the whole question round (SPEC §2)
CALL_TIMEOUT = 15.0  # seconds per provider; they are asked at once, so the round fits the budget


@dataclass(frozen=True, slots=True)
class Answer:
    """What one provider said: the ids its key reaches, or why it could not be asked."""

    reached: frozenset[str] | None
    problem: str | None = None


async def ask_providers(settings: Settings) -> dict[Provider, Answer]:
    """The model lists of every keyed provider, asked concurrently within LIVE_BUDGET."""
    asks = {p: _asker(settings, p) for p in settings.keyed_providers()}
    tasks = {p: asyncio.create_task(_ask(ask)) for p, ask in asks.items()}
    done, pending = await asyncio.wait(tasks.values(), timeout=LIVE_BUDGET)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return {
        p: task.result() if task in done else Answer(None, "no answer in time")
        for p, task in tasks.items()
    }


async def _ask(ask: Callable[[], Awaitable[frozenset[str]]]) -> Answer:
    try:
        return Answer(await asyncio.wait_for(ask(), CALL_TIMEOUT))
    except TimeoutError:
        return Answer(None, f"no answer within {CALL_TIMEOUT:g} s")
    except ProviderError as exc:
        return Answer(None, exc.reason)


def _asker(settings: Settings, provider: Provider) -> Callable[[], Awaitable[frozenset[str]]]:
    secret = settings.api_key(provider)
    key = secret.get_secret_value() if secret else ""
    access = Access(key, settings.base_url(provider), CALL_TIMEOUT, retries=0)
    return lambda: CONNECTORS[provider].list_models(access)


def _reach(spec: ModelSpec, answers: Mapping[Provider, Answer]) -> str:
    answer = answers.get(spec.provider)
    if answer is None:
        return f"not checked (no {spec.key_variable})"
    if answer.reached is None:
        return f"not checked ({spec.provider.display} could not be reached)"
    return "reachable" if spec.api_model in answer.reached else "not offered by the provider"


def live_report(
    lineup: Lineup,
    tiers: TierTable,
    answers: Mapping[Provider, Answer],
    text: TextModel | None = None,
) -> tuple[list[str], bool]:
    """The lines `check --live` adds, and whether every model a tier draws with, and the model
    that writes scene text, are reachable."""
    lines = ["Live check (each provider's own model list):"]
    for provider, answer in answers.items():
        if answer.reached is None:
            lines.append(f"  {provider.display}: could not be reached ({answer.problem})")
    width = max(len(spec.key) for spec in lineup.catalog.all)
    healthy = True
    for spec in lineup.catalog.offered():
        state = _reach(spec, answers)
        needed = any(lineup.usable(spec, tier) for tier in tiers.tiers.values())
        if needed and state == "not offered by the provider":
            healthy = False
            state += f'; a tier draws with it: fix [models."{spec.key}"] in MODELS_FILE'
        lines.append(f"  {spec.key:<{width}}  {spec.api_model} ({spec.provider.display}): {state}")
    if text is not None:
        line, reachable = _text_reach(text, answers)
        lines.append(line)
        healthy = healthy and reachable
    return lines, healthy


def _text_reach(text: TextModel, answers: Mapping[Provider, Answer]) -> tuple[str, bool]:
    """The scene text model's line; unreachable only when its provider says it does not serve it."""
    reached = answers[text.provider].reached if text.provider in answers else None
    where = f"  scene text  {text.api_model} ({text.provider.display}): "
    if reached is None:
        return where + f"not checked ({text.provider.display} could not be reached)", True
    if text.api_model in reached:
        return where + "reachable", True
    return where + "not offered by the provider; set TEXT_MODEL to a model it serves", False


async def check_live(
    settings: Settings, lineup: Lineup, tiers: TierTable
) -> tuple[list[str], bool]:
    text = text_model(settings.keyed_providers(), settings.text_model)
    return live_report(lineup, tiers, await ask_providers(settings), text)
