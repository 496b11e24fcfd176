"""The control API under ``/_emu/``: plays users and reads back what the bot did.

``ControlApi.routes`` is the one list of control endpoints. Modules: ``user_actions`` (the user
acts), ``groups`` (someone acts in a group the bot is in), ``readback`` (chats, long polls,
call log, files), ``delivery`` (redeliver, settle, reset), ``common`` (arguments, replies, error
middleware).
"""

from __future__ import annotations

from aiohttp import web

from emulator.control.common import control_errors
from emulator.control.delivery import Delivery, settle_bot
from emulator.control.groups import GroupActions
from emulator.control.readback import ReadBack
from emulator.control.user_actions import UserActions
from emulator.core import EmulatorCore

__all__ = ["ControlApi", "control_errors", "settle_bot"]


class ControlApi:
    """Route table of the control API, bound to one emulator core."""

    def __init__(self, core: EmulatorCore) -> None:
        self.core = core
        self.users = UserActions(core)
        self.groups = GroupActions(core)
        self.read = ReadBack(core)
        self.delivery = Delivery(core)

    def routes(self) -> list[web.RouteDef]:
        """All control routes."""
        users, groups, read, delivery = self.users, self.groups, self.read, self.delivery
        return [
            web.get("/_emu/health", read.health),
            web.get("/_emu/bots", read.bots),
            web.get("/_emu/users", read.list_users),
            web.post("/_emu/users", users.put_user),
            web.post("/_emu/users/{uid}/send", users.send_text),
            web.post("/_emu/users/{uid}/contact", users.send_contact),
            web.post("/_emu/users/{uid}/sticker", users.send_sticker),
            web.post("/_emu/users/{uid}/photo", users.send_photo),
            web.post("/_emu/users/{uid}/press", users.press),
            web.post("/_emu/users/{uid}/block", users.block),
            web.post("/_emu/users/{uid}/unblock", users.unblock),
            web.post("/_emu/groups", groups.create),
            web.post("/_emu/groups/{gid}/send", groups.send_text),
            web.post("/_emu/groups/{gid}/press", groups.press),
            web.get("/_emu/chats/{uid}", read.chat),
            web.get("/_emu/chats/{uid}/wait", read.wait),
            web.post("/_emu/redeliver", delivery.redeliver),
            web.route("*", "/_emu/settle", delivery.settle),
            web.post("/_emu/reset", delivery.reset),
            web.post("/_emu/faults", delivery.faults),
            web.get("/_emu/delivered", read.delivered),
            web.get("/_emu/stats", read.stats),
            web.get("/_emu/commands", read.commands),
            web.get("/_emu/calls", read.calls),
            web.get("/_emu/files/{file_id}", read.file),
        ]
