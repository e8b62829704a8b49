"""benchmarks/run.py's options: bounded, and a result never records the database password."""

import pytest

from benchmarks.run import _command_line, parse_args


def test_defaults_are_the_seed_levels_with_production_recycling():
    args = parse_args([])
    assert args.levels == [1, 10, 20, 50, 100]
    assert args.iterations == 100 and args.duration == 60
    assert args.max_requests == 10000 and args.salespeople == 120


def test_a_soak_turns_worker_recycling_off_and_needs_only_its_users():
    args = parse_args(["--soak", "30m", "--soak-users", "50", "--salespeople", "60"])
    assert args.soak == 1800 and args.sample_every == 10
    assert args.max_requests == 0


@pytest.mark.parametrize("argv", [["--levels", "0,5"], ["--levels", "1,130", "--salespeople", "120"],
                                  ["--scenarios", "customer_view,teleport"], ["--duration", "soon"]])
def test_unbounded_or_unknown_requests_are_refused(argv):
    with pytest.raises((SystemExit, ValueError)):
        parse_args(argv)


def test_the_recorded_command_hides_the_database_url():
    assert _command_line(["--database-url", "postgresql://kehu:secret@db/kehu", "--levels", "1"]) == (
        "python benchmarks/run.py --database-url <database-url> --levels 1")
    assert "secret" not in _command_line(["--database-url=postgresql://kehu:secret@db/kehu"])
