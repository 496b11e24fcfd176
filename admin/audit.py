"""The audit log of admin pages and the API: the one writer in :mod:`storage.audit`."""

from __future__ import annotations

from storage.audit import audit as audit
