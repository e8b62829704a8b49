"""What commands print, in the administrator's language (``KEHU_LANG`` or ``LANG``)."""

from __future__ import annotations

import click
from pyramid.i18n import TranslationString

from core.i18n import translate


def say(message: TranslationString, *, err: bool = False, **mapping: object) -> None:
    """Print ``message`` translated, with ``${name}`` placeholders filled from ``mapping``."""
    values = {key: str(value) for key, value in mapping.items()}
    click.echo(translate(TranslationString(message, domain=message.domain, mapping=values)), err=err)


def text(message: TranslationString, **mapping: object) -> str:
    values = {key: str(value) for key, value in mapping.items()}
    return translate(TranslationString(message, domain=message.domain, mapping=values))
