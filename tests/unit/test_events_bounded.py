"""A bounded subscriber that falls behind is marked overflowed, not grown."""

import asyncio

from litgap.events import EventBus


def test_a_subscriber_past_its_limit_is_marked_overflowed_and_gets_no_more() -> None:
    async def scenario() -> tuple[bool, int]:
        bus = EventBus()
        async with bus.subscribe(limit=3) as subscription:
            for i in range(10):
                bus.publish("job_update", {"n": i})
            return subscription.overflowed.is_set(), subscription.qsize()

    assert asyncio.run(scenario()) == (True, 3)


def test_an_unbounded_subscriber_keeps_every_event() -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        async with bus.subscribe() as subscription:
            for i in range(5000):
                bus.publish("job_update", {"n": i})
            assert not subscription.overflowed.is_set()
            return [(await subscription.get())["data"]["n"] for _ in range(5000)]

    assert asyncio.run(scenario()) == list(range(5000))
