"""skchain.save / skchain.load of Keras callbacks, optimizers, losses and metrics as parameters."""

import json

import keras
import numpy as np
import pytest
from conftest import build_network_a, make_dataset_a, run_fresh

import skchain
from skchain import ChainClassifier, ChainRegressor, KerasTransformer, make_chain
from skchain._keras_objects import KerasObjectReference
from skchain.persistence import UntrustedFileError

A_COLUMNS = [f"a{i}" for i in range(6)]
BUILDER = "conftest.build_network_a"


@keras.saving.register_keras_serializable(package="skchain_tests")
class ScaledMSE(keras.losses.Loss):
    """A user's loss: Keras serializes it by get_config."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class StopBelow(keras.callbacks.Callback):
    """A user's callback: saved by its constructor argument."""

    def __init__(self, threshold=0.0):
        super().__init__()
        self.threshold = threshold

    def on_epoch_end(self, epoch, logs=None):
        if logs["loss"] < self.threshold:
            self.model.stop_training = True


class Unsaveable(keras.callbacks.Callback):
    """Keeps its argument under another name: cannot be rebuilt from attributes."""

    def __init__(self, path="log.txt"):
        super().__init__()
        self._path = path


def _config(obj):
    return json.dumps(keras.saving.serialize_keras_object(obj), sort_keys=True)


def _callbacks():
    return [
        keras.callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=0.01),
        keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1),
    ]


def _same_callbacks(loaded, original):
    assert [type(c) for c in loaded] == [type(c) for c in original]
    for got, want in zip(loaded, original, strict=False):
        for name in ("monitor", "patience", "factor", "start_from_epoch"):
            assert getattr(got, name, None) == getattr(want, name, None)
        assert got.min_delta == abs(want.min_delta)  # Keras flips its sign while training
        assert got.model is None  # configuration only, no training state


def _estimators():
    X, y = make_dataset_a(48)
    common = dict(
        epochs=2,
        batch_size=16,
        random_state=0,
        callbacks=_callbacks(),
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
    )
    return [
        (
            KerasTransformer(
                build_network_a,
                output_layer="embedding",
                loss=keras.losses.Huber(),
                metrics=[keras.metrics.MeanAbsoluteError()],
                **common,
            ),
            X,
            y,
            "transform",
        ),
        (
            ChainRegressor(
                loss=keras.losses.Huber(), metrics=[keras.metrics.MeanAbsoluteError()], **common
            ),
            X,
            y,
            "predict",
        ),
        (
            ChainClassifier(
                loss=keras.losses.BinaryCrossentropy(label_smoothing=0.1),
                metrics=[keras.metrics.AUC()],
                **common,
            ),
            X,
            y > 0,
            "predict_proba",
        ),
    ]


@pytest.mark.parametrize(
    "index", [0, 1, 2], ids=["KerasTransformer", "ChainRegressor", "ChainClassifier"]
)
def test_keras_objects_round_trip(index, tmp_path):
    estimator, X, y, method = _estimators()[index]
    skchain.save(estimator, tmp_path / "unfitted.skchain")
    unfitted = skchain.load(tmp_path / "unfitted.skchain", trusted=[BUILDER])
    assert _config(unfitted.optimizer) == _config(estimator.optimizer)
    estimator.fit(X, y)
    held = dict(vars(estimator))
    skchain.save(estimator, tmp_path / "fitted.skchain")
    assert vars(estimator) == held and all(vars(estimator)[k] is v for k, v in held.items())
    loaded = skchain.load(tmp_path / "fitted.skchain", trusted=[BUILDER])
    np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(estimator, method)(X))
    _same_callbacks(loaded.callbacks, estimator.callbacks)
    assert loaded._fit_callbacks[0] is loaded.callbacks[0]  # one object, as before saving
    for name in ("optimizer", "loss"):
        assert type(getattr(loaded, name)) is type(getattr(estimator, name))
        assert _config(getattr(loaded, name)) == _config(getattr(estimator, name))
    assert [_config(m) for m in loaded.metrics] == [_config(m) for m in estimator.metrics]
    assert loaded.fit(X, y).n_iter_ >= 1  # refits with the rebuilt objects


def test_chain_with_early_stopping_loads_in_a_fresh_process(fitted_pre, dataset_b, tmp_path):
    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(
            epochs=3,
            random_state=0,
            callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=2)],
        ),
    ).fit(df, y)
    skchain.save(chain, tmp_path / "chain.skchain")  # was a RecursionError
    np.save(tmp_path / "expected.npy", chain.predict(df))
    df.to_pickle(tmp_path / "df.pkl")
    out = run_fresh(f"""
        import keras, numpy as np, pandas as pd, skchain
        chain = skchain.load({str(tmp_path / "chain.skchain")!r}, trusted=[{BUILDER!r}])
        df = pd.read_pickle({str(tmp_path / "df.pkl")!r})
        assert np.array_equal(chain.predict(df), np.load({str(tmp_path / "expected.npy")!r}))
        [stopper] = chain[-1].callbacks
        assert type(stopper) is keras.callbacks.EarlyStopping, type(stopper)
        settings = (stopper.monitor, stopper.patience, stopper.min_delta)
        assert settings == ("loss", 2, 0), vars(stopper)
        print("identical")
    """)
    assert "identical" in out
    loaded = skchain.load(tmp_path / "chain.skchain", trusted=[BUILDER])
    assert loaded.fit(df, y).predict(df).shape == (len(df),)  # refits with the rebuilt callback
    assert loaded[-1].n_iter_ >= 1 and chain[-1].callbacks[0] is not loaded[-1].callbacks[0]


def test_unsaveable_objects_raise_naming_the_parameter(fitted_pre, tmp_path):
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    early, lam = keras.callbacks.EarlyStopping(), keras.callbacks.LambdaCallback(on_epoch_end=print)
    regressor = ChainRegressor(optimizer=optimizer, callbacks=[early, lam])
    chain = make_chain(fitted_pre, representation_columns=A_COLUMNS, regressor=regressor)
    held = dict(vars(regressor))
    with pytest.raises(
        ValueError,
        match=r"ChainRegressor parameter 'callbacks'\[1\]: LambdaCallback"
        r" cannot be saved by Keras' serialization.*joblib",
    ):
        skchain.save(chain, tmp_path / "chain.skchain")
    # The chain is left exactly as it was, though the optimizer had been swapped.
    assert vars(regressor) == held and regressor.optimizer is optimizer
    assert regressor.callbacks[0] is early and regressor.callbacks[1] is lam
    cases = [
        (
            ChainRegressor(loss=keras.losses.Huber(delta=2.0)),
            r"parameter 'loss': Huber.*\['delta'\]",
        ),
        (
            ChainClassifier(callbacks={"log": Unsaveable()}),
            r"parameter 'callbacks'\['log'\]: Unsaveable",
        ),
        (
            KerasTransformer(build_network_a, metrics=[keras.layers.Dense(2)]),
            r"KerasTransformer parameter 'metrics'\[0\]: Dense",
        ),
    ]
    for estimator, message in cases:
        with pytest.raises(ValueError, match=message):
            skchain.save(estimator, tmp_path / "estimator.skchain")


def test_user_classes_load_only_when_trusted(tmp_path):
    X, y = make_dataset_a(32)
    regressor = ChainRegressor(
        epochs=1, random_state=0, loss=ScaledMSE(2.0), callbacks=[StopBelow(0.5)]
    ).fit(X, y)
    skchain.save(regressor, tmp_path / "regressor.skchain")
    names = [f"{__name__}.ScaledMSE", f"{__name__}.StopBelow"]
    with pytest.raises(
        UntrustedFileError, match=r"parameter 'callbacks'\[0\].*StopBelow.*not trusted"
    ):
        skchain.load(tmp_path / "regressor.skchain", trusted=names[:1])
    with pytest.raises(UntrustedFileError, match=r"parameter 'loss'.*ScaledMSE.*not trusted"):
        skchain.load(tmp_path / "regressor.skchain", trusted=names[1:])
    loaded = skchain.load(tmp_path / "regressor.skchain", trusted=names)
    assert type(loaded.loss) is ScaledMSE and loaded.loss.scale == 2.0
    assert type(loaded.callbacks[0]) is StopBelow and loaded.callbacks[0].threshold == 0.5
    np.testing.assert_array_equal(loaded.predict(X), regressor.predict(X))


def test_tampered_keras_configs_are_refused(tmp_path):
    def archive(config, callback=False):
        reference = KerasObjectReference(
            json.dumps(config), callback, "ChainRegressor parameter 'loss'"
        )
        skchain.save(ChainRegressor(loss=reference), tmp_path / "tampered.skchain")
        return tmp_path / "tampered.skchain"

    system = {
        "module": "posix",
        "class_name": "function",
        "config": "system",
        "registered_name": None,
    }
    with pytest.raises(UntrustedFileError, match=r"\['posix.system'\], which are not trusted"):
        skchain.load(archive(system))
    lam = {"class_name": "__lambda__", "config": {"value": "code"}}
    with pytest.raises(UntrustedFileError, match="__lambda__"):
        skchain.load(archive(lam))
    # Keras' callbacks that write files are not trusted unless named.
    backup = {
        "module": "keras.callbacks",
        "class_name": "BackupAndRestore",
        "config": {"backup_dir": str(tmp_path / "b")},
        "registered_name": None,
    }
    with pytest.raises(UntrustedFileError, match=r"keras.callbacks.BackupAndRestore"):
        skchain.load(archive(backup, callback=True))
    loaded = skchain.load(
        archive(backup, callback=True), trusted=["keras.callbacks.BackupAndRestore"]
    )
    assert type(loaded.loss) is keras.callbacks.BackupAndRestore
    # Only callbacks are built from constructor arguments.
    adam = {
        "module": "keras.optimizers",
        "class_name": "Adam",
        "config": {},
        "registered_name": None,
    }
    with pytest.raises(UntrustedFileError, match="not a Keras callback"):
        skchain.load(archive(adam, callback=True))
