"""aiogram routers. Each module builds one router; :func:`get_routers` orders them.

Routers are built per dispatcher (``create_router()``), because an aiogram router can be
attached to one dispatcher only and a process may run several (restarts, tests).

The bot talks with each person in a private chat. The routers that need the person (commands,
reminders, /ask, the survey, the fallback) sit under one ``private`` router whose filters let
through only private chats with a person (aiogram's chat-type filters). In the counsellors'
group (``COUNSELLOR_CHAT_ID``) a reply to a question's copy answers the person
(``ask.create_group_router``); in any other group, or for a command there, the ``groups``
router points people to the private chat; updates from bots or without a sender are left alone.
"""

from __future__ import annotations

from aiogram import Router

# the bot's commands, in the order of its command menu
COMMANDS = (
    "start",
    "survey",
    "courses",
    "fairs",
    "card",
    "ask",
    "reminders",
    "stop",
    "alerts",
    "language",
    "privacy",
    "sharing",
    "delete_me",
    "help",
)


def get_routers() -> list[Router]:
    """All routers in dispatch order; the fallback router must stay last."""
    from handlers import (
        ask,
        broadcasts,
        card,
        catalog,
        common,
        errors,
        fallback,
        groups,
        privacy,
        reminders,
        survey,
    )
    from handlers.filters import private_button, private_message

    private = Router(name="private")
    private.message.filter(private_message())
    private.callback_query.filter(private_button())
    private.include_routers(
        common.create_router(),
        privacy.create_router(),
        reminders.create_router(),
        ask.create_router(),
        broadcasts.create_router(),
        catalog.create_router(),
        card.create_router(),
        survey.create_router(),
        fallback.create_router(),  # must be last: it takes whatever no other router took
    )
    return [errors.create_router(), ask.create_group_router(), groups.create_router(), private]
