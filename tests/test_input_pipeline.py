"""Seeded fits feed Keras through skchain's pipeline: the same training, no TensorFlow error line.

Each check runs in a fresh process: it seeds Keras and turns op determinism on,
as a seeded fit does, and TensorFlow writes its log lines to the process's stderr.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

PLAIN_AND_PIPELINE = """
import sys
import numpy as np, keras, tensorflow as tf
from skchain._input_pipeline import dataset_fit_arguments

mode, out, n, shuffle = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
shuffle = {"True": True, "False": False}.get(shuffle, shuffle)
rng = np.random.default_rng(0)
x1 = rng.random((n, 5)).astype("float32"); x2 = rng.random((n, 3)).astype("float32")
y = rng.random(n).astype("float32"); w = rng.random(n).astype("float32")
xv = [rng.random((37, 5)).astype("float32"), rng.random((37, 3)).astype("float32")]
yv = rng.random(37).astype("float32")
keras.utils.set_random_seed(0)
tf.config.experimental.enable_op_determinism()
a, b = keras.Input((5,)), keras.Input((3,))
h = keras.layers.Dropout(0.3)(keras.layers.Dense(8, activation="relu")(
    keras.layers.Concatenate()([a, b])))
model = keras.Model([a, b], keras.layers.Dense(1)(h))
model.compile("adam", "mse")
data = {"x": [x1, x2], "y": y, "sample_weight": w, "batch_size": 16, "shuffle": shuffle,
        "validation_data": (xv, yv)}
if mode == "pipeline":
    data.update(dataset_fit_arguments(**data))
history = model.fit(**data, epochs=3, verbose=0).history
np.save(out, np.concatenate([v.numpy().ravel() for v in model.weights]
                            + [np.asarray(history["val_loss"])]))
"""

CHAIN_FIT = """
import numpy as np, pandas as pd, keras
from skchain import ChainRegressor, KerasTransformer, make_chain

def build(meta):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu", name="embedding")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))

rng = np.random.default_rng(0)
X = rng.normal(size=(203, 4)).astype("float32")
pre = KerasTransformer(build, loss="mse", epochs=2, random_state=0).fit(X, X.sum(axis=1))
df = pd.DataFrame(rng.normal(size=(101, 4)), columns=["a", "b", "c", "d"])
chain = make_chain(pre, representation_columns=["a", "b", "c", "d"],
                   regressor=ChainRegressor(epochs=2, random_state=0, validation_split=0.2))
chain.fit(df, df["a"].to_numpy())
print("fitted")
"""


def _run(script, *args, tmp_path):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    # As a user runs it: TensorFlow's log level not set.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, str(path), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize(
    "n, shuffle",
    [
        (203, True),  # not a multiple of the batch size: Keras' last batch is partial
        (208, True),  # full batches only
        (5, "batch"),  # one partial batch, no full one; Keras' shuffling within batches
    ],
)
def test_the_pipeline_trains_exactly_as_keras_own(tmp_path, n, shuffle):
    args = (n, shuffle)
    _run(PLAIN_AND_PIPELINE, "plain", tmp_path / "plain.npy", *args, tmp_path=tmp_path)
    result = _run(
        PLAIN_AND_PIPELINE, "pipeline", tmp_path / "pipeline.npy", *args, tmp_path=tmp_path
    )
    # Multi-input, dropout, weights, shuffling, a partial last batch, validation data:
    # the same weights and validation losses, bit for bit.
    np.testing.assert_array_equal(
        np.load(tmp_path / "pipeline.npy"), np.load(tmp_path / "plain.npy")
    )
    assert "NodeDef mentions" not in result.stderr


def test_a_seeded_chain_fit_prints_no_tensorflow_error_line(tmp_path):
    result = _run(CHAIN_FIT, tmp_path=tmp_path)
    assert "fitted" in result.stdout
    assert "NodeDef mentions attribute" not in result.stderr, result.stderr[-2000:]
    assert "E0000" not in result.stderr, result.stderr[-2000:]
