"""``python -m bot.cli``: the ``xuatngu`` command line."""

from bot.cli import app

app()
