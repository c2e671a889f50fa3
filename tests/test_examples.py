"""The scripts in examples/ run end to end in their fast mode."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script, *args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--fast", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_frozen_features_digits(tmp_path):
    out = _run("frozen_features_digits.py", "--output", str(tmp_path))
    assert "cross-validated R2" in out and "held-out R2" in out
    assert (tmp_path / "frozen_features_history.png").exists()


def test_high_cardinality_categoricals(tmp_path):
    out = _run("high_cardinality_categoricals.py", "--output", str(tmp_path))
    for encoding in ("onehot", "hash", "embed"):
        assert f"\n{encoding}" in out
    assert "learned writer embeddings" in out
    assert (tmp_path / "writer_embeddings.png").exists()


def test_fine_tuning():
    out = _run("fine_tuning.py")
    assert "frozen" in out and "fine-tuned" in out and "fine-tuned layers" in out


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_is_documented(script):
    text = (EXAMPLES / script).read_text()
    assert text.startswith('"""') and "Usage::" in text and "--fast" in text


def test_classification_digits():
    out = _run("classification_digits.py")
    assert "flagged" in out
    assert "class_weight=None" in out and "class_weight=balanced" in out
    assert out.count("recall of 'flagged'") == 2


def test_two_networks():
    out = _run("two_networks.py")
    scores = {}
    for line in out.splitlines():
        if line.strip().startswith("chain, network A"):
            name, score = line.strip()[len("chain, network A ") :].rsplit(maxsplit=1)
            scores[name.strip()] = float(score)
    assert set(scores) == {
        "'top' only",
        "'bottom' only",
        "'top' + 'bottom'",
        "'top' + 'bottom', 'bottom' fine-tuned",
    }
    assert all(0 < score <= 1 for score in scores.values())
    assert "HistGradientBoosting on B's raw columns" in out
    assert "fine-tuned: ['bottom']" in out
