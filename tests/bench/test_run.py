"""`bench/run.py` end to end at tiny sizes, so the harness cannot rot; and its checks refuse wrong books."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.checks import check_books
from bench.floor import STATEMENTS_PER_TRIGGER
from bench.run import main
from bench.wrong_run import WrongRun
from tests.builders import Plant, line, post, qa_user, trigger
from tests.conftest import PG_URL, on_postgres

TINY = ["--lines", "2", "--clients", "1", "2", "--seconds", "0.5", "--warm-up", "2", "--workers", "1",
        "--rules-seconds", "0.2", "--chain-lots", "30", "--chain-levels", "5", "--recall-edges", "400",
        "--recall-ledger-rows", "3000", "--genealogy-samples", "2"]
TARGETS = 8


@pytest.mark.postgres
@pytest.mark.skipif(not on_postgres(), reason="the bench serves from PostgreSQL: set BACKFLUSH_TEST_DATABASE_URL")
def test_the_bench_runs_end_to_end_checks_its_work_and_judges_every_target(tmp_path, capsys):
    server_url = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False).rsplit("/", 1)[0]
    figures = tmp_path / "bench.json"

    assert main([*TINY, "--server-url", server_url, "--json", str(figures)]) == 0

    result = json.loads(figures.read_text())
    assert [(row["lines"], row["clients"]) for row in result["triggers"]] == [(2, 1), (2, 2)]
    for row in result["triggers"]:
        assert row["served"]["triggers"] > 0 and row["floor"]["triggers"] > 0
        assert row["floor"]["statements_per_trigger"] == {
            "statements": 10, "calls": 10, "commits": 1, "checkouts": 0, "total": STATEMENTS_PER_TRIGGER, "min": 11,
            "max": 11}
        assert row["served"]["statements_per_trigger"]["commits"] == 1
        assert row["time_ratio"] > 0 and row["p50_ratio"] > 0
    assert (result["genealogy"]["backward"]["lots"], result["genealogy"]["backward"]["edges"]) == (30, 29)
    assert result["genealogy"]["forward"]["edges"] == 55
    for tree in (result["genealogy"]["backward"], result["genealogy"]["forward"]):
        assert 0 < tree["server_p50_ms"] <= tree["http_p50_ms"]  # the server's own time, inside the round trip
    assert result["genealogy"]["ledger_rows"] >= 3000 and result["rules"]["decisions_per_second"] > 0
    assert len(result["memory"]["peak_rss_mb_per_worker"]) == 1
    assert all(ms > 0 for ms in result["genealogy"]["interpreter_ms_before_and_after"])  # the speed around them
    machine = result["machine"]  # what the absolute figures are to be read against
    assert machine["interpreter_ms_at_start"] > 0 and machine["interpreter_ms_at_end"] > 0
    assert len(result["targets"]) == TARGETS
    verdicts = [t["verdict"] for t in result["targets"]]
    # No 5/10/50-line BOMs and no issue-sized genealogy at these sizes: judged only where measured as issued.
    assert verdicts[:4] == ["NOT MEASURED"] * 4 and verdicts[5:7] == ["NOT MEASURED"] * 2
    assert verdicts[4] in ("PASS", "FAIL") and verdicts[7] in ("PASS", "FAIL")
    printed = capsys.readouterr().out
    assert "MACHINE — " in printed and "TARGETS (issue 12)" in printed and f"JSON: {figures}" in printed


def test_books_that_do_not_balance_make_a_wrong_run(sessions, engine):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("FG", "ea", 0)
    plant.item("C01", "kg", 3)
    plant.bom("FG", [line(1, "C01", "0.250")])
    order = plant.work_order("WO-1", "FG", "5")
    plant.stage(order, plant.receive("C01", "L1", "2.000"), "1.000")
    post(plant, trigger(order, "1"))
    check_books(sessions)  # right so far

    with engine.begin() as connection:
        connection.execute(text("UPDATE balance SET quantity = '0.500' WHERE quantity = '0.750'"))
    with pytest.raises(WrongRun, match="books wrong: 1 inconsistencies"):
        check_books(sessions)


def test_a_wrong_run_prints_no_figures(monkeypatch, capsys):
    def wrong(_args):
        raise WrongRun("trigger 3 was BLOCKED")
    monkeypatch.setattr("bench.run.run", wrong)

    assert main(["--only", "rules"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "WRONG RUN — no figures: trigger 3 was BLOCKED" in captured.err
