"""Early stopping, scikit-learn's way, on every network that trains; explicit validation rows."""

import numpy as np
import pytest
import sklearn
from conftest import N_A_FEATURES, build_network_a
from sklearn.model_selection import GridSearchCV

from skchain import ChainClassifier, ChainRegressor, FineTune, KerasTransformer, make_chain
from skchain._early_stopping import split_validation_rows

COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


def _noisy(n_rows=200, seed=0):
    """Few informative rows, much noise: a big network over-fits within a few epochs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 10)).astype(np.float32)
    y = (X[:, 0] + rng.normal(scale=2.0, size=n_rows)).astype(np.float32)
    return X, y


def test_regressor_stops_and_keeps_the_best_epoch():
    X, y = _noisy()
    reg = ChainRegressor(
        hidden_units=(128, 128),
        learning_rate=0.01,
        epochs=300,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X, y)
    history = reg.history_
    assert "val_loss" in history and len(history["val_loss"]) == reg.n_iter_
    assert reg.n_iter_ == reg.stopped_epoch_ < 300
    assert reg.best_epoch_ == int(np.argmin(history["val_loss"])) + 1
    assert reg.stopped_epoch_ - reg.best_epoch_ == 5  # patience, then stop
    # The kept weights are the best epoch's: refit without early stopping for exactly
    # best_epoch_ epochs on the same training rows would not match, but the validation
    # loss of the kept weights is the minimum recorded.
    train, held_out = split_validation_rows(len(X), 0.1, 0, None, "test")
    kept = np.mean((reg.predict(X[held_out]) - y[held_out]) ** 2)
    # val_loss is in the standardised target's units (target_scaler="standard").
    kept /= reg.target_scaler_.scale_[0] ** 2
    assert kept == pytest.approx(min(history["val_loss"]), rel=1e-4)


def test_validation_rows_are_drawn_from_the_rows_passed_to_fit():
    train, held_out = split_validation_rows(50, 0.2, 0, None, "test")
    assert len(held_out) == 10 and sorted([*train, *held_out]) == list(range(50))
    again = split_validation_rows(50, 0.2, 0, None, "test")
    np.testing.assert_array_equal(held_out, again[1])  # seeded
    other = split_validation_rows(50, 0.2, 1, None, "test")
    assert set(other[1]) != set(held_out)
    strata = np.array([0] * 40 + [1] * 10)
    _, stratified = split_validation_rows(50, 0.2, 0, strata, "test")
    assert (strata[stratified] == 1).sum() == 2  # 20% of each class


def test_classifier_early_stopping_is_stratified_and_seeded():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 10)).astype(np.float32)
    y = np.where(X[:, 0] + rng.normal(scale=1.5, size=150) > 1.2, "rare", "common")
    params = dict(
        hidden_units=(128, 128),
        learning_rate=0.01,
        epochs=200,
        early_stopping=True,
        n_iter_no_change=4,
        random_state=0,
    )
    first = ChainClassifier(**params).fit(X, y)
    second = ChainClassifier(**params).fit(X, y)
    assert first.n_iter_ < 200 and first.best_epoch_ <= first.stopped_epoch_
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_network_a_stops_early_too():
    X, y = _noisy()
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="mse",
        epochs=300,
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
        optimizer__learning_rate=0.01,
    ).fit(X, y)
    assert pre.n_iter_ < 300 and "val_loss" in pre.history_
    assert pre.best_epoch_ == int(np.argmin(pre.history_["val_loss"])) + 1


@pytest.mark.parametrize(
    "param, value",
    [
        ("validation_fraction", 1.5),
        ("validation_fraction", 0),
        ("n_iter_no_change", 0),
        ("tol", -1.0),
        ("early_stopping", "yes"),
    ],
)
def test_bad_settings_are_named(param, value):
    X, y = _noisy(40)
    with pytest.raises(ValueError, match=rf"ChainRegressor \(final network\): {param}="):
        ChainRegressor(epochs=2, **{"early_stopping": True, param: value}).fit(X, y)


def test_early_stopping_with_validation_split_is_refused():
    X, y = _noisy(40)
    with pytest.raises(ValueError, match="validation_split"):
        ChainRegressor(epochs=2, early_stopping=True, validation_split=0.2).fit(X, y)


def test_searchable(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=COLUMNS,
        regressor=ChainRegressor(epochs=40, random_state=0),
    )
    search = GridSearchCV(
        chain,
        {"regressor__early_stopping": [False, True], "regressor__n_iter_no_change": [2]},
        cv=2,
    ).fit(df, y)
    best = search.best_estimator_.named_steps["regressor"]
    assert best.n_iter_ <= 40


@pytest.mark.parametrize("routing", [False, True])
def test_explicit_validation_rows_through_the_chain(fitted_pre, dataset_b, routing):
    df, y = dataset_b
    train, held_out = slice(0, 140), slice(140, None)
    chain = make_chain(
        fitted_pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(
            epochs=60, early_stopping=True, n_iter_no_change=3, random_state=0
        ),
    )
    with sklearn.config_context(enable_metadata_routing=routing):
        chain.fit(df[train], y[train], X_val=df[held_out], y_val=y[held_out])
    final = chain.named_steps["regressor"]
    # All 140 rows trained (none drawn off), and the validation loss is the held-out rows'.
    assert final.history_["val_loss"]
    kept = np.mean((chain.predict(df[held_out]) - y[held_out]) ** 2)
    kept /= final.target_scaler_.scale_[0] ** 2  # val_loss is in standard units
    # The kept epoch's (improvements under tol=1e-4 do not count as better).
    assert kept == pytest.approx(final.history_["val_loss"][final.best_epoch_ - 1], rel=1e-4)
    assert len(final.history_["val_loss"]) == final.n_iter_
    with pytest.raises(ValueError, match="both X_val and y_val"):
        chain.fit(df, y, X_val=df[held_out])


def test_fine_tuning_stops_early(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = make_chain(
        fitted_pre,
        representation_columns=COLUMNS,
        regressor=ChainRegressor(epochs=5, random_state=0),
        fine_tune=FineTune(epochs=200, learning_rate=1e-2, early_stopping=True, n_iter_no_change=3),
    ).fit(df, y)
    done = chain.fine_tuned_
    assert done["epochs"] < 200 and "val_loss" in done["history"]
    assert done["best_epoch"] == int(np.argmin(done["history"]["val_loss"])) + 1
