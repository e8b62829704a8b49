"""Background jobs: how many are in each state, the jobs of one state newest first (keyset
pages of 50, ``before=<id>``), and retry (failed or cancelled) and cancel (queued) buttons.
Failures show their one-line summary; the traceback is kept for those who may retry jobs."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request

from core.exceptions import KehuError
from core.i18n import _
from core.jobs.exceptions import JobNotFound
from core.jobs.models import CANCELLED, DEAD, DONE, QUEUED, RUNNING, STATES
from core.jobs.queue import PAGE_SIZE, cancel_job, job_counts, list_jobs, retry_job
from core.web.forms import flash_done

#: Tab order and the words for each state (``dead`` reads "failed" to administrators).
STATE_TITLES = {
    QUEUED: _("Queued"),
    RUNNING: _("Running"),
    DEAD: _("Failed"),
    CANCELLED: _("Cancelled"),
    DONE: _("Done"),
}
STATE_BADGES = {
    QUEUED: "text-bg-secondary",
    RUNNING: "text-bg-primary",
    DEAD: "text-bg-danger",
    CANCELLED: "text-bg-light border",
    DONE: "text-bg-success",
}


def _state(request: Request) -> str | None:
    state = request.params.get("state", "")
    return state if state in STATES else None


def _before(request: Request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _list_url(request: Request, state: str | None, **query: Any) -> str:
    return request.route_path("core.jobs", _query={**({"state": state} if state else {}), **query})


def job_list(request: Request) -> dict[str, Any]:
    state = _state(request)
    before = _before(request)
    jobs = list_jobs(request.ctx, state, before, limit=PAGE_SIZE + 1)
    older_url = None
    if len(jobs) > PAGE_SIZE:
        jobs = jobs[:PAGE_SIZE]
        older_url = _list_url(request, state, before=jobs[-1].id)
    return {
        "jobs": jobs,
        "counts": job_counts(request.ctx),
        "state": state,
        "state_titles": STATE_TITLES,
        "state_badges": STATE_BADGES,
        "tab_url": lambda tab: _list_url(request, tab),
        "older_url": older_url,
        "newest_url": _list_url(request, state) if before is not None else None,
        "can_write": request.has_permission("core.job:write"),
        "retryable": (DEAD, CANCELLED),
        "page_title": _("Background jobs"),
    }


def _act(request: Request, action: Any, done: Any) -> HTTPSeeOther:
    job_id = int(request.matchdict["id"])
    try:
        with request.dbsession.begin_nested():
            job = action(request.ctx, job_id)
    except JobNotFound as exc:
        raise HTTPNotFound() from exc
    except KehuError as exc:
        request.session.flash(request.localizer.translate(exc.translation_string), "danger")
    else:
        flash_done(request, _(done, mapping={"id": job.id, "name": job.name}))
    return HTTPSeeOther(_list_url(request, _state(request)))


def job_retry(request: Request) -> HTTPSeeOther:
    return _act(request, retry_job, _("Job ${id} (${name}) queued again."))


def job_cancel(request: Request) -> HTTPSeeOther:
    return _act(request, cancel_job, _("Job ${id} (${name}) cancelled."))


def includeme(config: Configurator) -> None:
    """/admin/jobs: counts and list; retry and cancel."""
    config.add_route("core.jobs", "/admin/jobs")
    config.add_route("core.jobs.retry", r"/admin/jobs/{id:\d{1,18}}/retry")
    config.add_route("core.jobs.cancel", r"/admin/jobs/{id:\d{1,18}}/cancel")
    config.add_view(job_list, route_name="core.jobs", renderer="core/admin/jobs.jinja2", permission="core.job:read",
                    request_method="GET")
    config.add_view(job_retry, route_name="core.jobs.retry", permission="core.job:write", request_method="POST")
    config.add_view(job_cancel, route_name="core.jobs.cancel", permission="core.job:write", request_method="POST")
