"""Seeded fits feed Keras through skchain's pipeline: Keras' first epoch, reshuffled epochs
after it, one iterator per fit, no TensorFlow error line.

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

mode, out, n, shuffle, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:]
epochs = int(epochs)
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
history = model.fit(**data, epochs=epochs, verbose=0).history
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
def test_the_first_epoch_trains_exactly_as_keras_own(tmp_path, n, shuffle):
    args = (n, shuffle, 1)
    _run(PLAIN_AND_PIPELINE, "plain", tmp_path / "plain.npy", *args, tmp_path=tmp_path)
    result = _run(
        PLAIN_AND_PIPELINE, "pipeline", tmp_path / "pipeline.npy", *args, tmp_path=tmp_path
    )
    # Multi-input, dropout, weights, shuffling, a partial last batch, validation data:
    # the same weights and validation loss, bit for bit.
    np.testing.assert_array_equal(
        np.load(tmp_path / "pipeline.npy"), np.load(tmp_path / "plain.npy")
    )
    assert "NodeDef mentions" not in result.stderr


def test_seeded_epochs_are_reshuffled_and_reproducible(tmp_path):
    args = (203, True, 3)
    for name in ("first.npy", "second.npy"):
        _run(PLAIN_AND_PIPELINE, "pipeline", tmp_path / name, *args, tmp_path=tmp_path)
    _run(PLAIN_AND_PIPELINE, "plain", tmp_path / "plain.npy", *args, tmp_path=tmp_path)
    first = np.load(tmp_path / "first.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "second.npy"), first)
    # Keras' own pipeline visits the rows in one order every epoch under a seed:
    # three epochs of reshuffled batches end elsewhere.
    assert not np.array_equal(first, np.load(tmp_path / "plain.npy"))


def _epoch_orders(rows, batch_size, shuffle, epochs):
    from skchain._input_pipeline import dataset_fit_arguments

    x = np.arange(rows, dtype=np.float32)[:, None]
    arguments = dataset_fit_arguments(x, x[:, 0], batch_size=batch_size, shuffle=shuffle)
    steps = arguments["steps_per_epoch"]
    assert steps == -(-rows // batch_size)
    iterator = iter(arguments["x"])  # one iterator, as Keras keeps it across epochs
    orders = []
    for _ in range(epochs):
        batches = [next(iterator)[0].numpy()[:, 0] for _ in range(steps)]
        assert [len(b) for b in batches[:-1]] == [batch_size] * (steps - 1)
        orders.append(np.concatenate(batches).astype(int))
    return orders


@pytest.mark.parametrize("shuffle", [True, "batch", False])
def test_one_iterator_gives_every_row_once_per_epoch(shuffle):
    from skchain._seeding import random_state_kept

    with random_state_kept(0):
        orders = _epoch_orders(203, 16, shuffle, epochs=3)
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(203))
    if shuffle is False:
        for order in orders:
            np.testing.assert_array_equal(order, np.arange(203))
    else:
        assert not np.array_equal(orders[0], orders[1])
        assert not np.array_equal(orders[1], orders[2])


def test_keras_makes_one_training_iterator_per_fit(monkeypatch):
    import keras
    import tensorflow as tf

    from skchain._input_pipeline import dataset_fit_arguments

    made = []
    original = tf.data.Dataset.__iter__

    def counted(dataset):
        made.append(dataset)
        return original(dataset)

    monkeypatch.setattr(tf.data.Dataset, "__iter__", counted)
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 3)).astype("float32"), rng.random(50).astype("float32")
    data = {"x": x[:40], "y": y[:40], "batch_size": 8, "validation_data": (x[40:], y[40:])}
    data.update(dataset_fit_arguments(**data))
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    history = model.fit(**data, epochs=4, verbose=0).history
    assert len(history["loss"]) == len(history["val_loss"]) == 4
    training = [d for d in made if d is data["x"]]
    validation = [d for d in made if d is data["validation_data"]]
    # Keras' own: two training iterators an epoch (one thrown away), and two validation ones.
    assert len(training) == 1
    assert len(validation) == 4  # evaluate starts over every epoch


def test_validation_rows_come_in_order_every_epoch():
    from skchain._input_pipeline import dataset_fit_arguments

    x = np.arange(100, dtype=np.float32)[:, None]
    arguments = dataset_fit_arguments(
        x[:60], x[:60, 0], batch_size=16, validation_data=(x[60:], x[60:, 0])
    )
    assert arguments["validation_steps"] == 3
    iterator = iter(arguments["validation_data"])
    for _ in range(2):
        rows = np.concatenate([next(iterator)[0].numpy()[:, 0] for _ in range(3)])
        np.testing.assert_array_equal(rows, np.arange(60, 100))


def test_steps_set_by_the_caller_keep_one_epoch_datasets():
    from skchain._input_pipeline import dataset_fit_arguments

    x = np.arange(100, dtype=np.float32)[:, None]
    arguments = dataset_fit_arguments(
        x[:60],
        x[:60, 0],
        batch_size=16,
        validation_data=(x[60:], x[60:, 0]),
        steps_per_epoch=2,
        validation_steps=1,
    )
    assert "steps_per_epoch" not in arguments and "validation_steps" not in arguments
    assert int(arguments["x"].cardinality()) == 4
    assert int(arguments["validation_data"].cardinality()) == 3


def test_a_seeded_chain_fit_prints_no_tensorflow_error_line(tmp_path):
    result = _run(CHAIN_FIT, tmp_path=tmp_path)
    assert "fitted" in result.stdout
    assert "NodeDef mentions attribute" not in result.stderr, result.stderr[-2000:]
    assert "E0000" not in result.stderr, result.stderr[-2000:]
