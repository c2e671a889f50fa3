"""The main job runs end to end (fast mode) and prints its report."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skchain.demo import load_datasets


def test_demo_datasets_are_disjoint_and_documented():
    (X_a, y_a), (df_b, y_b) = load_datasets()
    assert X_a.dtype == np.float32 and X_a.shape[1] == 64
    assert len(X_a) + len(df_b) == 1797
    assert list(df_b.columns[-3:]) == ["store", "colour", "age"]
    assert df_b["store"].nunique() == 6 and df_b["colour"].nunique() == 3
    # No image of A is in B (digits has a few duplicated images, so compare rows
    # of A with rows of B drawn from the other half of the permutation).
    a_rows = {row.tobytes() for row in X_a}
    b_rows = [row.tobytes() for row in df_b.iloc[:, :64].to_numpy(dtype=np.float32)]
    assert sum(row in a_rows for row in b_rows) <= 5
    assert np.isfinite(y_b).all() and y_b.std() > 2


def test_demo_runs_from_the_command_line(tmp_path):
    # As a user runs it: TensorFlow's log level not set beforehand.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "skchain", "demo", "--fast", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # The command line speaks first: no TensorFlow start-up lines anywhere.
    assert out.startswith("dataset A:"), out[:300]
    assert result.stderr.strip() == "", result.stderr[:1000]
    assert "R2 on held-out B, chain" in out and "R2 on held-out B, baseline" in out
    assert "reloaded predictions identical: True" in out
    # Progress during the long steps, and the verdicts as sentences.
    assert "training network A on A (5 epochs) ..." in out
    assert "grid search: 4 candidates x 2 folds = 8 fits" in out
    assert all(f"search: fit {k} of 8 done after" in out for k in range(1, 9))
    assert re.search(
        r"clean: no feature differs from A \(smallest adjusted p = [\d.e-]+; alarm"
        r" at 0.01\)",
        out,
    ), out
    assert re.search(
        r"leakage check: \d+ of 899 rows of B hold exactly the values of a row of A;"
        r" about [\d.]+ would by chance \(p = [\d.e-]+; alarm at 0.01\): clean",
        out,
    )
    assert (tmp_path / "chain.joblib").exists()
    for name in ("history.png", "shift.png"):
        figure = tmp_path / name
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert str(figure) in out


def test_console_script_runs():
    script = Path(sys.executable).parent / "skchain"
    if not script.exists():
        pytest.skip("skchain is not installed as a console script in this environment")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [str(script), "demo", "--help"], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("usage: skchain demo"), result.stdout[:300]
    assert result.stderr == ""
