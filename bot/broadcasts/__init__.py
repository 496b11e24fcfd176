"""Broadcasts: counsellors' messages to a segment of people, sent through the outbox.

``compose`` (what an author asks for, checked), ``service`` (create, control, report),
``runner`` (the send loop), ``message`` (what one person receives), ``optout``. The segment's
SQL and the outbox statements live in ``storage/segments.py`` and ``storage/outbox.py``; the
send state machine shared with reminders in ``bot/delivery.py`` and ``storage/delivery.py``.
"""
