"""The ORM base every model stands on: one ``Base``, standard columns, engines, sessions."""

from core.db.base import Base, Model, utcnow
from core.db.engine import make_engine, normalise_url
from core.db.types import UTCDateTime

__all__ = ["Base", "Model", "UTCDateTime", "make_engine", "normalise_url", "utcnow"]
