"""Shared fixtures: tiny, seeded datasets and networks so the suite stays fast."""

import os
import subprocess
import sys
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from skchain import ChainRegressor, KerasTransformer, make_chain  # noqa: E402

N_A_FEATURES = 6


def build_network_a(meta, hidden=16, width=8):
    """A -> Dense(hidden) -> Dense(width, "embedding") -> Dense(1) head."""
    inputs = keras.Input((meta["n_features_in_"],), name="a_inputs")
    x = keras.layers.Dense(hidden, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(width, activation="relu", name="embedding")(x)
    outputs = keras.layers.Dense(1, name="head")(x)
    return keras.Model(inputs, outputs)


def make_dataset_a(n_rows=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, N_A_FEATURES)).astype(np.float32) * 3 + 1
    y = (X[:, 0] - 2 * X[:, 1] + X[:, 2] * X[:, 3] / 3).astype(np.float32)
    return X, y


def make_dataset_b(n_rows=180, seed=1):
    """Dataset B: A-like columns a0..a5, a categorical 'store', a numeric 'age'."""
    rng = np.random.default_rng(seed)
    X_a_like, signal = make_dataset_a(n_rows, seed=seed + 100)
    df = pd.DataFrame(X_a_like, columns=[f"a{i}" for i in range(N_A_FEATURES)])
    df["store"] = rng.choice(["north", "south", "east"], size=n_rows)
    df["age"] = rng.integers(20, 60, size=n_rows)
    y = signal + np.where(df["store"] == "north", 3.0, 0.0) + (df["age"] - 40) / 10
    return df, y.to_numpy(dtype=np.float64)


@pytest.fixture(scope="session")
def dataset_a():
    return make_dataset_a()


@pytest.fixture(scope="session")
def dataset_b():
    return make_dataset_b()


@pytest.fixture(scope="session")
def fitted_pre(dataset_a):
    X, y = dataset_a
    return KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="mse",
        epochs=15,
        batch_size=32,
        optimizer__learning_rate=0.01,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="session")
def fitted_chain(fitted_pre, dataset_b):
    """A chain fitted on dataset B; tests must not change it."""
    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=[f"a{i}" for i in range(N_A_FEATURES)],
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=2, random_state=0),
    )
    return chain.fit(df, y)


def run_fresh(script, cwd=None):
    """Run ``script`` in a fresh Python process (tests on the path); its stdout."""
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def record_filter_calls(monkeypatch):
    """Record every ``warnings.simplefilter``/``filterwarnings`` call from now on as
    ``(args, kwargs)`` (each still applied): a list the test reads afterwards."""
    import warnings

    calls = []
    for name in ("simplefilter", "filterwarnings"):
        real = getattr(warnings, name)

        def recording(*args, _real=real, **kwargs):
            calls.append((args, kwargs))
            return _real(*args, **kwargs)

        monkeypatch.setattr(warnings, name, recording)
    return calls


def exported_answers(chain, inputs, directory):
    """The chain exported as a SavedModel and as ONNX, each run on ``inputs`` (raveled arrays)."""
    import onnxruntime
    import tensorflow as tf

    chain.export(directory / "saved")
    served = tf.saved_model.load(str(directory / "saved"))  # kept: its variables live in it
    (saved,) = served.serve({k: tf.constant(v) for k, v in inputs.items()}).values()
    chain.export(directory / "chain.onnx", format="onnx")
    onnx = onnxruntime.InferenceSession(str(directory / "chain.onnx")).run(None, inputs)[0]
    return np.asarray(saved).ravel(), np.asarray(onnx).ravel()
