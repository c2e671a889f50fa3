"""The user's data are never changed.

``fit``, ``partial_fit``, ``predict``, ``predict_proba``, ``transform`` and
``score`` of every public estimator and of chains leave ``X``, ``y``,
``sample_weight``, ``X_val``, ``y_val``, a ``class_weight`` dict and the
user's own Keras network exactly as they were: read-only arrays go through,
and copies taken before compare equal after. And ``class_weight="balanced"``
counts rows by their weight, as scikit-learn does: a row of weight 0 is a
row left out.
"""

import copy

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import N_A_FEATURES, build_network_a, make_dataset_a
from sklearn.utils.class_weight import compute_class_weight

from skchain import (
    ChainClassifier,
    ChainRegressor,
    FineTune,
    FrozenTransformer,
    KerasTransformer,
    make_chain,
)
from skchain._weights import class_sample_weight

COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


def _read_only(*arrays):
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _assert_unchanged(before, after):
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=False):
        if isinstance(old, pd.DataFrame):
            pd.testing.assert_frame_equal(new, old)
        elif isinstance(old, pd.Series):
            pd.testing.assert_series_equal(new, old)
        elif isinstance(old, dict):
            assert new == old
        else:
            np.testing.assert_array_equal(new, old)
            assert new.dtype == old.dtype


def _rows(n_rows=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 3)).astype(np.float32)
    return X, (X @ np.array([1.0, -1.0, 0.5])).astype(np.float32), rng.uniform(0.5, 2, n_rows)


def _weights(n_rows):
    weight = np.linspace(0.5, 2.0, n_rows)
    weight[3] = 0.0
    return weight


# ------------------------------------------------------ network A, frozen
@pytest.mark.parametrize("frame", [False, True], ids=["read-only arrays", "frames"])
def test_network_a_and_frozen_transformer_leave_the_data_alone(frame):
    X, y = make_dataset_a(48)
    weight = _weights(48)
    if frame:
        X, y = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]), pd.Series(y)
    else:
        _read_only(X, y, weight)
    data = (X, y, weight)
    before = copy.deepcopy(data)
    pre = KerasTransformer(
        build_network_a, loss="mse", epochs=1, leakage_check="off", random_state=0
    )
    pre.fit(X, y, sample_weight=weight)
    pre.transform(X), pre.predict(X)
    frozen = FrozenTransformer(pre)
    frozen.fit(X).transform(X), frozen.fit_transform(X)
    _assert_unchanged(before, data)


# ------------------------------------------------------- final networks
def test_regressor_leaves_the_data_alone():
    X, y, weight = _rows()
    X_val, y_val, _ = _rows(12, seed=1)
    data = _read_only(X, y, weight, X_val, y_val)
    before = copy.deepcopy(data)
    reg = ChainRegressor(hidden_units=(4,), epochs=2, random_state=0)
    reg.fit(X, y, sample_weight=weight, X_val=X_val, y_val=y_val)
    reg.partial_fit(X, y, sample_weight=weight)
    reg.predict(X), reg.score(X, y, sample_weight=weight)
    ChainRegressor(hidden_units=(4,), epochs=1, early_stopping=True, random_state=0).fit(
        X, y, sample_weight=weight
    )
    _assert_unchanged(before, data)


@pytest.mark.parametrize(
    "class_weight, writeable",
    [
        (None, False),
        ("balanced", False),
        ("balanced", True),
        ({0: 1.0, 1: 3.0}, False),
    ],
    ids=["no class weight", "balanced, read-only", "balanced, compared", "dict"],
)
def test_classifier_leaves_the_data_and_class_weights_alone(class_weight, writeable):
    X, _, weight = _rows()
    X_val, _, _ = _rows(12, seed=1)
    y, y_val = (X[:, 0] > 0.4).astype(int), (X_val[:, 0] > 0.4).astype(int)
    data = (X, y, weight, X_val, y_val)
    if not writeable:
        _read_only(*data)
    before = copy.deepcopy(data)
    given = copy.deepcopy(class_weight)
    clf = ChainClassifier(
        hidden_units=(4,), epochs=2, class_weight=class_weight, early_stopping=True, random_state=0
    )
    clf.fit(X, y, sample_weight=weight, X_val=X_val, y_val=y_val)
    clf.partial_fit(X, y, sample_weight=weight)  # validation rows drawn from X
    clf.predict(X), clf.predict_proba(X), clf.decision_function(X)
    clf.score(X, y, sample_weight=weight)
    clf.joint_training_data(y, weight)
    _assert_unchanged(before, data)
    assert clf.class_weight == given and clf.get_params()["class_weight"] is class_weight


# ----------------------------------------------------------------- chains
@pytest.mark.parametrize("fine_tune", [None, FineTune(epochs=1)], ids=["frozen", "fine-tuned"])
@pytest.mark.parametrize("final", ["regressor", "balanced classifier"])
def test_chains_leave_the_data_alone(fitted_pre, dataset_b, fine_tune, final):
    df, y = dataset_b
    df, y = df.iloc[:60].copy(), y[:60].copy()
    if final == "regressor":
        estimator = ChainRegressor(hidden_units=(4,), epochs=1, random_state=0)
    else:
        estimator = ChainClassifier(
            hidden_units=(4,), epochs=1, class_weight="balanced", random_state=0
        )
        y = np.where(y > np.median(y), "high", "low")
    X_val, y_val = df.iloc[:15].copy(), y[:15].copy()
    weight = _weights(len(df))
    _read_only(y, weight, y_val)
    # A regressor's target as a Series (on the read-only array), a classifier's as it is.
    target = pd.Series(y, index=df.index, name="target") if final == "regressor" else y
    data = (df, y, weight, X_val, y_val, target)
    before = copy.deepcopy(data)
    chain = make_chain(
        fitted_pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=estimator,
        fine_tune=fine_tune,
    )
    chain.fit(df, target, X_val=X_val, y_val=y_val, regressor__sample_weight=weight)
    chain.predict(df), chain.score(df, target), chain[:-1].transform(df)
    if final != "regressor":
        chain.predict_proba(df)
    _assert_unchanged(before, data)
    if fine_tune is not None:
        assert chain.fine_tuned_["epochs"] == 1


# ------------------------------------------------- the user's own network
def _user_network():
    network = build_network_a({"n_features_in_": N_A_FEATURES})
    network.compile(optimizer="adam", loss="mse")
    return network, [w.copy() for w in network.get_weights()]


def _assert_same_weights(network, weights):
    for new, old in zip(network.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(new, old)


def test_fine_tuning_leaves_the_users_network_alone(dataset_b):
    df, y = dataset_b
    network, weights = _user_network()
    pre = KerasTransformer.from_model(network, output_layer="embedding")
    chain = make_chain(
        pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(hidden_units=(4,), epochs=1),
        fine_tune=FineTune(epochs=1),
    ).fit(df.iloc[:60], y[:60])
    assert chain.fine_tuned_["epochs"] == 1
    _assert_same_weights(network, weights)


def test_a_network_given_as_model_is_trained_as_a_copy():
    X, y = make_dataset_a(48)
    network, weights = _user_network()
    pre = KerasTransformer(network, output_layer="embedding", epochs=2, random_state=0).fit(X, y)
    assert pre.model_ is not network and pre.n_iter_ == 2
    _assert_same_weights(network, weights)
    assert not np.array_equal(pre.model_.get_weights()[0], weights[0])  # the copy trained
    inputs = keras.Input((3,))
    plain = keras.Model(inputs, keras.layers.Dense(1)(inputs))  # not compiled: the copy is
    kernel = plain.get_weights()[0].copy()
    X, y, _ = _rows()
    reg = ChainRegressor(plain, loss="mse", epochs=2, random_state=0).fit(X, y)
    reg.partial_fit(X, y)
    np.testing.assert_array_equal(plain.get_weights()[0], kernel)
    assert not plain.compiled and reg.model_ is not plain


# ------------------------------------------- balanced classes, weighted rows
def _imbalanced(n_rows=40):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n_rows, 3)).astype(np.float32)
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0.5, "rare", "common")
    return X, y


def test_balanced_class_weight_counts_rows_by_their_weight():
    _, y = _imbalanced()
    weight = np.random.default_rng(0).uniform(0, 3, len(y))
    weight[:4] = 0.0
    classes = np.unique(y)
    per_class = compute_class_weight("balanced", classes=classes, y=y, sample_weight=weight)
    expected = weight * per_class[np.searchsorted(classes, y)]
    np.testing.assert_allclose(class_sample_weight("balanced", y, weight), expected)
    keep = weight > 0
    np.testing.assert_allclose(
        class_sample_weight("balanced", y, weight)[keep],
        class_sample_weight("balanced", y[keep], weight[keep]),
    )
    # A class whose rows all weigh 0 is a class left out; its rows weigh 0.
    weight[y == "rare"] = 0.0
    np.testing.assert_array_equal(class_sample_weight("balanced", y, weight), weight)


def test_a_row_of_weight_zero_is_a_row_left_out_with_balanced_classes():
    X, y = _imbalanced()
    row = int(np.flatnonzero(y == "common")[0])
    weight = np.ones(len(y))
    weight[row] = 0.0
    keep = weight > 0

    def fitted(X, y, **kwargs):
        return ChainClassifier(
            hidden_units=(8,), epochs=3, class_weight="balanced", random_state=0
        ).fit(X, y, **kwargs)

    weighted = fitted(X, y, sample_weight=weight)
    left_out = fitted(X[keep], y[keep])
    np.testing.assert_allclose(weighted.predict_proba(X), left_out.predict_proba(X), atol=1e-5)
    # Fine-tuning folds the class weights in the same way.
    _, with_zero = weighted.joint_training_data(y, weight)
    _, without = weighted.joint_training_data(y[keep])
    np.testing.assert_allclose(with_zero[keep], without)
    assert with_zero[row] == 0.0
