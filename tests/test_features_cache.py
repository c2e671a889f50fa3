"""A search fits each split's features step once: the fitted step kept by its parameters and rows.

``skchain._features_cache`` and its key (``skchain._features_key``): what a
hit gives the chain (a copy of the fitted state in its own step object,
network A shared, the warnings of the fit), what is never cached, and that
every result equals the same fit without the cache (``memory=joblib.Memory(None)``,
the opt-out a ``Pipeline`` user knows).
"""

import copy
import pickle
import warnings

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from conftest import N_A_FEATURES, build_network_a
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skchain import Chain, ChainRegressor, DataLeakageWarning, KerasTransformer, make_chain
from skchain._features_cache import features_cache
from skchain._features_key import Uncacheable, content_key, parameters_key

A_COLS = [f"a{i}" for i in range(N_A_FEATURES)]


def make(pre, **chain_params):
    chain = make_chain(
        pre,
        representation_columns=A_COLS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=2, batch_size=64, random_state=0),
    )
    return chain.set_params(**chain_params)


def uncached(pre, **chain_params):
    """The same chain with joblib's memory set (and no location): nothing is cached."""
    return make(pre, memory=joblib.Memory(None, verbose=0), **chain_params)


def features_out(chain, df):
    return chain[:-1].transform(df)


def frozen_of(chain):
    return chain.named_steps["features"].named_transformers_["representation"]


def test_a_search_fits_the_features_step_once_per_split_with_the_same_results(
    fitted_pre, dataset_b
):
    df, y = dataset_b
    grid = {"regressor__learning_rate": [1e-3, 1e-2]}
    chain = make(fitted_pre)
    cached = GridSearchCV(chain, grid, cv=2).fit(df, y)
    # 2 candidates x 2 splits and the refit: each split's rows and the refit's fitted once.
    assert features_cache(chain).info() == {"hits": 2, "misses": 3, "entries": 3}

    plain_chain = uncached(fitted_pre)
    plain = GridSearchCV(plain_chain, grid, cv=2).fit(df, y)
    assert features_cache(plain_chain).info()["misses"] == 0  # never consulted
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(cached.cv_results_[key], plain.cv_results_[key])
    np.testing.assert_array_equal(cached.predict(df), plain.predict(df))
    pd.testing.assert_frame_equal(
        features_out(cached.best_estimator_, df), features_out(plain.best_estimator_, df)
    )


def test_a_hit_gives_the_chains_own_step_a_copy_sharing_network_a(fitted_pre, dataset_b):
    df, y = dataset_b
    first = make(fitted_pre).fit(df, y)
    second = clone(first)
    features = second.named_steps["features"]
    before = frozen_of(first).cache_info()["rows_computed"]
    second.fit(df, y)
    assert features_cache(first).info()["hits"] == 1
    assert second.named_steps["features"] is features  # the user's object, now fitted
    ones, twos = first[0].transformers_, second[0].transformers_
    for (name, one, _), (_, two, _) in zip(ones, twos, strict=True):
        assert isinstance(one, str) or one is not two, name
    assert frozen_of(second).estimator is fitted_pre  # shared, never copied
    np.testing.assert_array_equal(second.predict(df), first.predict(df))
    # Network A ran on none of these rows again: the frozen steps share their cache.
    assert frozen_of(first).cache_info()["rows_computed"] == before

    # Changing one chain's fitted step changes neither the other nor the kept copy.
    scaler = second.named_steps["features"].named_transformers_["numeric"]
    scaler.mean_ = scaler.mean_ + 100.0
    third = clone(first).fit(df, y)
    pd.testing.assert_frame_equal(features_out(third, df), features_out(first, df))
    assert not np.array_equal(
        features_out(second, df)["numeric__age"], features_out(first, df)["numeric__age"]
    )


@pytest.mark.parametrize(
    "change",
    ["numeric scaler", "output layer", "rows' index", "column order", "one value", "target"],
)
def test_anything_that_changes_the_fit_refits_it(fitted_pre, dataset_b, change):
    df, y = dataset_b
    chain = make(fitted_pre).fit(df, y)
    params = {}
    if change == "numeric scaler":
        params = {"features__numeric__with_mean": False}
    elif change == "output layer":
        params = {"features__representation__output_layer": "hidden"}
    elif change == "rows' index":
        df = df.set_axis(df.index + 1000)
    elif change == "column order":
        df = df[df.columns[::-1]]
    elif change == "one value":
        df = df.copy()
        df.loc[5, "a0"] += 1.0
    else:
        y = y + 1.0
    refit = clone(chain).set_params(**params).fit(df, y)
    assert features_cache(chain).info() == {"hits": 0, "misses": 2, "entries": 2}
    expected = uncached(fitted_pre, **params).fit(df, y)
    pd.testing.assert_frame_equal(features_out(refit, df), features_out(expected, df))
    np.testing.assert_array_equal(refit.predict(df), expected.predict(df))


@pytest.mark.filterwarnings("ignore::skchain.DataShiftWarning")  # B is not like the new A
def test_network_a_refit_refits_the_features_step(dataset_a, dataset_b):
    X_a, y_a = dataset_a
    df, y = dataset_b
    pre = KerasTransformer(
        build_network_a, output_layer="embedding", loss="mse", epochs=2, random_state=0
    ).fit(X_a, y_a)
    chain = make(pre).fit(df, y)
    old = features_out(chain, df)
    pre.fit(X_a * 2, y_a)  # the same network A object, fitted again
    refit = clone(chain).fit(df, y)
    assert features_cache(chain).info()["hits"] == 0
    new = features_out(refit, df)
    np.testing.assert_allclose(
        new.filter(like="representation__").to_numpy(),
        pre.transform(df[A_COLS].to_numpy(np.float32)),
        rtol=1e-5,
        atol=1e-6,
    )
    assert not new.equals(old)


def test_a_failed_fit_after_a_hit_leaves_the_chain_as_it_was(fitted_pre, dataset_b):
    df, y = dataset_b
    make_first = make(fitted_pre)
    make_first.fit(df, y)  # keeps the fitted features step for (df, y)
    chain = clone(make_first).fit(df.iloc[:120], y[:120])
    before_features = features_out(chain, df)
    before = chain.predict(df)

    class Boom(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise RuntimeError("boom")

    chain.set_params(regressor__callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        chain.fit(df, y)
    assert features_cache(make_first).info()["hits"] == 1  # the features step came from the cache
    pd.testing.assert_frame_equal(features_out(chain, df), before_features)
    np.testing.assert_array_equal(chain.predict(df), before)


class _Noisy(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    def __init__(self, random_state=None, scale=1.0):
        self.random_state = random_state
        self.scale = scale

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.noise_ = np.random.default_rng(self.random_state).normal(size=X.shape[1])
        return self

    def transform(self, X):
        return np.asarray(X, dtype=np.float64) * self.scale + self.noise_


def test_what_the_key_cannot_describe_is_never_cached(fitted_pre, dataset_b):
    df, y = dataset_b

    def chain_with(transformer):
        features = ColumnTransformer(
            [("extra", transformer, ["age"])], sparse_threshold=0.0
        ).set_output(transform="pandas")
        return Chain([("features", features), ("regressor", ChainRegressor(epochs=1))])

    # A fit that draws from random_state=None: each fit differs, so none is reused.
    with pytest.raises(Uncacheable, match="random_state=None"):
        parameters_key(chain_with(_Noisy()).steps[0][1])
    chain = chain_with(_Noisy())
    one = features_out(chain.fit(df, y), df)
    two = features_out(clone(chain).fit(df, y), df)
    assert features_cache(chain).info()["misses"] == 0
    assert not one.equals(two)
    # A fitted estimator, or a value of a type with state the key cannot read.
    with pytest.raises(Uncacheable, match="fitted StandardScaler"):
        parameters_key(chain_with(_Noisy(0, scale=StandardScaler().fit(df[["age"]]))).steps[0][1])
    with pytest.raises(Uncacheable, match="RandomState"):
        parameters_key(chain_with(_Noisy(np.random.RandomState(0))).steps[0][1])
    # A function may read state its identity does not show; so may a user's own object.
    settings = {"scale": 2.0}

    def scale():
        return settings["scale"]

    class Setting:
        scale = 2.0

    with pytest.raises(Uncacheable, match="a function among the parameters"):
        parameters_key(chain_with(_Noisy(0, scale=scale)).steps[0][1])
    with pytest.raises(Uncacheable, match="a parameter of type Setting"):
        parameters_key(chain_with(_Noisy(0, scale=Setting())).steps[0][1])
    # A seeded one is kept.
    seeded = chain_with(_Noisy(0))
    seeded.fit(df, y)
    clone(seeded).fit(df, y)
    assert features_cache(seeded).info() == {"hits": 1, "misses": 1, "entries": 1}


def test_the_key_reads_types_and_contents():
    df = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]})
    assert content_key(df, None) == content_key(df.copy(), None)
    assert content_key(df, [1, 2]) != content_key(df, [1.0, 2.0])  # the target's dtype
    assert content_key(df, None) != content_key(df.astype({"x": np.float32}), None)
    assert content_key(df, None) != content_key(df.assign(s=["a", "c"]), None)
    assert content_key(df, None) != content_key(df.rename(columns={"x": "y"}), None)
    # pandas hashes objects as text: the values' types are keyed too.
    objects = pd.DataFrame({"s": pd.Series([1, 2, None], dtype=object)})
    for other in (["1", 2, None], [1, 2, np.nan], [1, 2.0, None], [True, 2, None]):
        changed = pd.DataFrame({"s": pd.Series(other, dtype=object)})
        assert content_key(objects, None) != content_key(changed, None), other
    assert content_key(df, ["a", 1]) != content_key(df, ["a", "1"])
    levels = pd.DataFrame({"c": pd.Categorical(["a", "b"])})
    more = pd.DataFrame({"c": pd.Categorical(["a", "b"], categories=["a", "b", "z"])})
    assert content_key(levels, None) != content_key(more, None)  # a level not in the rows
    assert content_key(df, None) != content_key(df.set_axis(["0", "1"]), None)

    def features(*transformers):
        return ColumnTransformer([(f"t{i}", t, [0]) for i, t in enumerate(transformers)])

    one = features(StandardScaler(with_mean=True))
    assert parameters_key(one) == parameters_key(clone(one))
    assert parameters_key(one) != parameters_key(features(StandardScaler(with_mean=1)))
    # A Pipeline fits its own steps in place: only a ColumnTransformer's fit is kept.
    with pytest.raises(Uncacheable, match="features step of type Pipeline"):
        parameters_key(make_pipeline(StandardScaler()))


def test_the_cache_never_reaches_a_pickle_or_a_deep_copy(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = make(fitted_pre).fit(df, y)
    restored = pickle.loads(pickle.dumps(chain))
    assert b"FeaturesCache" not in pickle.dumps(chain)
    assert features_cache(restored).info()["entries"] == 0
    np.testing.assert_array_equal(restored.predict(df), chain.predict(df))
    # A deep copy of a fitted chain shares network A (as clone does) and predicts the same.
    twin = copy.deepcopy(chain)
    assert frozen_of(twin).estimator is fitted_pre
    np.testing.assert_array_equal(twin.predict(df), chain.predict(df))


def test_missing_values_are_keyed_apart_from_nan_in_arrow_columns():
    pa = pytest.importorskip("pyarrow")
    values = np.array([1.0, np.nan, 3.0])
    kind = pd.ArrowDtype(pa.float64())
    nan = pd.DataFrame({"x": pd.Series(pa.array(values, from_pandas=False), dtype=kind)})
    null = pd.DataFrame({"x": pd.Series(pa.array(values, from_pandas=True), dtype=kind)})
    assert content_key(nan, None) != content_key(null, None)


@pytest.mark.parametrize("cached", [True, False])
def test_a_hit_warns_as_the_fit_it_reuses_did(fitted_pre, dataset_a, dataset_b, cached):
    X_a, _ = dataset_a
    df, y = dataset_b
    leaky = df.copy()
    leaky.loc[: len(df) // 2 - 1, A_COLS] = X_a[: len(df) // 2]  # half of B is A's rows
    chain = make(fitted_pre) if cached else uncached(fitted_pre)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a first fit in a quiet cell
        chain.fit(leaky, y)
    with warnings.catch_warnings(record=True) as issued:
        warnings.simplefilter("always")
        clone(chain).fit(leaky, y)  # a hit when cached
    assert features_cache(chain).info()["hits"] == (1 if cached else 0)
    assert sum(issubclass(w.category, DataLeakageWarning) for w in issued) == 1
