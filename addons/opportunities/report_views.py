"""The sales forecast page (``opportunities.report:read``, S4–S5): the weighted pipeline and the
forecast from history by month, the pipeline by owner and by department, won against target for
a year, win rate and days by stage for a pipeline, the average cycle — tables, ECharts charts,
and each table as CSV or XLSX (``?export=csv|xlsx&table=…``). The figures come from ``reports``,
which checks the permission and keeps to the reader's scope."""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Callable, Sequence
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.request import Request

from addons.customers.lists import format_cny
from core.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, csv_bytes, xlsx_bytes
from core.files import file_response
from core.i18n import _
from core.lists.export_rows import file_name, user_timezone

from . import TEMPLATES, pipelines, reports

REPORTS = "opportunities.report:read"
FORMATS = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}
PERCENT = decimal.Decimal("0.1")
#: Years the page offers around this one.
YEARS_BACK, YEARS_AHEAD = 3, 1


def include(config: Configurator) -> None:
    """Route and view of the forecast page (its exports are the same route with ``export=``)."""
    config.add_route("opportunities.forecast", "/opportunities/forecast")
    config.add_view(forecast_page, route_name="opportunities.forecast", request_method="GET",
                    renderer=TEMPLATES + "report.jinja2", permission=REPORTS)


@dataclasses.dataclass(frozen=True)
class Params:
    """What the page shows: a year (won against target) and a pipeline (by stage)."""

    year: int
    pipeline: Any  # pipelines.Pipeline | None
    offered: list[Any]
    notices: list[Any]


def _params(request: Request) -> Params:
    """``?year=`` (default this year) and ``?pipeline=`` (default the first offered); a value
    that is not one of those falls back to the default, with a notice saying so."""
    ctx = request.ctx
    this_year = reports.current_year(ctx)
    notices = []
    raw_year = request.GET.get("year", "").strip()
    year = this_year
    if raw_year:
        if raw_year.isdigit() and 2000 <= int(raw_year) <= this_year + 50:
            year = int(raw_year)
        else:
            notices.append(_("There is no year “${year}”: showing ${default}.",
                             mapping={"year": raw_year[:20], "default": this_year}))
    offered = pipelines.pipelines_for(ctx)
    raw_pipeline = request.GET.get("pipeline", "").strip()
    chosen = offered[0] if offered else None
    if raw_pipeline:
        found = next((p for p in offered if str(p.id) == raw_pipeline), None)
        if found is not None:
            chosen = found
        else:
            notices.append(_("That pipeline does not exist or is not offered to you: showing the first one."))
    return Params(year, chosen, offered, notices)


# ---------------------------------------------------------------- the tables


def _percent(share: decimal.Decimal | None) -> decimal.Decimal | None:
    """0.800 → 80.0 (percent), None stays None."""
    return None if share is None else (share * 100).quantize(PERCENT)


def _days(days: decimal.Decimal | None) -> decimal.Decimal | None:
    """Days shown: an opportunity won within its opening second reads 0.0, not -0.0."""
    return None if days is None else max(days, decimal.Decimal("0.0")).copy_abs()


def _month_label(month: str) -> Any:
    return month or _("No close date")


def forecast_table(request: Request, params: Params) -> tuple[list[Any], list[list[Any]]]:
    rows = reports.forecast_by_month(request.ctx)
    translate = request.localizer.translate
    return ([_("Expected close"), _("Opportunities"), _("Amount"), _("Weighted by probability"),
             _("Forecast from history")],
            [[translate(_month_label(r.month)), r.count, r.amount, r.weighted, r.historical] for r in rows])


def _group_table(label: Any, rows: Sequence[reports.GroupRow]) -> tuple[list[Any], list[list[Any]]]:
    return ([label, _("Opportunities"), _("Amount"), _("Weighted by probability")],
            [[r.label, r.count, r.amount, r.weighted] for r in rows])


def owners_table(request: Request, params: Params) -> tuple[list[Any], list[list[Any]]]:
    return _group_table(_("Owner"), reports.pipeline_by_owner(request.ctx))


def departments_table(request: Request, params: Params) -> tuple[list[Any], list[list[Any]]]:
    return _group_table(_("Department"), reports.pipeline_by_department(request.ctx))


def targets_table(request: Request, params: Params) -> tuple[list[Any], list[list[Any]]]:
    rows = reports.won_against_target(request.ctx, params.year)
    return ([_("Salesperson"), _("Month"), _("Target"), _("Won"), _("Reached (%)")],
            [[r.label, r.month, r.target, r.won, _percent(r.reached)] for r in rows])


def stages_table(request: Request, params: Params) -> tuple[list[Any], list[list[Any]]]:
    rows = reports.stage_report(request.ctx, params.pipeline.id) if params.pipeline is not None else []
    return ([_("Stage"), _("Probability (%)"), _("Reached"), _("Closed"), _("Won"), _("Win rate (%)"),
             _("Average days in stage")],
            [[r.name, r.probability, r.reached, r.closed, r.won, _percent(r.win_rate), r.average_days]
             for r in rows])


#: ``table=`` of an export: its title (the file's name) and how its header and rows are made.
TABLES: dict[str, tuple[Any, Callable[[Request, Params], tuple[list[Any], list[list[Any]]]]]] = {
    "forecast": (_("Forecast by month"), forecast_table),
    "owners": (_("Pipeline by owner"), owners_table),
    "departments": (_("Pipeline by department"), departments_table),
    "targets": (_("Won against target"), targets_table),
    "stages": (_("Win rate and days by stage"), stages_table),
}


# ---------------------------------------------------------------- the page


def forecast_page(request: Request) -> Any:
    """The page, or one of its tables as a file (``?export=csv|xlsx&table=…``)."""
    params = _params(request)
    if "export" in request.GET:
        return _export(request, params)
    translate = request.localizer.translate
    forecast = reports.forecast_by_month(request.ctx)
    targets = reports.won_against_target(request.ctx, params.year)
    by_stage = reports.stage_report(request.ctx, params.pipeline.id) if params.pipeline is not None else []
    totals = {"count": sum(r.count for r in forecast), "amount": sum((r.amount for r in forecast), reports.ZERO),
              "weighted": sum((r.weighted for r in forecast), reports.ZERO),
              "historical": sum((r.historical for r in forecast), reports.ZERO)}
    target_total = sum((r.target or reports.ZERO for r in targets), reports.ZERO)
    won_total = sum((r.won for r in targets), reports.ZERO)

    def export_url(table: str, fmt: str) -> str:
        query = {"export": fmt, "table": table, "year": params.year}
        if params.pipeline is not None:
            query["pipeline"] = params.pipeline.id
        return request.route_path("opportunities.forecast", _query=query)

    this_year = reports.current_year(request.ctx)
    return {
        "params": params, "forecast": forecast, "totals": totals,
        "owners": reports.pipeline_by_owner(request.ctx), "departments": reports.pipeline_by_department(request.ctx),
        "targets": targets, "target_total": target_total, "won_total": won_total,
        "reached_total": _percent((won_total / target_total).quantize(decimal.Decimal("0.001")))
        if target_total else None,
        "stages": by_stage, "cycle": _days(reports.average_cycle_days(request.ctx)),
        "forecast_chart": _forecast_chart(translate, forecast),
        "targets_chart": _targets_chart(translate, params.year, targets),
        "years": sorted({*range(this_year - YEARS_BACK, this_year + YEARS_AHEAD + 1), params.year}),
        "export_url": export_url, "month_label": _month_label, "percent": _percent, "cny": format_cny,
        "page_title": translate(_("Sales forecast")),
    }


def _export(request: Request, params: Params) -> Any:
    fmt, table = request.GET.get("export", ""), request.GET.get("table", "")
    if fmt not in FORMATS or table not in TABLES:
        raise HTTPBadRequest(request.localizer.translate(_("Choose a table to export, as csv or xlsx.")))
    translate = request.localizer.translate
    title, make = TABLES[table]
    header, rows = make(request, params)
    title_text = translate(title) + (f" {params.year}" if table == "targets" else "")
    header_text = [translate(h) for h in header]
    if fmt == "xlsx":
        body = xlsx_bytes(header_text, rows, sheet_title=title_text)
    else:
        body = csv_bytes(header_text, rows)
    name = file_name(title_text, fmt, request.ctx.now, user_timezone(request.ctx.user))
    return file_response(body, FORMATS[fmt], name)


# ---------------------------------------------------------------- charts


def _number(value: decimal.Decimal | None) -> float | None:
    return None if value is None else float(value)


def _grid() -> dict[str, Any]:
    return {"left": 8, "right": 8, "top": 40, "bottom": 8, "containLabel": True}


def _forecast_chart(translate: Callable[[Any], str], rows: Sequence[reports.ForecastRow]) -> dict[str, Any]:
    """Bars of the open amount and the weighted amount, a line of the forecast from history."""
    return {
        "grid": _grid(), "tooltip": {"trigger": "axis"}, "legend": {"top": 0, "type": "scroll"},
        "xAxis": {"type": "category", "data": [translate(_month_label(r.month)) for r in rows]},
        "yAxis": {"type": "value"},
        "series": [
            {"name": translate(_("Amount")), "type": "bar", "barMaxWidth": 28,
             "data": [_number(r.amount) for r in rows]},
            {"name": translate(_("Weighted by probability")), "type": "bar", "barMaxWidth": 28,
             "data": [_number(r.weighted) for r in rows]},
            {"name": translate(_("Forecast from history")), "type": "line", "smooth": True,
             "data": [_number(r.historical) for r in rows]},
        ],
    }


def _targets_chart(translate: Callable[[Any], str], year: int, rows: Sequence[reports.TargetRow]) -> dict[str, Any]:
    """Per month of the year: everyone's target and what they won (bars), the share reached (line)."""
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    target = dict.fromkeys(months, reports.ZERO)
    won = dict.fromkeys(months, reports.ZERO)
    for row in rows:
        target[row.month] += row.target or reports.ZERO
        won[row.month] += row.won
    reached = [_number(_percent((won[m] / target[m]).quantize(decimal.Decimal("0.001")))) if target[m] else None
               for m in months]
    return {
        "grid": _grid(), "tooltip": {"trigger": "axis"}, "legend": {"top": 0, "type": "scroll"},
        "xAxis": {"type": "category", "data": [m[5:] for m in months]},
        "yAxis": [{"type": "value"}, {"type": "value", "axisLabel": {"formatter": "{value}%"}, "splitLine":
                                      {"show": False}}],
        "series": [
            {"name": translate(_("Target")), "type": "bar", "barMaxWidth": 20, "data": [_number(target[m])
                                                                                       for m in months]},
            {"name": translate(_("Won")), "type": "bar", "barMaxWidth": 20, "data": [_number(won[m]) for m in months]},
            {"name": translate(_("Reached (%)")), "type": "line", "yAxisIndex": 1, "connectNulls": True,
             "data": reached},
        ],
    }
