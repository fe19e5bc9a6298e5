"""Run the reliability tests and sum up what they tried: ``make reliability``.

Runs tests/integration/test_bad_inputs.py, test_faults.py, test_crashes.py, test_security.py,
test_concurrency.py, test_batch_limits.py, test_first_use_races.py and test_interrupts.py under pytest (real servers included, started by the fixtures), reads the
JUnit report — each test records what it counted (faults injected, kills, rows checked) as
properties — and writes ``bench/results/reliability.json`` and a Markdown table. Exits non-zero
if any test failed.

    .venv/bin/python bench/reliability.py [--no-json] [pytest args…]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "tests/integration"  # where FILES are
FILES = ["test_bad_inputs.py", "test_faults.py", "test_crashes.py", "test_security.py", "test_concurrency.py",
         "test_batch_limits.py", "test_first_use_races.py", "test_interrupts.py"]


def run_pytest(extra: list[str]) -> tuple[Path, int, float]:
    """Run the files; returns the JUnit XML path, pytest's exit code and the wall time."""
    report = Path(tempfile.mkdtemp(prefix="llamabook-reliability-")) / "junit.xml"
    command = [sys.executable, "-m", "pytest", *(f"{FOLDER}/{f}" for f in FILES), "-q", "-p", "no:cacheprovider",
               f"--junitxml={report}", "-o", "junit_family=xunit1", *extra]  # fmt: skip
    started = time.monotonic()
    code = subprocess.run(command, cwd=ROOT).returncode
    return report, code, time.monotonic() - started


def read_report(report: Path) -> list[dict[str, Any]]:
    """One dict per test: file, name, outcome, seconds and its recorded properties."""
    cases = []
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = "skipped" if tag == "skipped" else "failed"
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        module = (case.get("classname") or "").rsplit(".", 1)[-1]
        cases.append({"file": module + ".py", "name": case.get("name", ""), "outcome": outcome,
                      "seconds": float(case.get("time") or 0), "properties": props})  # fmt: skip
    return cases


def bad_input_areas(cases: list[dict[str, Any]]) -> Counter[str]:
    """Passed bad-input cases by area (client, connection, magics, widgets), from the catalogue."""
    sys.path.insert(0, str(ROOT / "tests"))
    from support.bad_inputs import CASES

    area = {case.id: case.area for case in CASES}
    passed: Counter[str] = Counter()
    for case in cases:
        name = case["name"]
        if case["file"] == "test_bad_inputs.py" and case["outcome"] == "passed" and name.endswith("]"):
            passed[area[name[name.index("[") + 1 : -1]]] += 1
    return passed


def summarise(cases: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    by_file: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for case in cases:
        by_file[case["file"]][case["outcome"]] += 1
        seconds[case["file"]] += case["seconds"]
        for name, value in case["properties"].items():
            totals[name] += int(value)
    areas = bad_input_areas(cases)
    return {
        "bad_inputs_tried": sum(areas.values()),
        "bad_inputs_by_area": dict(areas),
        "bad_inputs_catalogued": sum(1 for c in cases if c["file"] == "test_bad_inputs.py" and "[" in c["name"]),
        "fault_scenarios": sum(by_file["test_faults.py"].values()),
        "faults_injected": totals["faults_injected"],
        "crash_kills_survived": totals["crash_kills"],
        "crash_rows_checked": totals["crash_rows_checked"],
        "crash_calls_repeated": totals["crash_calls_repeated"],
        "rows_lost": totals["crash_rows_lost"],
        "rows_duplicated": totals["crash_rows_duplicated"],
        "security_checks": sum(by_file["test_security.py"].values()),
        "batch_fault_cases": sum(by_file["test_batch_limits.py"].values()),
        "interrupt_cases": sum(by_file["test_interrupts.py"].values()),
        "load_rounds": totals["load_rounds"],
        "load_rows_checked": totals["load_rows_checked"],
        "tests": {f: dict(c) for f, c in sorted(by_file.items())},
        "seconds_by_file": {f: round(s, 1) for f, s in sorted(seconds.items())},
        "failed": sum(c["failed"] for c in by_file.values()),
        "wall_s": round(wall_s, 1),
    }


def markdown(summary: dict[str, Any]) -> str:
    tests = summary["tests"]

    def passed(name: str) -> str:
        counts = tests.get(name, {})
        total = sum(counts.values())
        return f"{counts.get('passed', 0)}/{total} passed"

    areas = summary["bad_inputs_by_area"]
    rows = [
        ["bad inputs tried (typed error, nothing stored changed)",
         f"{summary['bad_inputs_tried']} ({areas.get('client', 0)} client, {areas.get('connection', 0)} connection, "
         f"{areas.get('magics', 0)} magics, {areas.get('widgets', 0)} widgets)", passed("test_bad_inputs.py")],
        ["faults injected (429 ± Retry-After, 500/503, resets, mid-body/mid-stream drops, stalls, hangs)",
         f"{summary['faults_injected']} in {summary['fault_scenarios']} scenarios", passed("test_faults.py")],
        ["SIGKILLs survived (integrity_check ok after each, resumed)",
         f"{summary['crash_kills_survived']} ({summary['crash_rows_checked']} rows checked)", passed("test_crashes.py")],
        ["rows lost / duplicated after the kills", f"{summary['rows_lost']} / {summary['rows_duplicated']}", ""],
        ["security checks (SSTI, re-rendering, path traversal, SQL, API keys)",
         str(summary["security_checks"]), passed("test_security.py")],
        ["load: 8 threads x 2 processes for 2.5 s, counts exact",
         f"{summary['load_rounds']} rounds ({summary['load_rows_checked']} rows checked)", passed("test_concurrency.py")],
        ["batches: a restarted server, stalls, timeouts, terminal statuses, error lines, missing values, bad limits",
         f"{summary['batch_fault_cases']} cases", passed("test_batch_limits.py")],
        ["first uses: 16 threads 0-40 ms apart in cold processes (jsonschema, grammar, judge and json_schema grids, "
         "a replay without llama_cpp)", "7 paths", passed("test_first_use_races.py")],
        ["interrupts: SIGINTs mid-grid (one keeps the calls in flight, two drop them), streams left open at exit",
         f"{summary['interrupt_cases']} cases", passed("test_interrupts.py")],
    ]  # fmt: skip
    return table(["what", "result", "tests"], rows) + f"\n\nWall time {summary['wall_s']} s; per file: " + ", ".join(
        f"{name} {s} s" for name, s in summary["seconds_by_file"].items()
    )


def main(argv: list[str]) -> int:
    write = "--no-json" not in argv
    extra = [a for a in argv if a != "--no-json"]
    machine = machine_info()
    report, code, wall_s = run_pytest(extra)
    summary = summarise(read_report(report), wall_s)
    print("\n" + markdown(summary))
    if write:
        path = write_json("reliability", {"benchmark": "reliability", "machine": machine,
                                          "command": "make reliability", **summary})  # fmt: skip
        print(f"\nwrote {path.relative_to(ROOT)}")
    return code or (1 if summary["failed"] else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
