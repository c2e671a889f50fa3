"""Sample weights reach every network that trains, directly and through metadata routing."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from conftest import N_A_FEATURES, build_network_a
from sklearn.model_selection import GridSearchCV, cross_validate

from skchain import ChainClassifier, ChainRegressor, FineTune, KerasTransformer, make_chain

COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


def _chain(pre, fine_tune=None, **regressor):
    return make_chain(
        pre,
        representation_columns=COLUMNS,
        categorical_columns=["store"],
        regressor=ChainRegressor(epochs=4, batch_size=16, random_state=0, **regressor),
        fine_tune=fine_tune,
    )


@pytest.mark.parametrize(
    "fine_tune", [None, FineTune(epochs=5, learning_rate=1e-3)], ids=["frozen", "fine-tuned"]
)
def test_zero_weight_is_a_dropped_row(fitted_pre, dataset_b, fine_tune):
    df, y = dataset_b
    weight = np.ones(len(df))
    weight[::2] = 0.0
    keep = weight > 0
    weighted = _chain(fitted_pre, fine_tune).fit(df, y, regressor__sample_weight=weight)
    dropped = _chain(fitted_pre, fine_tune).fit(df[keep].reset_index(drop=True), y[keep])
    unweighted = _chain(fitted_pre, fine_tune).fit(df, y)
    got, expected = weighted.predict(df), dropped.predict(df)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    # ... and the weights mattered: the unweighted chain is far from both.
    assert np.abs(unweighted.predict(df) - expected).max() > 100 * np.abs(got - expected).max()
    if fine_tune is not None:
        assert weighted.fine_tuned_["epochs"] == 5


def test_weights_change_network_a_training(dataset_a):
    X, y = dataset_a
    weight = np.where(X[:, 0] > 1, 5.0, 0.2)
    kwargs = dict(output_layer="embedding", loss="mse", epochs=3, random_state=0)
    plain = KerasTransformer(build_network_a, **kwargs).fit(X, y)
    weighted = KerasTransformer(build_network_a, **kwargs).fit(X, y, sample_weight=weight)
    assert not np.allclose(plain.transform(X), weighted.transform(X))


@pytest.mark.parametrize("where", ["chain", "regressor", "network A"])
def test_wrong_length_is_a_named_error(fitted_pre, fitted_chain, dataset_a, dataset_b, where):
    df, y = dataset_b
    X_a, y_a = dataset_a
    before = fitted_chain.predict(df)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(5,\) for \d+ rows"):
        if where == "chain":
            fitted_chain.fit(df, y, regressor__sample_weight=np.ones(5))
        elif where == "regressor":
            ChainRegressor(epochs=1).fit(df[COLUMNS], y, sample_weight=np.ones(5))
        else:
            KerasTransformer(build_network_a, loss="mse").fit(X_a, y_a, sample_weight=np.ones(5))
    np.testing.assert_array_equal(fitted_chain.predict(df), before)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_routing_cross_validate_and_search_with_weights_on_the_final_stage(
    routing, fitted_pre, dataset_b
):
    df, y = dataset_b
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(df))

    def chain():
        return make_chain(
            fitted_pre,
            representation_columns=COLUMNS,
            categorical_columns=["store"],
            numeric_columns=["age"],
            numeric_imputer="median",
            regressor=ChainRegressor(epochs=2, random_state=0).set_fit_request(sample_weight=True),
        )

    scores = cross_validate(chain(), df, y, params={"sample_weight": weight}, cv=2)
    assert np.isfinite(scores["test_score"]).all()
    search = GridSearchCV(chain(), {"regressor__hidden_units": [(4,), (8,)]}, cv=2)
    search.fit(df, y, sample_weight=weight)
    assert search.best_params_["regressor__hidden_units"] in [(4,), (8,)]
    # The weights did reach the final network.
    weighted = chain().fit(df, y, sample_weight=weight).predict(df)
    unweighted = chain().fit(df, y).predict(df)
    assert not np.allclose(weighted, unweighted)


WEIGHT_ZERO_CASES = {
    # what the weight-0 rows would change if they counted
    "numeric scaler": dict(numeric_columns=["age"]),
    "numeric imputer": dict(numeric_columns=["age"], numeric_imputer="median", missing_age=True),
    "level only in weight-0 rows": dict(categorical_encoding="embed", lonely_level=True),
    "'auto' encoding choice": dict(
        categorical_encoding="auto", max_onehot_levels=3, lonely_level=True
    ),
    "balanced class weights": dict(classifier=dict(class_weight="balanced")),
    "early stopping": dict(regressor=dict(early_stopping=True, validation_fraction=0.2)),
    "fine-tuning with early stopping": dict(
        numeric_columns=["age"],
        fine_tune=FineTune(
            epochs=3,
            learning_rate=1e-3,
            early_stopping=True,
            validation_fraction=0.2,
            n_iter_no_change=1,
        ),
    ),
}


@pytest.mark.parametrize("case", list(WEIGHT_ZERO_CASES))
def test_weight_zero_is_the_row_left_out_in_every_configuration(fitted_pre, dataset_b, case):
    """The README's promise, for every part a weight-0 row could reach."""
    settings = dict(WEIGHT_ZERO_CASES[case])
    df, y = dataset_b
    df = df.copy()
    weight = np.ones(len(df))
    weight[1::3] = 0.0
    weight[::7] = 2.5
    if settings.pop("missing_age", False):
        df["age"] = df["age"].astype(float)
        df.loc[df.index[::5], "age"] = np.nan
    # A far-off age and a store level that only weight-0 rows hold.
    df.loc[df.index[1], "age"] = 10_000
    if settings.pop("lonely_level", False):
        df.loc[df.index[[1, 4, 7]], "store"] = "only_in_weight_zero_rows"
    classifier = settings.pop("classifier", None)
    regressor = settings.pop("regressor", {})
    final = (
        dict(classifier=ChainClassifier(epochs=3, batch_size=16, random_state=0, **classifier))
        if classifier is not None
        else dict(regressor=ChainRegressor(epochs=3, batch_size=16, random_state=0, **regressor))
    )
    target = np.where(y > np.quantile(y, 0.7), "high", "low") if classifier is not None else y
    step = "classifier" if classifier is not None else "regressor"
    settings.setdefault("categorical_columns", ["store"])

    def chain():
        return make_chain(fitted_pre, representation_columns=COLUMNS, **settings, **final)

    df_before, weight_before = df.copy(), weight.copy()
    weighted = chain().fit(df, target, **{f"{step}__sample_weight": weight})
    keep = weight > 0
    left_out = chain().fit(df[keep], target[keep], **{f"{step}__sample_weight": weight[keep]})
    answer = "predict_proba" if classifier is not None else "predict"
    np.testing.assert_allclose(
        getattr(weighted, answer)(df), getattr(left_out, answer)(df), rtol=1e-6, atol=1e-6
    )
    assert weighted.categorical_encodings_ == left_out.categorical_encodings_
    pd.testing.assert_frame_equal(df, df_before)  # the caller's data are untouched
    np.testing.assert_array_equal(weight, weight_before)
