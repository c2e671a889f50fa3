"""benchmarks/bench_accuracy.py runs in its quick mode and prints a score for every model.

The ``digits`` task needs only scikit-learn's bundled digits, so this test
always runs (about 20 s on 2 cores).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_accuracy.py"

MODELS = [
    "chain (defaults)",
    "chain, fine-tuned",
    "HistGradientBoosting",
    "MLP",
    "LogisticRegression",
]
# a row of the table: task, metric, model, "mean ± sd", fit seconds
ROW = re.compile(r"digits\s+accuracy\s+(.+?)\s+(-?\d+\.\d+) ± (\d+\.\d+)\s+(\d+\.\d+)$")


def test_quick_digits_prints_a_score_for_each_model():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--tasks", "digits"],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
        env=env,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "os.cpu_count()=" in out and "scikit-learn" in out and "tensorflow" in out
    rows = {}
    for line in out.splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = float(match.group(2)), float(match.group(4))
    models = list(MODELS)
    if "make_chain(representation_passthrough=...): yes" in out:  # a row only if skchain has it
        models.append("chain, representation_passthrough=False")
    for model in models:
        assert model in rows, f"no score for {model!r} in:\n{out}"
        accuracy, seconds = rows[model]
        assert 0.0 <= accuracy <= 1.0 and seconds >= 0
    assert "FAILED" not in out
    # the baselines on raw pixels are not broken (a chance-level score would be ~0.2)
    assert rows["LogisticRegression"][0] > 0.8
    assert re.search(r"^digits: chain \(defaults\) \d\.\d{3}: .*HistGradientBoosting", out, re.M)
