"""The context every service receives first: who acts, on which session, at what time.

Services never read the request or a global (STYLE habit 5–6); views, the CLI and jobs build a
``Ctx`` and pass it in, so a test passes a real session, a fixed clock and a real user.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from core.db.base import ACTING_USER_KEY, utcnow
from core.i18n import DEFAULT_LOCALE

if TYPE_CHECKING:
    from core.access.policy import Access
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
    #: The command line and jobs act for the installation (every permission); a request never does.
    system: bool = False
    #: The client's address, for the audit log.
    ip: str = ""
    #: The process's configuration cache (``core.config_cache``); requests share one, commands
    #: and jobs have none.
    cache: dict[str, Any] | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        # created_by / updated_by of every row written through this session (core.db.base).
        self.dbsession.info[ACTING_USER_KEY] = self.user.id if self.user else None

    @functools.cached_property
    def access(self) -> Access:
        from core.access.policy import Access

        if self.user is None:
            return Access.system() if self.system else Access.nobody()
        return Access.for_user(self, self.user)

    def as_user(self, user: User | None) -> Ctx:
        """The same session and clock, acting as ``user`` (no longer as the system)."""
        return dataclasses.replace(self, user=user, system=False)
