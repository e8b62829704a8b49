"""One SQLAlchemy session per request, joined to the request's transaction (pyramid_tm):
commit when the view succeeds, roll back on any error or error page."""

from __future__ import annotations

import zope.sqlalchemy
from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # pyramid_tm would look the user up before routing to label the transaction: we audit
    # ourselves, and the user lookup must know the route (see core.web.security).
    settings["tm.annotate_user"] = False
    config.include("pyramid_tm")
    engine = config.registry.get("kehu.engine") or make_engine(
        settings["kehu.database_url"], pool_size=settings["kehu.pool_size"]
    )
    config.registry["kehu.engine"] = engine
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    config.registry["kehu.session_factory"] = factory

    def dbsession(request: Request) -> Session:
        session = factory()
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    config.add_request_method(dbsession, reify=True)
