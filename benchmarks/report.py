"""From samples to the report: the statistics of a cell (scenario × concurrency), the checks
against seed 000's floors and issue 7's goals, and the Markdown table beside the JSON.

The checks are data (``CHECKS``), each saying where it applies, so the table, the JSON and a
reader of docs/performance.md agree on what "pass" means.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.load import Sample


def percentile(sorted_ms: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (the value below which ``fraction`` of the samples are)."""
    if not sorted_ms:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_ms)))
    return sorted_ms[min(rank, len(sorted_ms)) - 1]


def cell_stats(samples: Sequence[Sample], seconds: float, *, extra_errors: int = 0) -> dict[str, Any]:
    """avg/p50/p95/p99/max of the successful transactions (an error's time says little), TPS of
    successful transactions over the cell's wall time, and the error rate over all of them
    (``extra_errors``: failures found after the cell, e.g. in the database)."""
    ok = sorted(s.ms for s in samples if s.ok)
    total = len(samples)
    errors = total - len(ok) + extra_errors
    return {
        "transactions": total,
        "errors": errors,
        "error_rate": round(errors / total, 4) if total else 0.0,
        "avg_ms": round(sum(ok) / len(ok), 2) if ok else None,
        "p50_ms": round(percentile(ok, 0.50), 2) if ok else None,
        "p95_ms": round(percentile(ok, 0.95), 2) if ok else None,
        "p99_ms": round(percentile(ok, 0.99), 2) if ok else None,
        "max_ms": round(ok[-1], 2) if ok else None,
        "tps": round(max(len(ok) - extra_errors, 0) / seconds, 2) if seconds > 0 else 0.0,
        "seconds": round(seconds, 2),
    }


@dataclasses.dataclass(frozen=True)
class Check:
    """One line of seed 000 §5 or issue 7: where it applies and when a cell passes it."""

    key: str
    label: str
    applies: Callable[[dict[str, Any], dict[str, Any]], bool]
    passes: Callable[[dict[str, Any], dict[str, Any]], bool]


def _seeded(cell: dict[str, Any], _run: dict[str, Any]) -> bool:
    return cell["seeded"]


def _ceiling_ratio(cell: dict[str, Any], run: dict[str, Any]) -> float | None:
    ceiling = run["ceiling_tps"].get(str(cell["users"]))
    return cell["tps"] / ceiling if ceiling else None


CHECKS: tuple[Check, ...] = (
    Check("floor", "seed floor: avg < 10 s and TPS ≥ 2", _seeded,
          lambda c, _r: c["avg_ms"] is not None and c["avg_ms"] < 10_000 and c["tps"] >= 2),
    Check("p95", "goal: p95 ≤ 150 ms and 0 errors (binding at 100 users)", _seeded,
          lambda c, _r: c["p95_ms"] is not None and c["p95_ms"] <= 150 and c["errors"] == 0),
    Check("ceiling", "goal: TPS ≥ 50 % of the bare ceiling at the same concurrency",
          lambda c, r: c["seeded"] and _ceiling_ratio(c, r) is not None,
          lambda c, r: (_ceiling_ratio(c, r) or 0) >= 0.5),
    Check("view_rps", "goal: customer view ≥ 300 requests/s (at the highest concurrency)",
          lambda c, r: c["scenario"] == "customer_view" and c["users"] == max(r["levels"]),
          lambda c, _r: c["tps"] >= 300),
    Check("name_p95", "goal: name query p95 ≤ 30 ms for one user (binding at 1,000,000 customers)",
          lambda c, _r: c["scenario"] == "name_query" and c["users"] == 1,
          lambda c, _r: c["p95_ms"] is not None and c["p95_ms"] <= 30),
)


def evaluate(run: dict[str, Any]) -> None:
    """Set each cell's ``checks`` ({key: true/false}; absent: does not apply) and ``ceiling_ratio``."""
    for cell in run["cells"]:
        ratio = _ceiling_ratio(cell, run)
        cell["ceiling_ratio"] = round(ratio, 3) if ratio is not None and cell["seeded"] else None
        cell["checks"] = {check.key: check.passes(cell, run) for check in CHECKS if check.applies(cell, run)}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _verdict(cell: dict[str, Any], key: str) -> str:
    if key not in cell["checks"]:
        return "–"
    return "pass" if cell["checks"][key] else "**FAIL**"


def markdown(run: dict[str, Any]) -> str:
    """The table of docs/performance.md: one row per scenario × concurrency (and the soak)."""
    data = run["dataset"]
    server = run["server"]
    threads = f" ({server['threads']} threads)" if server["threads"] > 1 else ""
    bounds = "" if run.get("soak") else (f" Each cell: up to {run['iterations']} iterations per user or "
                                         f"{run['duration']:.0f} s, whichever ends first.")
    lines = [
        f"## {run['label']} — {run['date']}",
        "",
        (f"{data.get('customer', 0):,} customers, {data.get('contact', 0):,} contacts, "
         f"{data.get('followup', 0):,} follow-ups; gunicorn {server['workers']} × {server['worker_class']}{threads}, "
         f"pool {server['pool_size']}, max_requests {server['max_requests']}; "
         f"PostgreSQL {run['versions'].get('postgresql', '?')}; {run['machine']['cpus']} CPUs.{bounds}"),
    ]
    if run["cells"]:
        lines += ["", *table(run), "", *summary_lines(run), "", "Checks:",
                  *(f"- `{c.key}`: {c.label}" for c in CHECKS)]
    if run.get("soak"):
        lines += ["", *soak_lines(run["soak"])]
    return "\n".join(lines) + "\n"


def table(run: dict[str, Any]) -> list[str]:
    lines = [
        ("| scenario | users | n | avg ms | p50 | p95 | p99 | max | TPS | errors | % ceiling | server CPU "
         "| PG CPU | client CPU | RSS MB | floor | p95 ≤ 150, 0 err | ≥ 50 % ceiling | other goal |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|",
    ]
    for cell in run["cells"]:
        other = next((_verdict(cell, key) for key in ("view_rps", "name_p95") if key in cell["checks"]), "–")
        ratio = "–" if cell["ceiling_ratio"] is None else f"{cell['ceiling_ratio'] * 100:.0f} %"
        pg = "–" if cell["postgres_cpu"] is None else f"{cell['postgres_cpu']:.2f}"
        lines.append(
            f"| {cell['title']} | {cell['users']} | {cell['transactions']} | {_ms(cell['avg_ms'])} "
            f"| {_ms(cell['p50_ms'])} | {_ms(cell['p95_ms'])} | {_ms(cell['p99_ms'])} | {_ms(cell['max_ms'])} "
            f"| {cell['tps']:.1f} | {cell['error_rate'] * 100:.1f} % | {ratio} | {cell['server_cpu']:.2f} | {pg} "
            f"| {cell['client_cpu']:.2f} | {cell['server_rss_mb']:.0f} | {_verdict(cell, 'floor')} "
            f"| {_verdict(cell, 'p95')} | {_verdict(cell, 'ceiling')} | {other} |")
    return lines


def summary_lines(run: dict[str, Any]) -> list[str]:
    """The bare-ceiling ratio per level and the count of failed checks."""
    lines = []
    for level in run["levels"]:
        ceiling = run["ceiling_tps"].get(str(level))
        ratios = [c["ceiling_ratio"] for c in run["cells"] if c["users"] == level and c["ceiling_ratio"] is not None]
        if ceiling:
            reach = f"; scenarios reach {min(ratios) * 100:.0f}–{max(ratios) * 100:.0f} % of it" if ratios else ""
            lines.append(f"- bare ceiling at {level} {'user' if level == 1 else 'users'}: {ceiling:.1f} req/s{reach}")
    failed = sum(1 for c in run["cells"] for ok in c["checks"].values() if not ok)
    checked = sum(len(c["checks"]) for c in run["cells"])
    lines.append(f"- checks: {checked - failed} of {checked} pass")
    return lines


def soak_lines(soak: dict[str, Any]) -> list[str]:
    lines = [f"### Soak: {soak['users']} users for {soak['seconds']:.0f} s ({', '.join(soak['scenarios'])})", "",
             f"{soak['transactions']} transactions, {soak['errors']} errors, {soak['tps']:.1f} TPS; "
             f"RSS sampled every {soak['sample_every']:.0f} s; growth of each worker's RSS floor from "
             f"warm-up to the end: "
             + ", ".join(f"{pid}: {g:+.1f} %" for pid, g in soak["growth_percent"].items())
             + f" — goal ≤ 5 %: {'pass' if soak['flat'] else '**FAIL**'}."]
    if soak.get("chart"):
        lines += ["", f"![worker RSS]({soak['chart']})"]
    return lines


def write(run: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """``<date>-<label>.json`` and ``.md`` in ``directory``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"{run['date']}-{run['label']}"
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(run, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(run), encoding="utf-8")
    return json_path, md_path
