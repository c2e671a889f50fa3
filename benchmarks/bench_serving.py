"""Serving a fitted chain: chain.predict vs the exported SavedModel vs ONNX Runtime.

Usage::

    python benchmarks/bench_serving.py [--rows N] [--repeats R] [--quick]

Setup: the demo's data (``skchain.demo.load_datasets``: digits from
scikit-learn, 64 pixel columns for network A, a categorical ``store`` encoded
``"embed"``, a categorical ``colour`` encoded ``"onehot"``, a numeric ``age``)
and the demo's networks (network A 64-64-32-10, final network one branch per
block, hidden 64), briefly trained (quality does not matter here). The chain
is written three ways: ``joblib.dump``, ``chain.export(format="tf_saved_model")``
and ``chain.export(format="onnx")``.

Measured in one run:

* 1-row latency: median over 200 calls, a different row each call, after
  warm-up. ``chain.predict`` gets a one-row DataFrame; ONNX Runtime
  (``InferenceSession.run``) gets the row's input dict of NumPy arrays
  (``chain.serving_inputs``, prepared beforehand), the SavedModel
  (``tf.saved_model.load(path).serve``) the same as TensorFlow tensors (what
  TensorFlow Serving hands it), and once more as NumPy arrays converted in
  the timed call.
* rows/s at ``--rows`` rows (100,000): best of ``--repeats`` calls, each on
  a new batch (rows of B drawn with replacement, so that network A's output
  cache, keyed by the batch's content, never hits).
* cold start: a fresh Python process that imports what it needs, loads the
  artifact and predicts one row (wall time of the whole process, median of
  3): ``joblib.load`` + ``chain.predict``; ``tf.saved_model.load`` + ``serve``
  (no skchain imported); ``onnxruntime`` (neither skchain nor TensorFlow).

Targets (``TARGETS`` below, printed as ``target:`` lines by ``_targets.report``):
issue 14: ONNX Runtime 1-row latency <= 0.2x chain.predict's; ONNX Runtime cold
start <= 0.3x joblib's; SavedModel rows/s >= 0.9x chain.predict's. Issue 25:
chain.predict's 1-row latency <= 2x the fused graph's, the fused graph being the
chain's own exported graph (the SavedModel's ``serve``, fed tensors: network A,
the string lookups, the embedding, the one-hot encoding and the final network
in one TensorFlow graph). Only ratios measured in the same run are meaningful.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from _targets import report_target  # noqa: E402

LATENCY_TARGET = "demo chain: chain.predict 1 row latency / fused graph's (SavedModel)"
ORT_LATENCY_TARGET = "ONNX Runtime 1 row latency / chain.predict's"
ORT_COLD_TARGET = "ONNX Runtime cold start / joblib's"
SAVED_MODEL_RATE_TARGET = "SavedModel rows/s / chain.predict's"
TARGETS = {
    LATENCY_TARGET: ("<=", 2.0, "x"),
    ORT_LATENCY_TARGET: ("<=", 0.2, "x"),
    ORT_COLD_TARGET: ("<=", 0.3, "x"),
    SAVED_MODEL_RATE_TARGET: (">=", 0.9, "x"),
}


def build_chain(epochs):
    from skchain import ChainRegressor, KerasTransformer, make_chain
    from skchain.demo import PIXELS, build_network_a, load_datasets

    (X_a, y_a), (df_b, y_b) = load_datasets(0)
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="sparse_categorical_crossentropy",
        epochs=epochs,
        random_state=0,
        verbose=0,
    ).fit(X_a, y_a)
    chain = make_chain(
        pre,
        representation_columns=PIXELS,
        categorical_columns=["store", "colour"],
        numeric_columns=["age"],
        categorical_encoding={"store": "embed", "colour": "onehot"},
        regressor=ChainRegressor(
            hidden_units=(64,), branch_units=32, epochs=epochs, random_state=0
        ),
    )
    return chain.fit(df_b, y_b), df_b


def new_rows(df, n_rows, rng, pixels):
    # Rows drawn with replacement: every batch is new as a whole, so network A's
    # output cache (keyed by the batch's content) does not hit.
    return df.iloc[rng.integers(0, len(df), n_rows)].reset_index(drop=True)


def median_latency(call, n_calls=200):
    times = []
    for i in range(n_calls):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def best_time(call, inputs):
    times = []
    for x in inputs:
        start = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - start)
    return min(times)


COLD = {
    "joblib + chain.predict": """
        import joblib, pandas as pd
        chain = joblib.load("chain.joblib")
        chain.predict(pd.read_pickle("row.pkl"))
    """,
    "SavedModel (TensorFlow)": """
        import numpy as np, tensorflow as tf
        served = tf.saved_model.load("saved_model")
        row = {k: tf.constant(v.astype(object) if v.dtype.kind == "U" else v)
               for k, v in np.load("row.npz").items()}
        served.serve(row)
    """,
    "ONNX Runtime": """
        import numpy as np, onnxruntime
        session = onnxruntime.InferenceSession("chain.onnx")
        saved = np.load("row.npz")
        row = {k: v.astype(object) if v.dtype.kind == "U" else v for k, v in saved.items()}
        session.run(None, row)
    """,
}


def cold_start(code, where, repeats=3):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=where,
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, fewer calls")
    args = parser.parse_args()
    n_rows = args.rows or (20_000 if args.quick else 100_000)

    import onnxruntime
    import tensorflow as tf

    from skchain.demo import PIXELS

    chain, df_b = build_chain(epochs=2 if args.quick else 5)
    where = Path(tempfile.mkdtemp(prefix="bench_serving_"))
    joblib.dump(chain, where / "chain.joblib")
    chain.export(where / "saved_model")
    chain.export(where / "chain.onnx", format="onnx")
    served = tf.saved_model.load(str(where / "saved_model"))
    session = onnxruntime.InferenceSession(str(where / "chain.onnx"))

    def as_tensors(inputs):
        return {k: tf.constant(v) for k, v in inputs.items()}

    def saved_model(tensors):
        return served.serve(tensors)["predictions"]

    def saved_model_from_numpy(inputs):
        return saved_model(as_tensors(inputs))

    def onnx(inputs):
        return session.run(None, inputs)[0]

    rng = np.random.default_rng(0)
    single = new_rows(df_b, 200, rng, PIXELS)
    single_inputs = [chain.serving_inputs(single.iloc[[i]]) for i in range(len(single))]
    single.iloc[[0]].to_pickle(where / "row.pkl")
    np.savez(
        where / "row.npz",
        **{k: v.astype(str) if v.dtype == object else v for k, v in single_inputs[0].items()},
    )

    check = new_rows(df_b, 1000, rng, PIXELS)
    reference = chain.predict(check)
    check_inputs = chain.serving_inputs(check)
    scale = float(np.std(reference))
    errors = {
        "SavedModel": np.abs(np.asarray(saved_model_from_numpy(check_inputs)) - reference).max()
        / scale,
        "ONNX Runtime": np.abs(onnx(check_inputs) - reference).max() / scale,
    }

    single_tensors = [as_tensors(inputs) for inputs in single_inputs]
    for i in range(3):  # warm-up
        chain.predict(single.iloc[[i]]), saved_model(single_tensors[i]), onnx(single_inputs[i])
    latency = {
        "chain.predict": median_latency(lambda i: chain.predict(single.iloc[[i]])),
        "SavedModel": median_latency(lambda i: saved_model(single_tensors[i])),
        "SavedModel + to tensors": median_latency(
            lambda i: saved_model_from_numpy(single_inputs[i])
        ),
        "ONNX Runtime": median_latency(lambda i: onnx(single_inputs[i])),
    }

    frames = [new_rows(df_b, n_rows, rng, PIXELS) for _ in range(args.repeats + 1)]
    served_inputs = [chain.serving_inputs(frame) for frame in frames]
    served_tensors = [as_tensors(inputs) for inputs in served_inputs]
    chain.predict(frames[0]), saved_model(served_tensors[0]), onnx(served_inputs[0])  # warm-up
    throughput = {
        "chain.predict": n_rows / best_time(chain.predict, frames[1:]),
        "SavedModel": n_rows / best_time(saved_model, served_tensors[1:]),
        "SavedModel + to tensors": n_rows / best_time(saved_model_from_numpy, served_inputs[1:]),
        "ONNX Runtime": n_rows / best_time(onnx, served_inputs[1:]),
    }
    cold = {name: cold_start(code, where) for name, code in COLD.items()}

    print(
        f"chain: {len(PIXELS)} pixel columns -> network A, store (embed), colour (onehot),"
        f" age; {n_rows:,} rows for throughput"
    )
    print(f"{'path':<26}{'1-row latency':>15}{'rows/s':>14}   max |diff| / sd(pred)")
    for name, key in [
        ("chain.predict", "chain.predict"),
        ("SavedModel (tensors)", "SavedModel"),
        ("SavedModel (numpy inputs)", "SavedModel + to tensors"),
        ("ONNX Runtime", "ONNX Runtime"),
    ]:
        error = "reference" if key == "chain.predict" else f"{errors[key.split(' +')[0]]:.1e}"
        print(f"{name:<26}{latency[key] * 1e3:>12.2f} ms{throughput[key]:>14,.0f}   {error}")
    print("cold start (fresh process: imports, load, first 1-row prediction)")
    for name, seconds in cold.items():
        print(f"  {name:<32}{seconds:>8.2f} s")
    ort_latency = latency["ONNX Runtime"] / latency["chain.predict"]
    ort_cold = cold["ONNX Runtime"] / cold["joblib + chain.predict"]
    sm_rate = throughput["SavedModel"] / throughput["chain.predict"]
    print(
        "SavedModel rows/s vs chain.predict with the numpy -> tensor conversion in the timed"
        f" call: {throughput['SavedModel + to tensors'] / throughput['chain.predict']:.2f}x"
    )
    report_target(TARGETS, LATENCY_TARGET, latency["chain.predict"] / latency["SavedModel"])
    report_target(TARGETS, ORT_LATENCY_TARGET, ort_latency)
    report_target(TARGETS, ORT_COLD_TARGET, ort_cold)
    report_target(
        TARGETS,
        SAVED_MODEL_RATE_TARGET,
        sm_rate,
        note="" if n_rows == 100_000 else f"({n_rows} rows; the target is for 100,000)",
    )


if __name__ == "__main__":
    main()
