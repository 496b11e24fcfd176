"""The Telegram Bot API side: ``/bot{token}/{method}`` handlers speaking Telegram's wire format.

Modules: ``dispatch`` (HTTP entry and the list of methods), ``params`` (reading parameters),
``validate`` (texts, captions, keyboards), ``bot_methods`` (the bot's own settings, webhook,
getUpdates), ``messages`` (sending, deleting, callbacks, chat and file info), ``edits``.
"""

from emulator.botapi.dispatch import METHODS, handle_bot_call, handle_file_download

__all__ = ["METHODS", "handle_bot_call", "handle_file_download"]
