"""False alarms and power of the drift check once network A is adapted (issue 23).

Usage::

    python benchmarks/bench_adapt_drift.py

Once ``FrozenTransformer(adapt=...)`` has adapted network A to the rows it was
fitted on, the drift check compares new rows with those rows (their inputs and
the adapted network's outputs). This measures, on scikit-learn's bundled
digits, how often it warns on batches drawn from the same distribution as
those rows (false alarms; the documented rate is at most ``shift_alpha`` =
0.01) and on the same batches scaled by 1.3 (power).

Network A: Dense 32 -> BatchNormalization -> relu -> Dense 16 "embedding" ->
softmax 10, trained 15 epochs on 700 images (seeded). B: the other 1,097
images as they are ("unshifted") or scanned darker with lower contrast
(``clip(round(0.6 x + 4), 0, 16)``, "darker"); each step is adapted on 500 of
them, then 100 batches of 50 rows are drawn from the remaining 597. Printed:
one line per B and ``adapt``: whether the fit rows warned, false alarms out
of 100, batches scaled by 1.3 (clipped to 0..16) that warned out of 100.
Takes about 3 minutes on 2 cores.

Targets (``TARGETS`` below, printed as ``target:`` lines by ``_targets.report``):
the adapted steps' (``adapt`` not None, both Bs) false alarms average at most
``shift_alpha``; no adapted step warns on the rows it was adapted on.
"""

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _targets import report_target  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skchain import DataShiftWarning, FrozenTransformer, KerasTransformer  # noqa: E402

FALSE_ALARM_TARGET = "adapted steps' mean false-alarm rate (shift_alpha 0.01)"
FIT_ROWS_TARGET = "adapted steps that warned on their own fit rows"
TARGETS = {FALSE_ALARM_TARGET: ("<=", 0.01, "%"), FIT_ROWS_TARGET: ("<=", 0, "")}

digits = load_digits()
X, y = digits.data.astype(np.float32), digits.target
rng = np.random.default_rng(0)
order = rng.permutation(len(X))
A, B = order[:700], order[700:]


def build(meta):
    i = keras.Input((meta["n_features_in_"],))
    h = keras.layers.Dense(32, name="first")(i)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.Dense(16, activation="relu", name="embedding")(h)
    return keras.Model(i, keras.layers.Dense(10, activation="softmax")(h))


pre = KerasTransformer(
    build, loss="sparse_categorical_crossentropy", epochs=15, random_state=0
).fit(X[A], y[A])


def dark(x):
    """Scanned darker, with lower contrast."""
    return np.clip(np.round(0.6 * x + 4), 0, 16).astype(np.float32)


adapted_alarms, adapted_fit_warned = [], 0
for shift_name, f in [("unshifted", lambda x: x), ("darker", dark)]:
    fit_rows, pool = B[:500], B[500:]
    for adapt in (None, "standardize", "coral", "adabn"):
        step = FrozenTransformer(pre, adapt=adapt, cache_size=0)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            step.fit_transform(f(X[fit_rows]))
        fit_warned = any(issubclass(x.category, DataShiftWarning) for x in w)
        r = np.random.default_rng(1)
        alarms = power = 0
        n = 100
        for _ in range(n):
            batch = f(X[r.choice(pool, 50, replace=False)])
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                step.transform(batch)
            alarms += any(issubclass(x.category, DataShiftWarning) for x in w)
            with warnings.catch_warnings(
                record=True
            ) as w:  # power: a further shift (x*1.3, clipped)
                warnings.simplefilter("always")
                step.transform(np.clip(batch * 1.3, 0, 16).astype(np.float32))
            power += any(issubclass(x.category, DataShiftWarning) for x in w)
        print(
            f"B {shift_name}, adapt={adapt}: warned on its fit rows: {fit_warned}; "
            f"{alarms}/{n} batches of 50 from the same distribution warned; "
            f"{power}/{n} batches scaled by 1.3 warned",
            flush=True,
        )
        if adapt is not None:
            adapted_alarms.append(alarms / n)
            adapted_fit_warned += fit_warned

report_target(TARGETS, FALSE_ALARM_TARGET, float(np.mean(adapted_alarms)))
report_target(TARGETS, FIT_ROWS_TARGET, adapted_fit_warned)
