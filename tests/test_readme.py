"""Every Python block of README.md runs, in order, on small real data.

Blocks share one namespace, like a notebook. A block preceded by
``<!-- readme-test: skip (reason) -->`` is left out, with its reason. The
namespace starts with what the README calls the user's data: ``X_a, y_a``
(dataset A), ``df_b, y_b, df_new`` (dataset B), ``PIXELS``, ``X``,
``trained_keras_model``, ``fitted_scaler``. It is a module named
``mypackage.networks``, so that functions the README defines there are the
ones its ``skchain.load(..., trusted=["mypackage.networks...."])`` names.
"""

import re
import sys
import types
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from skchain.demo import PIXELS, load_datasets

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- readme-test: skip \((?P<reason>[^)]*)\) -->\n)?```python\n(?P<code>.*?)```", re.S)


def _blocks():
    return [(m["code"], m["reason"]) for m in BLOCK.finditer(README.read_text())]


def _user_data():
    (X_a, y_a), (df_b, y_b) = load_datasets()
    X_a, y_a = X_a[:300], y_a[:300].astype(np.float32)
    df_b, y_b = df_b.iloc[:160].reset_index(drop=True), y_b[:160]
    rng = np.random.default_rng(0)
    df_b["city"] = rng.choice([f"c{i}" for i in range(30)], len(df_b))
    df_b["flag"] = rng.random(len(df_b)) > 0.5
    df_b["clicks"] = [list(rng.integers(1, 9, rng.integers(1, 6))) for _ in range(len(df_b))]
    inputs = keras.Input((64,))
    trained = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(8, name="embedding")(inputs)))
    return {
        "X_a": X_a, "y_a": y_a, "X": X_a[:5], "df_b": df_b, "y_b": y_b,
        "df_new": df_b.iloc[:7], "PIXELS": PIXELS,
        "trained_keras_model": trained, "fitted_scaler": StandardScaler().fit(X_a),
    }


def test_readme_has_the_blocks_this_test_expects():
    blocks = _blocks()
    assert len(blocks) >= 7
    assert sum(reason is not None for _, reason in blocks) == 2


def test_readme_code_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the README writes chain.joblib and chain.skchain
    package, module = types.ModuleType("mypackage"), types.ModuleType("mypackage.networks")
    package.networks = module
    monkeypatch.setitem(sys.modules, "mypackage", package)
    monkeypatch.setitem(sys.modules, "mypackage.networks", module)
    namespace = module.__dict__
    namespace.update(_user_data())
    ran = 0
    for i, (code, reason) in enumerate(_blocks(), start=1):
        if reason is not None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # drift/leakage checks of the small slices
            try:
                exec(compile(code, f"README.md block {i}", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the message is the point
                pytest.fail(f"README.md block {i} failed: {type(exc).__name__}: {exc}")
        ran += 1
    assert ran >= 5
    # What the blocks left behind is what they say.
    chain = namespace["chain"]
    assert chain.predict(namespace["df_new"]).shape == (7,)
