"""Sample weights reach every network that trains, directly and through metadata routing."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, cross_validate

from skchain import ChainRegressor, FineTune, KerasTransformer, make_chain

from conftest import N_A_FEATURES, build_network_a

COLUMNS = [f"a{i}" for i in range(N_A_FEATURES)]


def _chain(pre, fine_tune=None, **regressor):
    return make_chain(
        pre, representation_columns=COLUMNS, categorical_columns=["store"],
        regressor=ChainRegressor(epochs=4, batch_size=16, random_state=0, **regressor),
        fine_tune=fine_tune,
    )


@pytest.mark.parametrize("fine_tune", [None, FineTune(epochs=5, learning_rate=1e-3)],
                         ids=["frozen", "fine-tuned"])
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
            fitted_pre, representation_columns=COLUMNS, categorical_columns=["store"],
            numeric_columns=["age"], numeric_imputer="median",
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
