"""Chain: the fused predict path equals the step-by-step one; fit is all or nothing."""

import keras
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skchain import Chain, ChainRegressor, make_chain
from skchain._fused import FusedPredictor

A_COLUMNS = [f"a{i}" for i in range(6)]


def _chain(pre, **kwargs):
    regressor = kwargs.pop("regressor", None) or ChainRegressor(epochs=3, random_state=0)
    return make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=regressor,
        **kwargs,
    )


def _step_by_step(chain, X):
    return Pipeline.predict(chain, X)


@pytest.mark.parametrize("encoding", ["onehot", "hash"])
def test_fused_predict_equals_the_step_by_step_pipeline(fitted_pre, dataset_b, encoding):
    df, y = dataset_b
    chain = _chain(fitted_pre, categorical_encoding=encoding).fit(df, y)
    assert isinstance(chain, Pipeline) and isinstance(chain._fused(), FusedPredictor)
    fused = chain.predict(df)
    np.testing.assert_allclose(fused, _step_by_step(chain, df), rtol=1e-5, atol=1e-5)
    assert fused.dtype == np.float32
    np.testing.assert_allclose(chain.predict(df.iloc[[7]]), fused[[7]], rtol=1e-5, atol=1e-5)
    assert chain.score(df, y) == pytest.approx(Pipeline.score(chain, df, y), rel=1e-5)


def test_fused_predict_with_multi_output_and_custom_network(fitted_pre, dataset_b):
    df, y = dataset_b
    Y = np.column_stack([y, -y])
    chain = _chain(fitted_pre).fit(df, Y)
    np.testing.assert_allclose(chain.predict(df), _step_by_step(chain, df), rtol=1e-5, atol=1e-5)
    assert chain.predict(df).shape == (len(df), 2)

    def build(meta, compile_kwargs):
        inputs = keras.Input((meta["n_features_in_"],))
        model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(4)(inputs)))
        model.compile(**compile_kwargs)
        return model

    chain = _chain(fitted_pre, regressor=ChainRegressor(model=build, epochs=2, random_state=0)).fit(
        df, y
    )
    # 8 outputs of network A, its 6 scaled inputs, 3 store levels, age.
    assert chain.named_steps["regressor"].input_blocks_ == [("features", 0, 18)]
    np.testing.assert_allclose(chain.predict(df), _step_by_step(chain, df), rtol=1e-5, atol=1e-5)


def test_large_input_is_predicted_in_chunks(fitted_pre, dataset_b, monkeypatch):
    import skchain._fused as fused_module

    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    expected = chain.predict(df)
    monkeypatch.setattr(fused_module, "CHUNK_ROWS", 50)
    # Other batch shapes may take other matrix kernels: equal to float32 rounding.
    np.testing.assert_allclose(chain.predict(df), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_copies_split_between_two_threads_are_exact(dtype, monkeypatch):
    import skchain._fused as fused_module

    monkeypatch.setattr(fused_module, "_copy_threads", lambda: 2)
    values = np.asfortranarray(np.random.default_rng(0).normal(size=(1001, 7)).astype(dtype))
    before = values.copy(order="K")
    for threshold, rows in ((1, 1001), (1 << 40, 1001), (1, 1)):
        monkeypatch.setattr(fused_module, "PARALLEL_COPY_VALUES", threshold)
        out = fused_module._aligned_copy(values[:rows])
        assert out.flags.c_contiguous and out.dtype == np.float32
        assert out.ctypes.data % 64 == 0
        np.testing.assert_array_equal(out, values[:rows].astype(np.float32))
    np.testing.assert_array_equal(values, before)  # the user's array untouched
    with pytest.raises(TypeError):  # an error in the helper thread reaches the caller
        fused_module._aligned_copy(np.array([["a", "b"]] * 3, dtype=object))


def test_two_thread_copy_predicts_the_same(fitted_pre, dataset_b, monkeypatch):
    import skchain._fused as fused_module

    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    expected = chain.predict(df)
    monkeypatch.setattr(fused_module, "_copy_threads", lambda: 2)
    monkeypatch.setattr(fused_module, "PARALLEL_COPY_VALUES", 1)
    frozen = chain.named_steps["features"].named_transformers_["representation"]
    frozen.cache_size = 0  # network A runs again, on the two-thread copy
    np.testing.assert_array_equal(chain.predict(df), expected)


def test_inputs_the_graph_does_not_take_fall_back_to_named_errors(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    bad = df.copy()
    bad.loc[2, "a1"] = np.nan
    with pytest.raises(ValueError, match=r"FrozenTransformer.*\['a1'\]"):
        chain.predict(bad)
    with pytest.raises(ValueError, match="0 sample"):
        chain.predict(df.iloc[:0])
    # Arrays, not frames, take the step-by-step path and still work.
    assert chain.predict(df).shape == (len(df),)


def test_fused_predictor_follows_refits_and_set_params(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    first = chain.predict(df)
    chain.set_params(regressor__epochs=1).fit(df, y)
    np.testing.assert_allclose(chain.predict(df), _step_by_step(chain, df), rtol=1e-5, atol=1e-5)
    assert not np.array_equal(first, chain.predict(df))
    chain.set_params(features__representation__output_layer="hidden").fit(df, y)
    assert chain.named_steps["regressor"].input_blocks_[0] == ("representation", 0, 16)
    np.testing.assert_allclose(chain.predict(df), _step_by_step(chain, df), rtol=1e-5, atol=1e-5)


def test_search_scores_candidates_without_rerunning_network_a(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre, regressor=ChainRegressor(epochs=1, random_state=0))
    frozen = chain.named_steps["features"].transformers[0][1]
    before = frozen.cache_info()["rows_computed"]
    GridSearchCV(chain, {"regressor__hidden_units": [(4,), (8,), (16,)]}, cv=3).fit(df, y)
    # Each split's rows once (train and test), plus the refit.
    assert frozen.cache_info()["rows_computed"] - before == 3 * len(df) + len(df)


def test_a_fit_that_fails_in_a_late_step_changes_nothing(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    expected = chain.predict(df)
    regressor = chain.named_steps["regressor"]
    # New rows refit the encoders and scalers, then the regressor refuses its
    # parameters: every step must be as it was.
    chain.set_params(regressor__dropout=2.0)
    shifted = df.assign(age=df["age"] + 30, store="south")
    with pytest.raises(ValueError, match="dropout=2.0"):
        chain.fit(shifted[:100], y[:100])
    chain.set_params(regressor__dropout=0.0)
    assert chain.named_steps["regressor"] is regressor
    np.testing.assert_array_equal(chain.predict(df), expected)
    np.testing.assert_array_equal(_step_by_step(chain, df), _step_by_step(chain, df))


def test_target_is_checked_before_any_step_is_fitted(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    expected = chain.predict(df)
    with pytest.raises(
        ValueError, match="Chain fit \\(target y, before any step is fitted\\).*NaN"
    ):
        chain.fit(df[:50], np.full(50, np.nan))
    np.testing.assert_array_equal(chain.predict(df), expected)


def test_chain_is_a_pipeline_for_clone_and_joblib(fitted_pre, dataset_b, tmp_path):
    import joblib
    from sklearn.base import clone

    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    assert isinstance(clone(chain), Chain)
    joblib.dump(chain, tmp_path / "c.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "c.joblib").predict(df), chain.predict(df))


def test_network_a_in_the_fused_graph_fills_the_cache_and_matches_a_hit(fitted_pre, dataset_b):
    """A miss runs network A inside the graph; a hit skips it; the bits are the same."""
    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    frozen = chain.named_steps["features"].named_transformers_["representation"]
    new = df.copy()
    new[A_COLUMNS] = new[A_COLUMNS] * 0.5 + 0.25  # rows network A has not seen
    before = frozen.cache_info()
    miss = chain.predict(new)
    after_miss = frozen.cache_info()
    assert after_miss["rows_computed"] - before["rows_computed"] == len(new)
    hit = chain.predict(new.copy())
    after_hit = frozen.cache_info()
    assert after_hit["rows_computed"] == after_miss["rows_computed"]
    assert after_hit["hits"] == after_miss["hits"] + 1
    np.testing.assert_array_equal(hit, miss)
    # What the fused graph cached is, bit for bit, what transform computes.
    cached = np.array(frozen.transform(new[A_COLUMNS]))
    assert frozen.cache_info()["hits"] == after_hit["hits"] + 1
    frozen.cache_size = 0
    np.testing.assert_array_equal(frozen.transform(new[A_COLUMNS]), cached)
    assert frozen.cache_info()["rows_computed"] == len(new)  # a new, empty cache computed them
