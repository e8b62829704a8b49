"""Locale per request: the signed-in user's choice, else the session's, else the browser's."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.i18n import Localizer
from pyramid.interfaces import ILocalizer, ITranslationDirectories
from pyramid.request import Request
from sqlalchemy.exc import SQLAlchemyError

from core.i18n import CORE_TRANSLATION_DIR, DEFAULT_LOCALE, LOCALES, make_nested_localizer, normalise_locale


def negotiate_locale(request: Request) -> str:
    try:
        user = request.user
    except SQLAlchemyError:  # an error page after a failed query still renders, in the default language
        user = None
    if user is not None:
        return normalise_locale(user.locale)
    chosen = request.session.get("locale")
    if chosen in LOCALES:
        return chosen
    best = request.accept_language.lookup(language_tags=["zh-CN", "en"], default=DEFAULT_LOCALE)
    return normalise_locale(best)


def request_localizer(request: Request) -> Localizer:
    """Pyramid's ``request.localizer``, one per locale, made by ``make_nested_localizer``."""
    registry = request.registry
    localizer = registry.queryUtility(ILocalizer, name=request.locale_name)
    if localizer is None:
        directories = registry.queryUtility(ITranslationDirectories, default=[])
        localizer = make_nested_localizer(request.locale_name, directories)
        registry.registerUtility(localizer, ILocalizer, name=request.locale_name)
    return localizer  # type: ignore[no-any-return]


def includeme(config: Configurator) -> None:
    config.add_translation_dirs(CORE_TRANSLATION_DIR)
    config.set_locale_negotiator(negotiate_locale)
    config.add_request_method(request_localizer, "localizer", reify=True)
