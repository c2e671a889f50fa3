"""Domain adaptation of a frozen network A: ``FrozenTransformer(adapt=)``, ``make_chain(adapt=)``.

Each method on tiny networks trained for real: the adapted representation of
B's rows matches A's moments, covariance or BatchNormalization statistics; a
shifted copy of A's own rows is mapped back; the user's network A never
changes; inside a search only the training fold's rows reach the
adaptation; every path of an adapted chain (step by step, compiled predict,
to_keras, SavedModel, skchain.save, joblib) gives the same numbers.
"""

import io
import warnings

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from conftest import exported_answers
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold

import skchain
import skchain.frozen
from skchain import (
    ChainRegressor,
    DataShiftWarning,
    FineTune,
    FrozenTransformer,
    KerasTransformer,
    SequencePadder,
    make_chain,
)
from skchain.adaptation import adapted_inputs
from skchain.layers import InputAlignment

COLS = [f"a{i}" for i in range(4)]

# Several tests adapt network A to (transformed copies of) its own training rows,
# which the leakage check rightly reports; it is tested in test_leakage.py.
pytestmark = pytest.mark.filterwarnings("ignore::skchain.DataLeakageWarning")


def build_bn(meta):
    """Dense -> BatchNormalization -> relu -> Dense("embedding") -> head."""
    inputs = keras.Input((meta["n_features_in_"],), name="inputs")
    x = keras.layers.Dense(8, name="dense")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu", name="relu")(x)
    x = keras.layers.Dense(4, activation="tanh", name="embedding")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x))


def build_plain(meta):
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(4, activation="tanh", name="embedding")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x))


def dataset_a(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)) * [1, 2, 0.5, 3] + [0, 5, -1, 2], columns=COLS)
    return X, (X["a0"] - X["a1"] / 2 + X["a2"] * X["a3"] / 3).to_numpy(np.float32)


@pytest.fixture(scope="module")
def network():
    X, y = dataset_a()
    return KerasTransformer(
        build_bn,
        output_layer="embedding",
        loss="mse",
        epochs=6,
        optimizer__learning_rate=0.01,
        random_state=0,
    ).fit(X, y)


def shifted(X, scale=(2.0, 0.5, 3.0, 1.5), shift=(3.0, -4.0, 2.0, 1.0)):
    return X * list(scale) + list(shift)


def _weights(pre):
    return [w.copy() for w in pre.model_.get_weights()]


def test_standardize_maps_a_shifted_copy_of_a_back(network):
    X, _ = dataset_a()
    before = _weights(network)
    frozen = FrozenTransformer(network, adapt="standardize").fit(shifted(X))
    np.testing.assert_allclose(
        adapted_inputs(frozen.network_a(), shifted(X).to_numpy(np.float32)), X.to_numpy(), atol=1e-3
    )
    np.testing.assert_allclose(frozen.transform(shifted(X)), network.transform(X), atol=1e-4)
    # Unadapted, the same rows give another representation.
    unadapted = FrozenTransformer(network).transform(shifted(X))
    assert np.abs(unadapted - network.transform(X)).max() > 0.1
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(network), strict=False))
    assert frozen.network_a() is not network and frozen.network_a().model_ is not network.model_


def test_coral_aligns_the_covariance(network):
    X, _ = dataset_a()
    rng = np.random.default_rng(1)
    mix = np.diag([2.0, 0.5, 1.5, 1.0]) + rng.normal(scale=0.3, size=(4, 4))  # correlated, rescaled
    B = pd.DataFrame(X.to_numpy() @ mix + [1, 2, 3, 4], columns=COLS)
    frozen = FrozenTransformer(network, adapt="coral").fit(B)
    aligned = adapted_inputs(frozen.network_a(), B.to_numpy(np.float32)).astype(np.float64)
    cov_a, cov_b = np.cov(X.to_numpy(), rowvar=False), np.cov(aligned, rowvar=False)
    assert np.linalg.norm(cov_b - cov_a) / np.linalg.norm(cov_a) < 0.05
    np.testing.assert_allclose(aligned.mean(axis=0), X.mean(axis=0), atol=0.05)
    # Before alignment the covariances are far apart.
    assert np.linalg.norm(np.cov(B.to_numpy(), rowvar=False) - cov_a) / np.linalg.norm(cov_a) > 0.5
    # A per-feature rescaled copy of A's (nearly uncorrelated) rows comes back.
    back = FrozenTransformer(network, adapt="coral").fit(shifted(X))
    np.testing.assert_allclose(
        adapted_inputs(back.network_a(), shifted(X).to_numpy(np.float32)),
        X.to_numpy(),
        atol=0.15 * X.std().max(),
    )
    layer = back.network_a().model_.get_layer("adapt_coral")
    assert isinstance(layer, InputAlignment) and not layer.trainable_weights


def test_adabn_reestimates_batch_norm_on_b(network):
    X, _ = dataset_a()
    B = shifted(X)
    before = _weights(network)
    frozen = FrozenTransformer(network, adapt="adabn").fit(B)
    adapted = frozen.network_a().model_
    upto = keras.Model(adapted.inputs[0], adapted.get_layer("bn").input)
    seen = np.asarray(upto(network.scaled_inputs(B.to_numpy(np.float32))))
    bn = adapted.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), seen.mean(axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy(), seen.var(axis=0), rtol=1e-3, atol=1e-4)
    # The BN layer's outputs on B are standardised again, as on A.
    scaled_b = network.scaled_inputs(B.to_numpy(np.float32))
    after_bn = keras.Model(adapted.inputs[0], bn.output)(scaled_b)
    gamma, beta = bn.gamma.numpy(), bn.beta.numpy()
    np.testing.assert_allclose(np.asarray(after_bn).mean(axis=0), beta, atol=1e-3)
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(network), strict=False))
    own = network.model_.get_layer("bn").moving_mean.numpy()
    assert not np.allclose(own, bn.moving_mean.numpy())
    assert gamma.shape == (8,)


def test_adabn_needs_batch_norm_and_others_need_moments():
    X, y = dataset_a(200)
    plain = KerasTransformer(build_plain, loss="mse", epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="no BatchNormalization layer"):
        FrozenTransformer(plain, adapt="adabn").fit(X)
    wrapped = KerasTransformer.from_model(plain.model_, scaler=plain.scaler_)
    with pytest.raises(ValueError, match="training_rows=X_a"):
        FrozenTransformer(wrapped, adapt="coral").fit(X)
    with_rows = KerasTransformer.from_model(plain.model_, scaler=plain.scaler_, training_rows=X)
    FrozenTransformer(with_rows, adapt="coral").fit(shifted(X))
    with pytest.raises(ValueError, match="at least 2 rows"):
        FrozenTransformer(plain, adapt="standardize").fit(X.iloc[:1])
    with pytest.raises(ValueError, match="adapt"):
        FrozenTransformer(plain, adapt="mean").fit(X)


def test_adapted_step_needs_fit_and_refits_on_new_rows(network):
    X, _ = dataset_a()
    frozen = FrozenTransformer(network, adapt="standardize")
    with pytest.raises(NotFittedError, match="adapt='standardize'"):
        frozen.transform(X)
    assert frozen.__sklearn_tags__().requires_fit
    first = frozen.fit(shifted(X)).transform(X)
    second = frozen.fit(X).transform(X)
    np.testing.assert_allclose(second, network.transform(X), atol=1e-4)
    assert np.abs(first - second).max() > 0.1
    # set_params(adapt=None) goes back to the network as it is, at once.
    np.testing.assert_array_equal(frozen.set_params(adapt=None).transform(X), network.transform(X))


def _sequence_network(bn=True):
    rng = np.random.default_rng(0)
    lists = [list(rng.integers(1, 9, size=rng.integers(1, 6))) for _ in range(160)]
    padder = SequencePadder(maxlen=5)
    X = padder.fit_transform(pd.DataFrame({"tokens": lists}))

    def build(meta):
        inputs = keras.Input((5,))
        x = keras.layers.Embedding(10, 4, mask_zero=True, name="tokens")(inputs)
        x = keras.layers.BatchNormalization(name="bn")(x) if bn else x
        x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
        x = keras.layers.Dense(3, activation="tanh", name="embedding")(x)
        return keras.Model(inputs, keras.layers.Dense(1)(x))

    y = np.array([len(t) for t in lists], np.float32)
    pre = KerasTransformer(build, scaler=None, loss="mse", epochs=2, random_state=0).fit(X, y)
    return pre, padder, lists


def test_sequences_take_adabn_only():
    pre, padder, lists = _sequence_network()
    df = pd.DataFrame({"tokens": lists, "n": np.arange(len(lists), dtype=float)})
    y = np.arange(len(lists), dtype=float) % 7
    with pytest.raises(ValueError, match="adabn"):
        make_chain(
            pre,
            representation_columns=["tokens"],
            representation_padder=padder,
            numeric_columns=["n"],
            adapt="coral",
        )
    with pytest.raises(ValueError, match="reads sequences"):
        FrozenTransformer(pre, adapt="standardize").fit(padder.transform(df[["tokens"]]))
    # adabn: masked (padded) steps are left out of the statistics.
    rows = padder.transform(df[["tokens"]]).astype(np.float32)
    frozen = FrozenTransformer(pre, adapt="adabn").fit(rows)
    bn = frozen.network_a().model_.get_layer("bn")
    embedded = pre.model_.layers[1](rows).numpy()
    valid = rows > 0
    np.testing.assert_allclose(bn.moving_mean.numpy(), embedded[valid].mean(axis=0), atol=1e-5)
    chain = make_chain(
        pre,
        representation_columns=["tokens"],
        representation_padder=padder,
        numeric_columns=["n"],
        adapt="adabn",
        regressor=ChainRegressor(epochs=1, random_state=0),
    ).fit(df, y)
    np.testing.assert_allclose(
        chain.predict(df),
        np.asarray(chain.to_keras()(chain.serving_inputs(df))).ravel(),
        rtol=1e-4,
        atol=1e-4,
    )


def _b_frame(n=300, seed=3):
    X, _ = dataset_a(n, seed=seed)
    B = shifted(X)
    rng = np.random.default_rng(seed)
    B["store"] = rng.choice(["n", "s", "e"], size=n)
    B["age"] = rng.normal(40, 10, size=n)
    y = (X["a0"] - X["a1"] / 2 + (B["store"] == "n") * 2 + B["age"] / 20).to_numpy()
    return B, y


@pytest.mark.parametrize("adapt", ["standardize", "coral", "adabn"])
def test_every_path_of_an_adapted_chain_agrees(network, adapt, tmp_path):
    B, y = _b_frame()
    chain = make_chain(
        network,
        categorical_columns=["store"],
        numeric_columns=["age"],
        adapt=adapt,
        regressor=ChainRegressor(epochs=2, random_state=0),
    ).fit(B, y)
    assert chain.get_params()["features__representation__adapt"] == adapt
    new = _b_frame(40, seed=9)[0]
    features = chain.named_steps["features"]
    step_by_step = chain.named_steps["regressor"].predict(features.transform(new))
    compiled = chain.predict(new)
    np.testing.assert_allclose(compiled, step_by_step, rtol=1e-5, atol=1e-5)
    inputs = chain.serving_inputs(new)
    served = np.asarray(chain.to_keras()(inputs)).ravel()
    np.testing.assert_allclose(served, compiled, rtol=1e-5, atol=1e-5)
    # the adaptation differs from the frozen chain's representation
    frozen = features.named_transformers_["representation"]
    difference = np.asarray(frozen.transform(new[COLS])) - network.transform(new[COLS])
    assert np.abs(difference).max() > 1e-3
    skchain.save(chain, tmp_path / "chain.skchain")
    loaded = skchain.load(tmp_path / "chain.skchain", trusted=["test_adaptation.build_bn"])
    np.testing.assert_array_equal(loaded.predict(new), compiled)
    buffer = io.BytesIO()
    joblib.dump(chain, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(new), compiled)
    if adapt == "coral":
        for out in exported_answers(chain, inputs, tmp_path):  # SavedModel, ONNX
            np.testing.assert_allclose(out, compiled, rtol=1e-5, atol=1e-5)


def test_no_validation_row_reaches_the_adaptation(network, monkeypatch):
    B, y = _b_frame(240)
    B["age"] = np.arange(len(B), dtype=float)  # identifies a row by its age... and its a-columns
    seen = []
    original = skchain.frozen.adapt_network

    def spy(transformer, method, X, stage):
        seen.append(X.copy())
        return original(transformer, method, X, stage)

    monkeypatch.setattr(skchain.frozen, "adapt_network", spy)
    chain = make_chain(
        network, numeric_columns=["age"], regressor=ChainRegressor(epochs=1, random_state=0)
    )
    cv = KFold(3, shuffle=True, random_state=0)
    GridSearchCV(chain, {"features__representation__adapt": ["standardize", "coral"]}, cv=cv).fit(
        B, y
    )
    rows = B[COLS].to_numpy(np.float32)
    key = {r.tobytes(): i for i, r in enumerate(rows)}
    trains = [set(train) for train, _ in cv.split(B)]
    assert len(seen) == 2 * 3 + 1  # each candidate on each fold, then the refit
    for X in seen:
        used = {key[r.tobytes()] for r in X}
        assert used in trains or used == set(range(len(B)))
        if used != set(range(len(B))):
            test = set(range(len(B))) - used
            assert not used & test


def test_fine_tuning_starts_from_the_adapted_network(network):
    B, y = _b_frame()
    chain = make_chain(
        network,
        numeric_columns=["age"],
        adapt="coral",
        fine_tune=FineTune(epochs=1, learning_rate=1e-3),
        regressor=ChainRegressor(epochs=1, random_state=0),
    ).fit(B, y)
    adapted = make_chain(
        network,
        numeric_columns=["age"],
        adapt="coral",
        regressor=ChainRegressor(epochs=1, random_state=0),
    ).fit(B, y)
    tuned = chain.named_steps["features"].named_transformers_["representation"].network_a()
    fitted = adapted.named_steps["features"].named_transformers_["representation"].network_a()
    # the alignment is the one fitted on B's rows, untouched by the joint training
    np.testing.assert_array_equal(
        tuned.model_.get_layer("adapt_coral").kernel.numpy(),
        fitted.model_.get_layer("adapt_coral").kernel.numpy(),
    )
    assert "adapt_coral" not in chain.fine_tuned_["layers"]
    new = _b_frame(30, seed=11)[0]
    np.testing.assert_allclose(
        chain.predict(new),
        np.asarray(chain.to_keras()(chain.serving_inputs(new))).ravel(),
        rtol=1e-4,
        atol=1e-4,
    )


def test_searchable_per_network():
    X, y = dataset_a(300)
    left = KerasTransformer(build_bn, loss="mse", epochs=1, random_state=0).fit(X, y)
    right = KerasTransformer(build_plain, loss="mse", epochs=1, random_state=0).fit(X[COLS[:2]], y)
    chain = make_chain(
        representations={"left": left, "right": right},
        adapt={"left": "adabn"},
        regressor=ChainRegressor(epochs=1, random_state=0),
    )
    params = chain.get_params()
    assert params["features__left__adapt"] == "adabn" and params["features__right__adapt"] is None
    with pytest.raises(ValueError, match="not networks A"):
        make_chain(representations={"left": left}, adapt={"middle": "coral"})
    with pytest.raises(ValueError, match="network A 'right', which has no BatchNormalization"):
        make_chain(representations={"left": left, "right": right}, adapt="adabn")
    B, yb = _b_frame(150)
    search = GridSearchCV(chain, {"features__right__adapt": [None, "standardize"]}, cv=2)
    search.fit(B, yb)
    assert search.best_params_["features__right__adapt"] in (None, "standardize")


def test_drift_check_compares_with_the_rows_adapted_to(network):
    X, _ = dataset_a(400, seed=5)
    B = shifted(X)
    with pytest.warns(DataShiftWarning, match="adapt network A to B's rows"):
        FrozenTransformer(network).fit_transform(B)
    for adapt in ("standardize", "coral", "adabn"):
        frozen = FrozenTransformer(network, adapt=adapt)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataShiftWarning)
            frozen.fit_transform(B)  # the rows adapted to: no warning
            frozen.transform(shifted(dataset_a(300, seed=8)[0]))  # more rows like them: none
        report = frozen.shift_report(B)
        assert report["adjusted_p"].min() > 0.05
        # A change the adaptation did not see is reported, against the rows adapted to.
        bent = B.assign(a0=B["a0"] * 3 - 4)
        with pytest.warns(DataShiftWarning, match="unlike the rows network A was adapted to"):
            frozen.transform(bent)
        assert frozen.shift_report(bent).query("feature == 'a0'")["adjusted_p"].min() < 0.01
    # On unshifted rows of A's kind an adapted chain is as quiet as a frozen one: blank
    # (always 0) values and exact atoms are compared with B's own, not mapped onto A's.
    digits = np.round(np.clip(dataset_a(400, seed=6)[0], 0, None))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataShiftWarning)
        FrozenTransformer(network, adapt="coral").fit_transform(digits.assign(a2=0.0))
