"""Peak memory of ``chain.predict`` on a large DataFrame, float32 and float64.

Usage::

    python benchmarks/bench_memory.py [--rows N] [--quick]

``--rows`` defaults to 1,000,000 (200,000 with ``--quick``).

Target: predicting 1,000,000 rows raises peak resident memory by at most 2x
the float32 input's size (``rows * 132 * 4`` bytes, 528 MB; streaming in
chunks where that is what it takes), and float64 input costs no more than
one cast (its increase exceeds float32's by at most one float32 copy of the
input).

Setup (synthetic, seeded, the same design as ``bench_predict.py``, whose data
and network A are imported from it): network A ``Input(100) -> Dense(128,
relu, "hidden") -> Dense(128, "embedding") -> Dense(1)``, trained for one
epoch on 2,000 rows by ``skchain.KerasTransformer``; the chain
``skchain.make_chain(pre, representation_columns=a0..a99,
numeric_columns=n0..n31, regressor=ChainRegressor(hidden_units=(64,),
branch_units=64, epochs=1, random_state=0))`` fitted on 2,000 rows of
dataset B.

Each case (a float32 frame, a float64 frame) runs in a fresh child process
of this script, so that the peaks of the two cases do not mix. The child
trains network A, fits the chain, builds the big frame (``a0..a99`` standard
normal, ``n0..n31`` normal with mean 3 and scale 2, in the case's dtype),
predicts 100 of its rows once (so that tracing the compiled graph is not
counted), reads ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` ("before"),
predicts all rows, and reads it again ("after"); the increase is
``after - before`` (``ru_maxrss`` is in KiB on Linux).

``ru_maxrss`` is a high-water mark, not the current resident size: if
anything before the measurement had used more memory than the process holds
at "before" (a temporary float64 array while generating float32 data, or the
copy pandas 3 makes of an array given to ``DataFrame``), predict could use
that much again without moving the mark, and the increase would be
understated. So the child allocates the frame before the first reading, and
builds it without temporaries: one C-ordered array of the case's dtype,
filled in place chunk by chunk by ``Generator.standard_normal(out=...)``,
wrapped by ``pd.DataFrame(array, copy=False)``. The child also reports its
current resident size (``VmRSS``) at "before"; the printed slack
``ru_maxrss - VmRSS`` at that moment is how much of predict's increase could
be hidden (a few tens of MB from TensorFlow's start-up is normal).

The increase includes everything predict keeps or allocates: the working
memory of one chunk of rows (copies of the chunk's columns as float32 and
the networks' activations, independent of the row count beyond one chunk)
and the network A outputs that the frozen step's representation cache keeps
(at most 256 MiB). Both are fixed costs, so on fewer rows than the target's
1,000,000 the ratio to the input's size is larger.

Resident memory depends on the allocator and the libraries, not only on
skchain; the ratios to the input's size are what carry over.
"""

import argparse
import json
import os
import resource
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _targets import report_target  # noqa: E402
from bench_predict import (  # noqa: E402
    A_COLS,
    N_COLS,
    environment,
    fit_chain,
)

N_COLUMNS = len(A_COLS) + len(N_COLS)
FILL_ROWS = 65_536
WARMUP_ROWS = 100
TARGET_ROWS = 1_000_000
FLOAT32_TARGET = "peak RSS increase / float32 input, float32 frame"
FLOAT64_TARGET = "peak RSS increase / float32 input, float64 frame"
CAST_TARGET = "float64 frame's extra peak RSS / float32 input (one cast)"
TARGETS = {
    FLOAT32_TARGET: ("<=", 2.0, "x"),
    FLOAT64_TARGET: ("<=", 2.0, "x"),
    CAST_TARGET: ("<=", 1.0, "+x"),
}
DTYPES = ("float32", "float64")


# ------------------------------------------------------------------ child
def big_frame(rng, n_rows, dtype):
    """Dataset B's columns for ``n_rows`` rows, built with no temporary copies."""
    values = np.empty((n_rows, N_COLUMNS), dtype=dtype)
    n_a = len(A_COLS)
    for start in range(0, n_rows, FILL_ROWS):
        block = values[start : start + FILL_ROWS]
        rng.standard_normal(out=block, dtype=dtype)
        block[:, n_a:] *= 2.0
        block[:, n_a:] += 3.0
    return pd.DataFrame(values, columns=A_COLS + N_COLS, copy=False)


def max_rss_kib():
    """Peak resident size of this process so far (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_rss_kib():
    """Current resident size of this process (KiB), or None without /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def child(n_rows, dtype):
    """Measure one case in this process; print the result as one JSON line."""
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    _, chain = fit_chain(rng)
    frame = big_frame(rng, n_rows, dtype)
    chain.predict(frame.iloc[:WARMUP_ROWS])
    before, resident = max_rss_kib(), current_rss_kib()
    predictions = chain.predict(frame)
    after = max_rss_kib()
    result = {
        "before_kib": before,
        "resident_kib": resident,
        "after_kib": after,
        "frame_bytes": int(frame.memory_usage(index=False).sum()),
        "n_predictions": int(len(predictions)),
        "finite": bool(np.isfinite(predictions).all()),
    }
    print(json.dumps(result))


# ----------------------------------------------------------------- parent
def run_case(n_rows, dtype):
    """Run ``child`` in a fresh interpreter; return its result."""
    command = [sys.executable, os.path.abspath(__file__), "--rows", str(n_rows), "--child", dtype]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{dtype} case failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_args(argv=None):
    """Command-line options; ``--quick`` means 200,000 rows unless ``--rows`` is given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=None, help="rows predicted (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="200,000 rows unless --rows is given")
    parser.add_argument("--child", choices=DTYPES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = 200_000 if args.quick else TARGET_ROWS
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child(args.rows, args.child)
        return
    input_bytes = args.rows * N_COLUMNS * 4
    results = {dtype: run_case(args.rows, dtype) for dtype in DTYPES}

    print(
        f"{'frame':<8} {'frame MB':>9} {'before MB':>10} {'slack MB':>9} {'after MB':>9}"
        f" {'increase MB':>12}   (MB = 10^6 bytes)"
    )
    increases = {}
    for dtype, r in results.items():
        assert r["n_predictions"] == args.rows and r["finite"], r
        increases[dtype] = (r["after_kib"] - r["before_kib"]) * 1024
        slack = "n/a"
        if r["resident_kib"] is not None:
            # VmRSS can read a little above ru_maxrss, which is updated lazily.
            slack = f"{max(r['before_kib'] - r['resident_kib'], 0) * 1024 / 1e6:.0f}"
        print(
            f"{dtype:<8} {r['frame_bytes'] / 1e6:>9.0f} {r['before_kib'] * 1024 / 1e6:>10.0f}"
            f" {slack:>9} {r['after_kib'] * 1024 / 1e6:>9.0f} {increases[dtype] / 1e6:>12.0f}"
        )
    for dtype in DTYPES:
        frame = "" if dtype == "float32" else f", {dtype} frame"
        print(
            f"peak RSS increase predicting {args.rows} rows (float32 input"
            f" {input_bytes / 1e6:.0f} MB{frame}): {increases[dtype] / input_bytes:.1f}x input"
        )
    if args.rows != TARGET_ROWS:
        print(
            f"(the target is stated for {TARGET_ROWS:,} rows; the fixed costs above"
            f" weigh more on {args.rows:,})"
        )
    extra = (increases["float64"] - increases["float32"]) / input_bytes
    print(f"float64 frame: {extra:+.2f}x input over the float32 frame")
    note = "" if args.rows == TARGET_ROWS else f"({args.rows:,} rows; the target is for 1,000,000)"
    report_target(TARGETS, FLOAT32_TARGET, increases["float32"] / input_bytes, note)
    report_target(TARGETS, FLOAT64_TARGET, increases["float64"] / input_bytes, note)
    report_target(TARGETS, CAST_TARGET, extra, note)
    print(environment())


if __name__ == "__main__":
    main()
