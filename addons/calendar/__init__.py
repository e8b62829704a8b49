"""Bundled addon ``calendar`` (日程管理): events, tasks and memos with participants, reminders and
recurrence; week, month, day, agenda and team views; the follow-up plans of other addons;
iCalendar export, a secret subscription feed and import; the ``/api/v1/events`` and
``/api/v1/tasks`` resources.

``includeme`` only registers routes and views; nothing happens at import time.
"""

from pyramid.config import Configurator

TEMPLATES = "addons.calendar:templates/calendar/"


def includeme(config: Configurator) -> None:
    """Routes and views; every route name starts with ``calendar.``."""
