"""Placeholder: filled in by the access-control work."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    """Routes and views of this page (none yet)."""
