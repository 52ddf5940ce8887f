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


def arrived(clock: Clock, *keys: int) -> Acknowledgements:
    """An order that has seen `keys` arrive, none of them acknowledged yet."""
    order = Acknowledgements(clock)
    for key in keys:
        order.arrived(key, never)
    return order


async def waiting(order: Acknowledgements, key: int) -> asyncio.Task[None]:
    task = asyncio.create_task(order.work_after(key))
    await asyncio.sleep(0.02)  # a few rechecks
    return task


async def test_a_scene_waits_until_every_other_interaction_is_acknowledged() -> None:
    order = arrived(Clock(), 1, 2, 3)
    second = await waiting(order, 2)
    order.acknowledged(1)
    await asyncio.sleep(0.02)
    assert not second.done(), "went on while a later interaction waited for its deferral"
    order.acknowledged(3)
    await asyncio.wait_for(second, 1)


async def test_with_nothing_to_acknowledge_a_scene_goes_on_at_once() -> None:
    order = arrived(Clock(), 1)
    await asyncio.wait_for(order.work_after(1), 0.001)


async def test_an_interaction_answered_elsewhere_is_noticed_without_being_reported() -> None:
    order = Acknowledgements(Clock())
    refused = False
    order.arrived(1, lambda: refused)  # e.g. an ephemeral refusal: nobody calls acknowledged()
    order.arrived(2, never)
    second = await waiting(order, 2)
    assert not second.done()
    refused = True
    await asyncio.wait_for(second, 1)


async def test_a_steady_stream_of_interactions_delays_a_scene_by_max_wait_at_most() -> None:
    clock = Clock()
    order = arrived(clock, 1, 2)
    first = await waiting(order, 1)
    for key in range(3, 13):  # a new interaction every 0.05 s, each acknowledged after the next
        clock.now += MAX_WAIT / 10 - 0.001
        order.arrived(key, never)
        order.acknowledged(key - 1)
        await asyncio.sleep(0.01)
        assert not first.done()
    clock.now += 0.02
    await asyncio.wait_for(first, 1)


async def test_an_interaction_never_acknowledged_stops_counting_max_wait_after_it_came() -> None:
    clock = Clock()
    order = Acknowledgements(clock)
    order.arrived(1, never)
    clock.now += 0.3
    order.arrived(2, never)
    second = await waiting(order, 2)
    clock.now += MAX_WAIT - 0.35  # just under MAX_WAIT after the first arrived: waited for
    await asyncio.sleep(0.02)
    assert not second.done()
    clock.now += 0.1  # the first expired, though the scene has waited only 0.15 s
    await asyncio.wait_for(second, 1)


async def test_max_wait_still_holds_for_a_scene_that_waits_after_others_were_released() -> None:
    clock = Clock()
    order = arrived(clock, 1, 2)
    first = await waiting(order, 1)
    order.acknowledged(2)
    await asyncio.wait_for(first, 1)  # nobody waits now, and nothing is looked at again
    order.arrived(3, never)
    order.arrived(4, never)
    later = await waiting(order, 3)
    clock.now += MAX_WAIT + 0.01
    await asyncio.wait_for(later, 1)


async def test_a_scene_cancelled_while_it_waits_holds_no_one_back() -> None:
    order = arrived(Clock(), 1, 2, 3)
    cancelled = await waiting(order, 1)
    cancelled.cancel()
    other = await waiting(order, 2)
    order.acknowledged(3)
    await asyncio.wait_for(other, 1)
