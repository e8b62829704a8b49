"""Notifications: the bell and the notifications page (in-app), and email sent by jobs.

Addons declare kinds with ``kehu_notification_kinds`` and send with
``core.notifications.services.notify``; each user chooses per kind which channels they want.
"""
