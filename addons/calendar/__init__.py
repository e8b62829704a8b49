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
    from . import api, ical_views, views

    views.include(config)  # /calendar (week, month, day), agenda, team, the item pages and form
    ical_views.include(config)  # .ics export, the subscription feed, import with preview
    api.include(config)  # /api/v1/events, /api/v1/tasks
