"""The run's figures as one JSON document and as the table printed on stdout, with issue 12's targets judged."""
from __future__ import annotations

from dataclasses import dataclass

from bench.triggers import Phase

TIME_RATIO_TARGET, P50_RATIO_TARGET, STATEMENTS_TARGET = 4.0, 5.0, 15
RULES_TARGET, BACKWARD_MS_TARGET, RECALL_MS_TARGET, RSS_MB_TARGET = 10_000, 20.0, 50.0, 300.0


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None  # None: not measured in this run
    bound: str  # e.g. "≤ 4"
    met: bool | None

    def as_json(self) -> dict:
        return {"name": self.name, "value": self.value, "target": self.bound,
                "verdict": "NOT MEASURED" if self.met is None else "PASS" if self.met else "FAIL"}


def phase_json(phase: Phase) -> dict:
    m = phase.measurement
    return {"clients": m.clients, "triggers": m.triggers, "seconds": round(m.seconds, 3),
            "per_second": round(m.per_second, 2), "ms_per_trigger": round(m.ms_per_trigger, 3),
            "p50_ms": round(m.p50, 2), "p99_ms": round(m.p99, 2), "capped": m.capped,
            "statements_per_trigger": phase.statements()}


def trigger_rows(phases: list[Phase]) -> list[dict]:
    """One row per (lines, clients): served beside floor, and their ratios."""
    rows = []
    for served in (p for p in phases if p.side == "served"):
        floor = next(p for p in phases if p.side == "floor" and p.lines == served.lines
                     and p.measurement.clients == served.measurement.clients)
        rows.append({"lines": served.lines, "clients": served.measurement.clients,
                     "served": phase_json(served), "floor": phase_json(floor),
                     "time_ratio": round(served.measurement.ms_per_trigger / floor.measurement.ms_per_trigger, 2),
                     "p50_ratio": round(served.measurement.p50 / floor.measurement.p50, 2)})
    return rows


def _row(rows: list[dict], lines: int, clients: int) -> dict | None:
    return next((r for r in rows if r["lines"] == lines and r["clients"] == clients), None)


def trigger_targets(rows: list[dict]) -> list[Target]:
    at_4, at_1 = _row(rows, 10, 4), _row(rows, 10, 1)
    time_ratio, p50_ratio = at_4 and at_4["time_ratio"], at_1 and at_1["p50_ratio"]
    statements = {lines: next((r["served"]["statements_per_trigger"]["total"] for r in rows if r["lines"] == lines), None)
                  for lines in (5, 50)}
    small, large = statements[5], statements[50]
    return [
        Target("served ÷ floor, time per trigger (10 lines, 4 clients)", time_ratio, f"≤ {TIME_RATIO_TARGET:g}",
               None if time_ratio is None else time_ratio <= TIME_RATIO_TARGET),
        Target("served ÷ floor, p50 latency (10 lines, 1 client)", p50_ratio, f"≤ {P50_RATIO_TARGET:g}",
               None if p50_ratio is None else p50_ratio <= P50_RATIO_TARGET),
        Target("SQL statements per served trigger (5 lines)", small, f"≤ {STATEMENTS_TARGET}",
               None if small is None else small <= STATEMENTS_TARGET),
        Target("SQL statements per served trigger (50 lines)", large, f"≤ {STATEMENTS_TARGET}, = 5 lines'",
               None if None in (small, large) else large <= STATEMENTS_TARGET and large == small),
    ]


def other_targets(rules: dict | None, genealogy: dict | None, peak_rss_mb: float | None, *,
                  under_load: bool) -> list[Target]:
    """Genealogy counts only at the issue's sizes, and in server time as the issue states it (the HTTP round trip
    is printed beside it); memory only if triggers loaded the workers."""
    decisions = rules and rules["decisions_per_second"]
    backward = genealogy and genealogy["backward"]["server_p50_ms"]
    recall = genealogy and genealogy["forward"]["server_p50_ms"]
    chain_as_issued = bool(genealogy) and genealogy["backward"]["lots"] == 1000 and genealogy["chain_levels"] == 5
    recall_as_issued = bool(genealogy) and genealogy["ledger_rows"] >= 1_000_000 and genealogy["edges"] >= 200_000
    return [
        Target("rule decisions/s, 10-rule set, rules.evaluate (durable)", decisions, f"≥ {RULES_TARGET:,}",
               None if decisions is None else decisions >= RULES_TARGET),
        Target("genealogy backward tree, 5 levels / 1,000 lots, server p50 ms", backward, f"< {BACKWARD_MS_TARGET:g}",
               backward < BACKWARD_MS_TARGET if chain_as_issued else None),
        Target("genealogy forward recall, 1M rows / 200k edges, server p50 ms", recall, f"< {RECALL_MS_TARGET:g}",
               recall < RECALL_MS_TARGET if recall_as_issued else None),
        Target("peak RSS per worker under load, MB", peak_rss_mb, f"< {RSS_MB_TARGET:g}",
               peak_rss_mb < RSS_MB_TARGET if under_load and peak_rss_mb is not None else None),
    ]


def _statements(s: dict) -> str:
    spread = "" if s["min"] == s["max"] else f" [{s['min']}–{s['max']}]"
    return f"{s['total']:g}{spread} in {s['calls'] + s['commits']:g} round trips, +{s['checkouts']:g} pings"


def table(result: dict) -> str:
    out = []
    if result.get("triggers"):
        out += [f"TRIGGERS — one good unit each; served over HTTP by {result['settings']['workers']} worker(s); "
                "floor = the 11-statement psycopg transaction, same database, same run",
                f"{'lines':>5} {'clients':>7} │ {'served/s':>8} {'p50 ms':>7} {'p99 ms':>7} │ {'floor/s':>8} "
                f"{'p50 ms':>7} {'p99 ms':>7} │ {'time ×floor':>11} {'p50 ×floor':>10} │ served SQL statements per trigger"]
        for r in result["triggers"]:
            s, f = r["served"], r["floor"]
            out.append(f"{r['lines']:>5} {r['clients']:>7} │ {s['per_second']:>8.1f} {s['p50_ms']:>7.1f} {s['p99_ms']:>7.1f} │ "
                       f"{f['per_second']:>8.1f} {f['p50_ms']:>7.2f} {f['p99_ms']:>7.2f} │ {r['time_ratio']:>11.1f} "
                       f"{r['p50_ratio']:>10.1f} │ {_statements(s['statements_per_trigger'])}")
        out.append("time ×floor = served ms per trigger ÷ floor ms per trigger (all clients together); "
                   "p50 ×floor = served p50 ÷ floor p50")
    if result.get("rules"):
        r = result["rules"]
        out.append(f"\nRULES — {r['decisions_per_second']:,.0f} decisions/s through rules.evaluate (durable, wall clock); "
                   f"{r['decisions_per_cpu_second']:,.0f}/CPU-s; engine call alone {r['matching_per_second']:,.0f}/s")
    if result.get("genealogy"):
        g = result["genealogy"]
        before, after = g["interpreter_ms_before_and_after"]
        out.append(f"\nGENEALOGY — database: {g['ledger_rows']:,} ledger rows, {g['edges']:,} edges "
                   f"(generated in {g['generated_in_s']:.1f} s); interpreter reference {before:.1f} ms just before "
                   f"the probes, {after:.1f} ms just after")
        for name in ("backward", "forward"):
            p = g[name]
            out.append(f"  {p['direction'].lower():<8} {p['lot']:<10} {p['lots']:>5} lots {p['edges']:>5} edges │ server "
                       f"p50 {p['server_p50_ms']:.1f} ms, p99 {p['server_p99_ms']:.1f} ms │ HTTP p50 {p['http_p50_ms']:.1f} ms, "
                       f"p99 {p['http_p99_ms']:.1f} ms │ in-process (SQL + shaping, no GraphQL) p50 {p['domain_p50_ms']:.1f} ms")
        out.append("  server = the server's own Server-Timing (arrival to response start); HTTP = the round trip as this "
                   "client saw it, sending and reading the answer included")
    if result.get("memory"):
        m = result["memory"]
        out.append(f"\nMEMORY — peak RSS per worker (MB): {m['peak_rss_mb_per_worker']}")
    machine = result.get("machine", {})
    if "interpreter_ms_at_start" in machine:
        out.append(f"\nMACHINE — {machine['cpus']} CPUs; load {machine['load_average_at_start'][0]:.2f} at start; "
                   f"interpreter reference (bench/run.py interpreter_ms) {machine['interpreter_ms_at_start']:.1f} ms "
                   f"at start, {machine.get('interpreter_ms_at_end', float('nan')):.1f} ms at end")
    out.append("\nTARGETS (issue 12)")
    for t in result["targets"]:
        value = "—" if t["value"] is None else f"{t['value']:,.0f}" if float(t["value"]).is_integer() else \
            f"{t['value']:,.1f}"
        out.append(f"  {t['name']:<62} {value:>10}  {t['target']:<16} {t['verdict']}")
    return "\n".join(out)
