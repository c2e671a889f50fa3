"""ChainRegressor: scikit-learn regressor semantics and the block-aware network."""

import keras
import numpy as np
import pandas as pd
import pytest
from scikeras.wrappers import KerasRegressor
from sklearn.base import is_regressor
from sklearn.model_selection import KFold, check_cv, cross_val_score
from sklearn.utils import get_tags

from skchain import ChainRegressor


def _linear_data(n=300, seed=0, n_outputs=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    coef = rng.normal(size=(5,) if n_outputs is None else (5, n_outputs))
    return X, X @ coef


def test_is_a_regressor_for_scikit_learn():
    reg = ChainRegressor()
    assert isinstance(reg, KerasRegressor)
    assert is_regressor(reg)
    assert get_tags(reg).estimator_type == "regressor"
    assert get_tags(reg).target_tags.required
    assert isinstance(check_cv(3, [0.0, 1.0, 2.0], classifier=is_regressor(reg) is False), KFold)


def test_learns_a_linear_function():
    X, y = _linear_data()
    reg = ChainRegressor(hidden_units=(32,), learning_rate=0.01, epochs=40, random_state=0)
    reg.fit(X[:200], y[:200])
    assert reg.history_["loss"][-1] < 0.1 * reg.history_["loss"][0]
    assert reg.score(X[200:], y[200:]) > 0.9
    assert reg.predict(X[:3]).dtype == np.float32


def test_cross_val_score_uses_r2_and_kfold():
    X, y = _linear_data(120)
    scores = cross_val_score(ChainRegressor(epochs=5, random_state=0), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all(scores <= 1.0)


def test_one_branch_per_block_of_a_column_transformer_output():
    rng = np.random.default_rng(0)
    names = ["representation__e0", "representation__e1", "categorical__s_a", "numeric__age"]
    X = pd.DataFrame(rng.normal(size=(40, 4)).astype(np.float32), columns=names)
    reg = ChainRegressor(branch_units=4, hidden_units=(8, 4), epochs=1, random_state=0).fit(
        X, X.sum(axis=1)
    )
    assert reg.input_blocks_ == [("representation", 0, 2), ("categorical", 2, 3), ("numeric", 3, 4)]
    layers = {layer.name for layer in reg.model_.layers}
    assert {
        "representation_branch",
        "categorical_branch",
        "numeric_branch",
        "merge",
        "hidden0",
        "hidden1",
        "output",
    } <= layers
    assert reg.model_.get_layer("hidden1").units == 4


def test_plain_arrays_are_one_block_and_branch_per_block_can_be_off():
    X, y = _linear_data(40)
    assert ChainRegressor(epochs=1).fit(X, y).input_blocks_ == [("features", 0, 5)]
    names = [f"a__{i}" for i in range(3)] + ["b__0", "b__1"]
    df = pd.DataFrame(X, columns=names)
    reg = ChainRegressor(epochs=1, branch_per_block=False).fit(df, y)
    assert reg.input_blocks_ == [("features", 0, 5)]


def test_multi_output_regression():
    X, Y = _linear_data(n_outputs=2)
    reg = ChainRegressor(hidden_units=(32,), learning_rate=0.01, epochs=30, random_state=0).fit(
        X[:200], Y[:200]
    )
    pred = reg.predict(X[200:])
    assert pred.shape == (100, 2)
    assert reg.score(X[200:], Y[200:]) > 0.8


def test_custom_model_builder_still_works():
    def build(meta, compile_kwargs):
        inputs = keras.Input((meta["n_features_in_"],))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(**compile_kwargs)
        return model

    X, y = _linear_data(60)
    reg = ChainRegressor(model=build, epochs=2, random_state=0).fit(X, y)
    assert len(reg.model_.layers) == 2
    assert reg.predict(X).shape == (60,)


def test_float64_input_after_float32_fit():
    X, y = _linear_data(60)
    reg = ChainRegressor(epochs=1, random_state=0).fit(X.astype(np.float32), y)
    np.testing.assert_array_equal(reg.predict(X), reg.predict(X.astype(np.float32)))


def test_same_random_state_same_predictions():
    X, y = _linear_data(80)

    def make():
        return ChainRegressor(epochs=3, dropout=0.2, random_state=3).fit(X, y)

    np.testing.assert_array_equal(make().predict(X), make().predict(X))


def test_learning_rate_reaches_the_optimizer():
    X, y = _linear_data(40)
    reg = ChainRegressor(learning_rate=0.05, epochs=1).fit(X, y)
    assert float(reg.model_.optimizer.learning_rate) == pytest.approx(0.05)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"hidden_units": (0,)}, "hidden_units=\\(0,\\)"),
        ({"hidden_units": "64"}, "hidden_units='64'"),
        ({"branch_units": -1}, "branch_units=-1"),
        ({"dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_bad_hyperparameters_are_named(params, message):
    X, y = _linear_data(20)
    with pytest.raises(ValueError, match=f"ChainRegressor.*{message}"):
        ChainRegressor(epochs=1, **params).fit(X, y)


def test_bad_targets_are_refused():
    X, y = _linear_data(20)
    with pytest.raises(ValueError, match="ChainRegressor.*inconsistent numbers of samples"):
        ChainRegressor(epochs=1).fit(X, y[:-1])
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="ChainRegressor.*NaN"):
        ChainRegressor(epochs=1).fit(X, y_nan)


def test_copies_and_pickles_keep_working_networks():
    import copy
    import pickle

    X = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    reg = ChainRegressor(epochs=1, random_state=0).fit(X, X.sum(axis=1))
    for make_copy in (copy.copy, copy.deepcopy, lambda r: pickle.loads(pickle.dumps(r))):
        other = make_copy(reg)
        np.testing.assert_array_equal(other.predict(X), reg.predict(X))
    assert copy.copy(reg).model_ is reg.model_  # a shallow copy shares the network
