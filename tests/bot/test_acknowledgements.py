"""The acknowledgement order on its own (bot/acknowledgements.py), with an injected clock."""

from __future__ import annotations

import asyncio

from bot.acknowledgements import MAX_WAIT, Acknowledgements


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def never() -> bool:
    return False


async def waiting(order: Acknowledgements, key: int) -> asyncio.Task[None]:
    task = asyncio.create_task(order.after_earlier(key))
    await asyncio.sleep(0.02)  # a few rechecks
    return task


async def test_a_scene_waits_for_an_earlier_interaction_and_goes_on_once_it_is_acknowledged() -> (
    None
):
    order = Acknowledgements(Clock())
    order.arrived(1, never)
    order.arrived(2, never)
    second = await waiting(order, 2)
    assert not second.done()
    order.answered(1)
    await asyncio.wait_for(second, 1)


async def test_later_interactions_never_hold_a_scene_back() -> None:
    order = Acknowledgements(Clock())
    order.arrived(1, never)
    order.arrived(2, never)  # arrives after 1 and is never acknowledged
    await asyncio.wait_for(order.after_earlier(1), 1)


async def test_an_interaction_answered_elsewhere_is_noticed_without_being_reported() -> None:
    order = Acknowledgements(Clock())
    refused = False
    order.arrived(1, lambda: refused)  # e.g. an ephemeral refusal: nobody calls answered()
    order.arrived(2, never)
    second = await waiting(order, 2)
    assert not second.done()
    refused = True
    await asyncio.wait_for(second, 1)


async def test_an_interaction_never_acknowledged_holds_scenes_back_for_max_wait_only() -> None:
    clock = Clock()
    order = Acknowledgements(clock)
    order.arrived(1, never)
    clock.now += 0.01
    order.arrived(2, never)
    second = await waiting(order, 2)
    clock.now += MAX_WAIT - 0.05  # just under MAX_WAIT after the first arrived: waited for
    await asyncio.sleep(0.02)
    assert not second.done()
    clock.now += 0.05
    await asyncio.wait_for(second, 1)


async def test_an_interaction_the_order_never_saw_waits_for_nothing() -> None:
    order = Acknowledgements(Clock())
    order.arrived(1, never)
    await asyncio.wait_for(order.after_earlier(99), 1)
