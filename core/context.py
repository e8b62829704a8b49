"""The context every service receives first: who acts, on which session, at what time.

Services never read the request or a global (STYLE habit 5–6); views, the CLI and jobs build a
``Ctx`` and pass it in, so a test passes a real session, a fixed clock and a real user.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from core.db.base import ACTING_USER_KEY, utcnow
from core.i18n import DEFAULT_LOCALE

if TYPE_CHECKING:
    from core.models import User
    from core.plugins import HookRelay


@dataclasses.dataclass
class Ctx:
    dbsession: Session
    hooks: HookRelay
    user: User | None = None
    now: dt.datetime = dataclasses.field(default_factory=utcnow)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    locale: str = DEFAULT_LOCALE

    def __post_init__(self) -> None:
        # created_by / updated_by of every row written through this session (core.db.base).
        self.dbsession.info[ACTING_USER_KEY] = self.user.id if self.user else None

    def as_user(self, user: User | None) -> Ctx:
        return dataclasses.replace(self, user=user)
