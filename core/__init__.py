"""Kehu core: the small framework every CRM addon is built on.

``core.main`` is the WSGI application factory named in the ini files; ``core.web.app`` holds it.
Nothing happens at import time.
"""

from core.web.app import main

__all__ = ["main"]
