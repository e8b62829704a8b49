"""The load harness end to end on tiny data: gunicorn, sign-ins, every scenario and the
ceiling, the soak mode — it runs and writes its reports, without errors. No timing is asserted:
this machine's speed is the benchmark's business, not the suite's."""

import json

from benchmarks import run as harness
from benchmarks.scenarios import SCENARIOS

TINY = ["--customers", "200", "--salespeople", "6", "--departments", "2", "--warmup", "0"]


def test_every_scenario_runs_at_five_users_and_is_reported(bench_url, tmp_path):
    result = harness.main(["--database-url", bench_url, *TINY, "--workers", "2", "--levels", "5",
                           "--iterations", "2", "--duration", "3s", "--label", "smoke", "--results-dir", str(tmp_path)])

    written = json.loads((tmp_path / f"{result['date']}-smoke.json").read_text(encoding="utf-8"))
    assert {c["scenario"] for c in written["cells"]} == set(SCENARIOS)
    for cell in written["cells"]:
        assert cell["users"] == 5
        assert cell["transactions"] > 0, cell["scenario"]
        assert cell["errors"] == 0, (cell["scenario"], cell["error_examples"])
        assert cell["server_rss_mb"] > 0
    assert written["ceiling_tps"]["5"] > 0
    table = (tmp_path / f"{result['date']}-smoke.md").read_text(encoding="utf-8")
    for scenario in SCENARIOS.values():
        assert f"| {scenario.title} | 5 |" in table


def test_soak_samples_every_worker_and_writes_its_chart(bench_url, tmp_path):
    result = harness.main(["--database-url", bench_url, *TINY, "--workers", "1", "--soak", "2s",
                           "--soak-users", "2", "--scenarios", "customer_view,assign,name_query",
                           "--sample-every", "0.5s", "--label", "soak", "--results-dir", str(tmp_path)])

    soak = json.loads((tmp_path / f"{result['date']}-soak.json").read_text(encoding="utf-8"))["soak"]
    assert soak["errors"] == 0, soak["error_examples"]
    assert soak["transactions"] > 0 and soak["scenarios"] == ["customer_view", "assign", "name_query"]
    assert len(soak["samples"]) >= 3 and all(len(s["rss_mb"]) == 1 for s in soak["samples"])
    assert set(soak["growth_percent"]) == set(soak["samples"][-1]["rss_mb"])
    assert "### Soak: 2 users" in (tmp_path / f"{result['date']}-soak.md").read_text(encoding="utf-8")
    if soak["chart"]:  # matplotlib comes with the bench extra; without it the samples stay in the JSON
        assert (tmp_path / soak["chart"]).stat().st_size > 0
