"""Catalog alerts and what people do with courses and job fairs in the bot (see
``docs/alerts.md``)."""
