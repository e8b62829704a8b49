"""Errors a user can meet. Each carries a translatable message with its parameters, so views,
the API and the CLI show the same sentence in the reader's language, never a traceback."""

from __future__ import annotations

from pyramid.i18n import TranslationString

from core.i18n import _, translate


class KehuError(Exception):
    """Base of every user-facing error; subclasses set ``message`` with ``${param}`` names."""

    message: TranslationString = _("Something went wrong.")

    def __init__(self, **params: object) -> None:
        self.params = params
        super().__init__(self.translation_string.interpolate())

    @property
    def translation_string(self) -> TranslationString:
        mapping = {key: _stringify(value) for key, value in self.params.items()}
        return TranslationString(self.message, domain=self.message.domain, mapping=mapping)

    def translated(self, locale: str | None = None) -> str:
        return translate(self.translation_string, locale)


def _stringify(value: object) -> object:
    """Parameters as text, except translation strings: the localizer translates them too."""
    if isinstance(value, TranslationString):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


class ValidationFailed(KehuError):
    message = _("${field}: ${problem}")


class NotFound(KehuError):
    message = _("Not found.")
