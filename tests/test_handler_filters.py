"""Every handler and filter runs on the event loop.

aiogram runs a callable that is not a coroutine function (a magic filter such as ``F.text``
included) through ``asyncio.to_thread``: a worker-thread hop on every check of every update.
Handlers use the async ``handlers.filters.Magic`` instead; this test keeps it so.
"""

from __future__ import annotations

from aiogram import F, Router

from handlers import get_routers


def _sync_callables(routers: list[Router]) -> list[str]:
    found = []
    for router in (r for top in routers for r in top.chain_tail):  # nested routers too
        for update_type, observer in router.observers.items():
            for handler in observer.handlers:
                name = f"{router.name}.{update_type}:{handler.callback.__name__}"
                if not handler.awaitable:
                    found.append(f"{name} (handler)")
                for filter_ in handler.filters or []:
                    if not filter_.awaitable:
                        found.append(f"{name} filter {filter_.callback!r}")
    return found


def test_no_handler_or_filter_runs_in_a_thread() -> None:
    routers = get_routers()
    assert "handlers.survey" in {r.name for top in routers for r in top.chain_tail}
    assert _sync_callables(routers) == []


def test_the_check_sees_a_synchronous_filter() -> None:
    router = Router(name="probe")

    async def handler() -> None: ...

    router.message.register(handler, F.text)
    found = _sync_callables([router])
    assert len(found) == 1
    assert found[0].startswith("probe.message:handler filter ")
