"""The report's statistics, checks and Markdown: pass and fail land in the right cells."""

import pytest

from benchmarks import report
from benchmarks.load import Sample
from benchmarks.soak import parse_duration, rss_growth


def cell(scenario, users, *, tps, p95, errors=0, avg=None, seeded=True):
    return {"scenario": scenario, "title": scenario.replace("_", " "), "seeded": seeded, "users": users,
            "transactions": 100, "errors": errors, "error_rate": errors / 100, "avg_ms": avg or p95 / 2,
            "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95, "max_ms": p95, "tps": tps, "seconds": 10.0,
            "server_cpu": 1.5, "postgres_cpu": None, "client_cpu": 0.05, "server_rss_mb": 400.0}


def run_of(cells, levels=(1, 100)):
    return {"label": "unit", "date": "2026-12-04", "levels": list(levels), "iterations": 100, "duration": 60.0,
            "cells": cells, "ceiling_tps": {str(c["users"]): c["tps"] for c in cells if c["scenario"] == "ceiling"},
            "dataset": {"customer": 100_000, "contact": 200_000, "followup": 200_000},
            "server": {"workers": 5, "worker_class": "sync", "threads": 1, "pool_size": 5, "max_requests": 10000},
            "versions": {"postgresql": "15.18"}, "machine": {"cpus": 2}}


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert report.percentile(values, 0.5) == 50
    assert report.percentile(values, 0.95) == 95
    assert report.percentile(values, 0.99) == 99
    assert report.percentile([7.0], 0.95) == 7


def test_cell_stats_count_late_errors_and_time_only_successes():
    samples = [Sample(0, 10.0, True), Sample(0, 30.0, True), Sample(0, 5000.0, False, "LoadError: 500")]
    stats = report.cell_stats(samples, seconds=2.0, extra_errors=1)
    assert stats["transactions"] == 3 and stats["errors"] == 2
    assert stats["avg_ms"] == 20.0 and stats["max_ms"] == 30.0
    assert stats["tps"] == 0.5  # two successes, one of them found wrong afterwards, over 2 s


def test_checks_pass_and_fail_per_cell():
    cells = [cell("ceiling", 1, tps=200, p95=5, seeded=False), cell("name_query", 1, tps=40, p95=25),
             cell("ceiling", 100, tps=1000, p95=120, seeded=False),
             cell("customer_view", 100, tps=320, p95=140), cell("login_home", 100, tps=1.5, p95=20_000, avg=12_000),
             cell("key_customers", 100, tps=600, p95=100, errors=1)]
    run = run_of(cells)
    report.evaluate(run)
    by = {(c["scenario"], c["users"]): c for c in run["cells"]}
    assert by[("ceiling", 1)]["checks"] == {}  # the ceiling is the yardstick, not judged
    assert by[("name_query", 1)]["checks"] == {"floor": True, "p95": True, "ceiling": False, "name_p95": True}
    assert by[("customer_view", 100)]["checks"] == {"floor": True, "p95": True, "ceiling": False, "view_rps": True}
    assert by[("customer_view", 100)]["ceiling_ratio"] == 0.32
    assert by[("login_home", 100)]["checks"] == {"floor": False, "p95": False, "ceiling": False}
    assert by[("key_customers", 100)]["checks"]["p95"] is False  # one error fails "0 errors"
    assert by[("key_customers", 100)]["checks"]["ceiling"] is True


def test_markdown_rows_carry_the_verdicts_and_the_ceiling_ratio():
    run = run_of([cell("ceiling", 100, tps=1000, p95=100, seeded=False),
                  cell("customer_view", 100, tps=250, p95=200)], levels=(100,))
    report.evaluate(run)
    text = report.markdown(run)
    row = next(line for line in text.splitlines() if line.startswith("| customer view | 100 |"))
    cells = [part.strip() for part in row.strip("|").split("|")]
    assert cells[10] == "25 %"
    assert cells[15:] == ["pass", "**FAIL**", "**FAIL**", "**FAIL**"]  # floor, p95, ceiling, view ≥ 300/s
    assert "- bare ceiling at 100 users: 1000.0 req/s; scenarios reach 25–25 % of it" in text
    assert "- checks: 1 of 4 pass" in text


def test_report_files_are_named_by_date_and_label(tmp_path):
    run = run_of([cell("ceiling", 1, tps=10, p95=5, seeded=False)], levels=(1,))
    report.evaluate(run)
    json_path, md_path = report.write(run, tmp_path)
    assert json_path.name == "2026-12-04-unit.json" and md_path.name == "2026-12-04-unit.md"
    assert md_path.read_text(encoding="utf-8").startswith("## unit — 2026-12-04")


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("90s", 90), ("1h30m", 5400), ("45", 45),
                                               ("2.5s", 2.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "10x", "5m3"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_rss_growth_compares_floors_not_spikes():
    samples = [{"t": t, "rss_mb": {"1": 100.0 + (60 if t % 20 == 0 else 0), "2": 100.0 + t / 10}}
               for t in range(0, 200, 10)]
    growth = rss_growth(samples, warmup=10)
    assert growth["1"] == 0.0  # a login's argon2 spike every other sample is not growth
    assert growth["2"] > 15  # a rising floor is
