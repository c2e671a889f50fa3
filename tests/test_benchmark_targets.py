"""The benchmark scripts' targets agree with benchmarks/README.md; run_all's README writer.

Nothing here runs a benchmark or imports TensorFlow: the scripts' ``TARGETS``
are read with ``ast`` (``benchmarks/_targets.py``), and ``benchmarks/run_all.py``
imports only the standard library.
"""

import ast
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
README = BENCHMARKS / "README.md"
# a row of the README's "## Targets" table: | `script` | name | op bound |
ROW = re.compile(
    r"^\| `(?P<script>bench_\w+\.py)` \| (?P<name>.+?) \| (?P<op><=|>=|<|>|==) (?P<bound>\S+) \|$"
)


def load(name):
    """Import ``benchmarks/<name>.py`` as a module (only the light ones)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


targets = load("_targets")
run_all = load("run_all")


def readme_targets():
    """``{(script, name): "op bound"}`` from the README's "## Targets" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Targets\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match:
            key = (match["script"], match["name"])
            assert key not in rows, f"{key} twice in the README's target table"
            rows[key] = f"{match['op']} {match['bound']}"
    return rows


def script_targets():
    """``{(script, name): "op bound"}`` from every script's ``TARGETS``."""
    rows = {}
    for path in sorted(BENCHMARKS.glob("bench_*.py")):
        for name, (op, bound, unit) in targets.script_targets(path).items():
            rows[(path.name, name)] = f"{op} {targets.format_bound(bound, unit)}"
    return rows


def test_readme_states_every_script_target_and_no_other():
    in_readme, in_scripts = readme_targets(), script_targets()
    assert in_scripts, "no script states TARGETS"
    missing = sorted(set(in_scripts) - set(in_readme))
    stale = sorted(set(in_readme) - set(in_scripts))
    assert not missing, f"targets of the scripts missing from benchmarks/README.md: {missing}"
    assert not stale, f"targets in benchmarks/README.md that no script states: {stale}"
    differ = {key: (in_readme[key], in_scripts[key]) for key in in_scripts}
    differ = {key: pair for key, pair in differ.items() if pair[0] != pair[1]}
    assert not differ, f"(README, script) bounds disagree: {differ}"


def test_issue_25_targets():
    found = script_targets()
    assert found[("bench_predict.py", "chain.predict 1 row latency / fused graph's")] == "<= 2x"
    assert found[("bench_predict.py", "chain.predict rows/s / fused graph's")] == ">= 0.9x"
    assert found[("bench_fit.py", "chain.fit time / hand-written Keras'")] == "<= 1.05x"
    assert found[("bench_search.py", "GridSearchCV time / precomputed search's")] == "<= 1.1x"
    assert found[("bench_diagnostics.py", "drift check's share of transform")] == "<= 5%"
    serving = "demo chain: chain.predict 1 row latency / fused graph's (SavedModel)"
    assert found[("bench_serving.py", serving)] == "<= 2x"


def uses_report(path):
    """Whether the script calls ``report_target`` or ``report``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "report_target",
            "report",
        ):
            return True
    return False


def test_scripts_with_targets_print_them_through_the_helper():
    for path in sorted(BENCHMARKS.glob("bench_*.py")):
        stated = bool(targets.script_targets(path))
        assert stated == uses_report(path), f"{path.name}: TARGETS and report_target go together"
        text = path.read_text(encoding="utf-8")
        # a bound written in a printed string instead of read from TARGETS
        assert not re.search(r"\(target [<>]=? ?\d", text), f"{path.name}: hard-coded target"
        for node in ast.walk(ast.parse(text)):
            # report() takes any bound; report_target() only the script's TARGETS
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "report":
                raise AssertionError(f"{path.name}:{node.lineno}: report(); use report_target")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "report_target":
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Name) and first.id == "TARGETS", (
                    f"{path.name}:{node.lineno}: report_target reads the script's TARGETS"
                )
            # only report_target comes from _targets (not report, line, or the module)
            if isinstance(node, ast.ImportFrom) and node.module == "_targets":
                imported = [(alias.name, alias.asname) for alias in node.names]
                assert imported == [("report_target", None)], f"{path.name}: {imported}"
            if isinstance(node, ast.Import):
                assert "_targets" not in [alias.name for alias in node.names], path.name
            # a target line printed by hand ("target: name: ... (target >= ...)")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert targets.PREFIX not in node.value, (
                    f"{path.name}:{node.lineno}: a target line written by hand"
                )


def generated_run():
    """The README's generated section: ``(invocation, {script: printed target lines},
    [table rows as (script, target, measured, bound, verdict)])``."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(run_all.BEGIN) : text.index(run_all.END)]
    invocation = re.search(r"Generated by `(python benchmarks/run_all\.py[^`]*)`", section)[1]
    printed: dict[str, list[dict]] = {}
    script = None
    for raw in section.split("### Output", 1)[1].splitlines():
        command = re.match(r"^\$ python benchmarks/(bench_\w+\.py)", raw)
        if command:
            script = command[1]
            printed.setdefault(script, [])
        elif script is not None:
            printed[script] += targets.parse(raw)
    table = []
    for raw in section.split("### Targets", 1)[1].split("### Output", 1)[0].splitlines():
        cells = [cell.strip() for cell in raw.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`bench_"):
            table.append((cells[0].strip("`"), *cells[1:]))
    return invocation, printed, table


def rounding_leeway(printed):
    """Half a unit of the last digit printed in ``printed`` (``"1.40x"`` -> 0.005)."""
    digits = re.match(r"[-+]?\d+(?:\.(\d+))?", printed)[1] or ""
    return 0.5 * 10.0 ** -len(digits)


def test_the_printed_targets_of_the_last_generated_run_are_the_readmes():
    """What the scripts printed in the run that wrote "Latest results" (not only their
    TARGETS literals): every script of that run, every target of each, with the README's
    bound and a verdict that follows from the printed number; the section's table is
    made of exactly those lines."""
    invocation, printed, table = generated_run()
    stated = readme_targets()
    args = shlex.split(invocation)[2:]
    assert "--only" not in args, "the generated section is one whole run"
    planned = [script for script, _ in run_all.plan(quick="--quick" in args)]
    assert list(printed) == planned, "scripts of the run missing from the generated output"
    rows = []
    for script, lines in printed.items():
        names = {line["name"] for line in lines}
        expected = {name for (where, name) in stated if where == script}
        assert expected <= names, f"{script}: stated targets not printed: {expected - names}"
        for line in lines:
            key = (script, line["name"])
            assert key in stated, f"{script} printed a target the README does not state: {key}"
            assert f"{line['op']} {line['bound']}" == stated[key], (key, line, stated[key])
            number = float(re.match(r"[-+]?[\d.]+", line["measured"])[0])
            bound = float(re.match(r"[-+]?[\d.]+", line["bound"])[0])
            # A verdict within the printed number's rounding of the bound is not checked.
            if abs(number - bound) > rounding_leeway(line["measured"]):
                assert (line["verdict"] == "met") == targets.met(number, line["op"], bound), line
            name = line["name"] + (f" {line['note']}" if line["note"] else "")
            verdict = "met" if line["verdict"] == "met" else "**NOT met**"
            rows.append((script, name, line["measured"], f"{line['op']} {line['bound']}", verdict))
    assert table == rows, "the generated table differs from the target lines printed"


def test_every_script_with_targets_is_run_by_run_all():
    scripts = {script for script, _, _ in run_all.SCRIPTS}
    on_disk = {path.name for path in BENCHMARKS.glob("bench_*.py")}
    assert scripts == on_disk


def test_target_line_format_round_trips():
    line = targets.line("chain.fit time / hand-written Keras'", 1.234, "<=", 1.05, "x")
    assert line == "target: chain.fit time / hand-written Keras': 1.23x (target <= 1.05x): NOT met"
    share = targets.line("drift check's share of transform", 0.031, "<=", 0.05, "%", "(note)")
    assert share.endswith("3.1% (target <= 5%): met (note)")
    parsed = targets.parse(f"noise\n{line}\n  {share}\n")
    assert [p["verdict"] for p in parsed] == ["NOT met", "met"]
    assert parsed[0]["name"] == "chain.fit time / hand-written Keras'"
    assert parsed[1]["note"] == "(note)"
    assert targets.line("copies", 1, "<=", 1, "").endswith("1 (target <= 1): met")
    assert "300ms" in targets.line("first prediction", 250.0, "<=", 300, "ms")
    slow = targets.line("first prediction", 12345.6, "<=", 300, "ms")
    assert slow.endswith(": 12346ms (target <= 300ms): NOT met")


FAKE_ENV = {
    "date": "2000-01-01 00:00 UTC",
    "commit": "abc1234",
    "python": "3.0",
    "versions": {"tensorflow": "0", "numpy": "0"},
    "cpu_count": 2,
    "platform": "Fake-1.0",
}


def fake_results():
    out = "path stuff\n" + targets.line("chain.fit time / hand-written Keras'", 1.2, "<=", 1.05)
    return [
        {
            "script": "bench_fit.py",
            "command": "python benchmarks/bench_fit.py --quick",
            "stdout": out + "\n```\n",
            "stderr": "",
            "returncode": 0,
            "seconds": 12.0,
        },
        {
            "script": "bench_search.py",
            "command": "python benchmarks/bench_search.py --quick",
            "stdout": "half",
            "stderr": "Traceback\nValueError: boom",
            "returncode": 1,
            "seconds": 3.0,
        },
    ]


def test_readme_writer_keeps_the_text_outside_the_markers(tmp_path):
    original = README.read_text(encoding="utf-8")
    assert original.count(run_all.BEGIN) == 1 and original.count(run_all.END) == 1
    before = original[: original.index(run_all.BEGIN) + len(run_all.BEGIN)]
    after = original[original.index(run_all.END) :]

    section = run_all.render(
        fake_results(), FAKE_ENV, "python benchmarks/run_all.py --quick", 15.0, ["bench_drift.py"]
    )
    copy = tmp_path / "README.md"
    copy.write_text(run_all.replace_section(original, section), encoding="utf-8")
    written = copy.read_text(encoding="utf-8")
    assert written.startswith(before) and written.endswith(after)
    assert "abc1234" in written and "`os.cpu_count()`: 2" in written
    assert "| `bench_fit.py` | chain.fit time / hand-written Keras' | 1.20x | <= 1.05x |" in written
    assert "**NOT met**" in written and "**failed**" in written and "ValueError: boom" in written
    assert "````" in written  # the output's own ``` cannot close its fence
    assert "`bench_drift.py`" in written and "(slow; their own dated sections below)" in written
    only = run_all.render(
        fake_results(),
        FAKE_ENV,
        "python benchmarks/run_all.py --only fit",
        15.0,
        ["bench_search.py"],
        "not named by --only",
    )
    assert "- left out of this run (not named by --only): `bench_search.py`" in only

    # writing again (another run) replaces the section, nothing else
    again = run_all.replace_section(written, "other\n")
    assert again == f"{before}\nother\n{after}"
    assert run_all.replace_section(again, section) == written


def test_readme_writer_needs_both_markers():
    with pytest.raises(ValueError):
        run_all.replace_section("no markers here", "x")
    with pytest.raises(ValueError):
        run_all.replace_section(f"{run_all.END}\n{run_all.BEGIN}\n", "x")


def test_environment_finds_the_installed_versions():
    env = run_all.environment()
    assert set(env["versions"]) == set(run_all.PACKAGES)
    assert env["versions"]["numpy"] != "not installed"
    assert env["versions"]["tensorflow"] != "not installed"
    assert env["cpu_count"] == os.cpu_count()


def test_plan_quick_only_and_names():
    quick = [script for script, _ in run_all.plan(quick=True)]
    assert quick[0] == "bench_predict.py" and "bench_accuracy.py" not in quick
    assert dict(run_all.plan(quick=True))["bench_predict.py"] == [
        "--rows",
        "100000",
        "--repeats",
        "4",
    ]
    assert [s for s, _ in run_all.plan(only=["predict", "bench_fit.py"])] == [
        "bench_predict.py",
        "bench_fit.py",
    ]
    assert len(run_all.plan()) == len(run_all.SCRIPTS)
    with pytest.raises(SystemExit):
        run_all.plan(only=["no_such_benchmark"])


def test_run_all_and_the_helper_import_no_tensorflow():
    code = (
        f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import run_all, _targets;"
        " assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_exit_status_says_whether_every_target_was_met(capsys):
    assert run_all.exit_status(fake_results()) == 1
    err = capsys.readouterr().err
    assert "failed: bench_search.py" in err
    assert "target NOT met: bench_fit.py: chain.fit time / hand-written Keras'" in err
    met = dict(fake_results()[0], stdout=targets.line("copies", 1, "<=", 1, ""))
    assert run_all.exit_status([met]) == 0


@pytest.mark.parametrize("extra, written", [([], True), (["--only", "fit"], False)])
def test_only_never_writes_a_partial_section(tmp_path, monkeypatch, extra, written):
    copy = tmp_path / "README.md"
    copy.write_text(README.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(run_all, "README", copy)
    monkeypatch.setattr(run_all, "ROOT", tmp_path)
    monkeypatch.setattr(run_all, "environment", lambda: FAKE_ENV)
    monkeypatch.setattr(
        run_all,
        "run_one",
        lambda script, args, timeout=None: dict(fake_results()[0], script=script),
    )
    before = copy.read_text(encoding="utf-8")
    assert run_all.main(["--quick", *extra]) == 1  # the fake bench_fit misses its target
    assert (copy.read_text(encoding="utf-8") != before) == written


@pytest.mark.parametrize("n", range(1, 8))
def test_balanced_orders_put_every_path_after_every_other_equally_often(n):
    timing = load("_timing")
    rows = timing.balanced_orders(n)
    assert all(sorted(row) == list(range(n)) for row in rows)
    after = [(row[i], row[i + 1]) for row in rows for i in range(n - 1)]
    assert len(set(after)) == n * (n - 1) and len(after) == len(set(after)) * (1 + n % 2)
    at = [(item, i) for row in rows for i, item in enumerate(row)]
    assert len(set(at)) == n * n and len(at) == len(set(at)) * (1 + n % 2)


@pytest.mark.parametrize("n", range(1, 8))
def test_call_sequence_puts_every_timed_call_after_each_path_equally_often(n):
    from collections import Counter

    timing = load("_timing")
    cycle = len(timing.balanced_orders(n))
    calls = timing.call_sequence(n, 3 * cycle)
    timed = [path for path, is_timed in calls if is_timed]
    assert Counter(timed) == dict.fromkeys(range(n), 3 * cycle)
    before = Counter((calls[i - 1][0], path) for i, (path, t) in enumerate(calls) if t)
    assert len(before) == n * n and len(set(before.values())) == 1  # itself included
    assert not calls[0][1] and calls[0][0] == calls[1][0]  # led by an untimed call


def test_round_ratios_line_gives_the_median_and_range():
    timing = load("_timing")
    assert timing.round_ratios_line([2.0, 3.0, 9.0], [2.0, 2.0, 3.0]) == (
        "per round: median 1.50x, from 1.00x to 3.00x"
    )
    assert timing.round_ratios_line([1.0, 4.0], [1.0, 2.0]).startswith("per round: median 1.50x")
