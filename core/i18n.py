"""Translation helpers shared by the web, the CLI and the services.

Messages are Pyramid ``TranslationString`` objects in the ``kehu`` domain, translated late (at
render time) into the reader's language. zh_CN is the default; en is the second language.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from pyramid.i18n import Localizer, TranslationString, TranslationStringFactory, make_localizer
from translationstring import Translator

_ = TranslationStringFactory("kehu")

DEFAULT_LOCALE = "zh_CN"
LOCALES: dict[str, str] = {"zh_CN": "简体中文", "en": "English"}
CORE_TRANSLATION_DIR = "core:locale"


def normalise_locale(value: str | None) -> str:
    """Map ``zh``, ``zh-CN``, ``en_US.UTF-8`` … to a supported locale, or the default."""
    if not value:
        return DEFAULT_LOCALE
    value = value.split(".")[0].replace("-", "_")
    if value in LOCALES:
        return value
    lang = value.split("_")[0].lower()
    if lang == "zh":
        return "zh_CN"
    if lang == "en":
        return "en"
    return DEFAULT_LOCALE


def make_nested_localizer(locale: str, translation_dirs: list[str]) -> Localizer:
    """Pyramid's localizer, whose translator also translates the translation strings *inside*
    a mapping: ``_("“${value}” is not a valid ${field}.", mapping={"field": _("Level")})``
    reads “…”不是有效的客户级别 rather than leaving the field's name in English."""
    localizer = make_localizer(locale, translation_dirs)
    base = Translator(localizer.translations)

    def translator(tstring: Any, domain: str | None = None, mapping: dict | None = None,
                   context: str | None = None) -> str:
        source = mapping if mapping is not None else getattr(tstring, "mapping", None)
        if source and any(isinstance(value, TranslationString) for value in source.values()):
            mapping = {key: translator(value) if isinstance(value, TranslationString) else value
                       for key, value in source.items()}
        return base(tstring, domain=domain, mapping=mapping, context=context)  # type: ignore[no-any-return]

    localizer.translator = translator
    return localizer


@functools.cache
def _localizer(locale: str, translation_dirs: tuple[str, ...]) -> Localizer:
    from pyramid.path import AssetResolver

    resolver = AssetResolver()
    dirs = [resolver.resolve(spec).abspath() if ":" in spec else spec for spec in translation_dirs]
    return make_nested_localizer(locale, dirs)


def localizer_for(locale: str | None, translation_dirs: tuple[str, ...] = (CORE_TRANSLATION_DIR,)) -> Localizer:
    """A localizer outside a request (CLI, jobs, mail)."""
    return _localizer(normalise_locale(locale), translation_dirs)


def cli_locale() -> str:
    """The command line speaks the language of ``KEHU_LANG`` or the shell's ``LANG``."""
    return normalise_locale(os.environ.get("KEHU_LANG") or os.environ.get("LANG"))


def translate(message: str | TranslationString, locale: str | None = None) -> str:
    """Translate ``message`` (a plain string passes through) into ``locale``."""
    if isinstance(message, TranslationString):
        return localizer_for(locale or cli_locale()).translate(message)
    return str(message)
