"""Regression targets are standardised on the training rows and inverted wherever one predicts."""

import numpy as np
import pytest
from conftest import build_network_a
from sklearn.metrics import r2_score
from sklearn.preprocessing import QuantileTransformer

import skchain
from skchain import ChainRegressor, FineTune, KerasTransformer, make_chain

COLUMNS = [f"a{i}" for i in range(6)]


def _chain(pre, **regressor):
    return make_chain(
        pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=8, random_state=0, **regressor),
    )


def test_a_target_in_thousands_trains_like_the_same_target_in_units(fitted_pre, dataset_b):
    df, y = dataset_b
    train, test = slice(0, 130), slice(130, None)
    scores = {}
    for unit in (1.0, 1000.0):
        target = 4000.0 + unit * y  # dollars-like: a large mean and spread
        chain = _chain(fitted_pre).fit(df[train], target[train])
        scores[unit] = r2_score(target[test], chain.predict(df[test]))
    assert scores[1000.0] == pytest.approx(scores[1.0], abs=0.01)
    assert scores[1.0] > 0.5
    raw = _chain(fitted_pre, target_scaler=None).fit(df[train], 4000.0 + 1000.0 * y[train])
    assert r2_score(4000.0 + 1000.0 * y[test], raw.predict(df[test])) < scores[1000.0] - 0.5


def test_every_path_predicts_in_the_targets_units(fitted_pre, dataset_b, tmp_path):
    df, y = dataset_b
    target = np.column_stack([5000.0 + 800.0 * y, -3.0 * y])  # two outputs, other scales
    chain = make_chain(
        fitted_pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        regressor=ChainRegressor(epochs=3, random_state=0),
        fine_tune=FineTune(epochs=1),
    ).fit(df, target)
    step_by_step = chain[-1].predict(chain[:-1].transform(df))
    assert abs(step_by_step[:, 0].mean() - 5000.0) < 2000.0  # in dollars, not standard units
    np.testing.assert_allclose(chain.predict(df), step_by_step, rtol=1e-5, atol=5e-3)
    served = np.asarray(chain.to_keras()(chain.serving_inputs(df)))
    np.testing.assert_allclose(served, step_by_step, rtol=1e-5, atol=5e-3)
    skchain.save(chain, tmp_path / "chain.skchain")
    loaded = skchain.load(tmp_path / "chain.skchain", trusted=["conftest.build_network_a"])
    np.testing.assert_array_equal(loaded.predict(df), chain.predict(df))


def test_the_scaler_is_fitted_on_the_weighted_training_rows(fitted_pre, dataset_b):
    df, y = dataset_b
    weight = np.where(np.arange(len(y)) % 3 == 0, 0.0, 1.0 + (y > np.median(y)))
    chain = _chain(fitted_pre).fit(df, 100 * y, regressor__sample_weight=weight)
    scaler = chain.named_steps["regressor"].target_scaler_
    mean = np.average(100 * y, weights=weight)
    sd = np.sqrt(np.average((100 * y - mean) ** 2, weights=weight))
    np.testing.assert_allclose([scaler.mean_[0], scaler.scale_[0]], [mean, sd], rtol=1e-6)


def test_early_stopping_watches_the_validation_loss_in_scaled_units(fitted_pre, dataset_b):
    df, y = dataset_b
    target = 10_000.0 * y
    chain = _chain(fitted_pre, early_stopping=True, n_iter_no_change=2)
    chain.fit(df[:150], target[:150], X_val=df[150:], y_val=target[150:])
    history = chain.named_steps["regressor"].history_
    # In dollars the losses would be around 1e8; in standard units they are around 1.
    assert max(history["loss"]) < 10 and max(history["val_loss"]) < 10


def test_other_scalers_predict_but_only_standard_ones_are_served(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre, target_scaler=QuantileTransformer(n_quantiles=50)).fit(df, y)
    assert chain.predict(df).shape == (len(df),)
    np.testing.assert_allclose(
        chain.predict(df), chain[-1].predict(chain[:-1].transform(df)), rtol=1e-5, atol=1e-5
    )
    with pytest.raises(ValueError, match="target_scaler=QuantileTransformer cannot be served"):
        chain.to_keras()
    with pytest.raises(ValueError, match="target_scaler='robust'"):
        _chain(fitted_pre, target_scaler="robust").fit(df, y)


def test_network_a_standardises_a_continuous_target_and_leaves_labels_alone(dataset_a):
    X, y = dataset_a
    pre = KerasTransformer(build_network_a, loss="mse", epochs=30, random_state=0).fit(X, 1e4 * y)
    assert pre.target_scaler_.mean_[0] == pytest.approx(1e4 * y.mean(), rel=1e-5)
    assert r2_score(1e4 * y, pre.predict(X)) > 0.5  # in the target's units
    labels = (y > np.median(y)).astype(int)
    clf = KerasTransformer(
        build_network_a, loss="binary_crossentropy", epochs=1, random_state=0
    ).fit(X, labels)
    assert clf.target_scaler_ is None


def test_network_a_standardises_whole_dollars_under_a_regression_loss(dataset_a):
    """Prices in whole dollars look like class labels to type_of_target; the loss says better."""
    X, y = dataset_a
    dollars = np.round(4000 + 1000 * y)
    pre = KerasTransformer(build_network_a, loss="mse", epochs=1, random_state=0).fit(X, dollars)
    assert pre.target_scaler_ is not None
    assert pre.target_scaler_.mean_[0] == pytest.approx(dollars.mean(), rel=1e-6)
    counts = np.round(np.abs(y)).astype(int)  # another loss and whole numbers: left alone
    poisson = KerasTransformer(build_network_a, loss="poisson", epochs=1, random_state=0)
    assert poisson.fit(X, counts).target_scaler_ is None


def test_negative_weights_are_refused_before_any_step_is_fitted(fitted_pre, dataset_b):
    df, y = dataset_b
    weight = np.ones(len(y))
    weight[:3] = -1.0
    with pytest.raises(ValueError, match="3 negative weight"):
        _chain(fitted_pre).fit(df, y, regressor__sample_weight=weight)
    with pytest.raises(ValueError, match="negative weight"):
        ChainRegressor(epochs=1).fit(df[COLUMNS], y, sample_weight=weight)


def test_the_served_inverse_is_the_scalers_own_for_every_standard_scaler():
    """target_affine (the served model's inverse) equals inverse_transform, with_mean off too."""
    from sklearn.preprocessing import StandardScaler

    from skchain._target import target_affine, unscaled_outputs

    y = np.random.default_rng(0).normal(5000, 800, size=(50, 2))
    for scaler in (
        StandardScaler(),
        StandardScaler(with_mean=False),
        StandardScaler(with_std=False),
    ):
        scaler.fit(y)
        out = np.asarray(scaler.transform(y), np.float32)
        scale, shift = target_affine(scaler)
        np.testing.assert_allclose(out * scale + shift, y, rtol=1e-5)
        np.testing.assert_allclose(unscaled_outputs(scaler, out), y, rtol=1e-5)
