"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from storage.models.base import Base
from storage.models.core import (
    AnonymousCount,
    Answer,
    FsmRecord,
    InboxUpdate,
    Person,
    SurveyResponse,
    TradePreference,
)

__all__ = [
    "AnonymousCount",
    "Answer",
    "Base",
    "FsmRecord",
    "InboxUpdate",
    "Person",
    "SurveyResponse",
    "TradePreference",
]

# Models of later features register themselves here too (see storage/models/*.py).
from storage.models import admin as _admin  # noqa: F401
from storage.models import alerts as _alerts  # noqa: F401
from storage.models import cards as _cards  # noqa: F401
from storage.models import catalog as _catalog  # noqa: F401
from storage.models import outbox as _outbox  # noqa: F401
from storage.models import questions as _questions  # noqa: F401
from storage.models import timeline as _timeline  # noqa: F401
