"""The whole chain: make_chain, frozen network A, searches and persistence."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import build_network_a
from sklearn.base import clone, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skchain import (
    ChainRegressor,
    FrozenTransformer,
    HashingEncoder,
    KerasTransformer,
    make_chain,
)
from skchain.passthrough import NetworkAInputs

A_COLUMNS = [f"a{i}" for i in range(6)]


def _chain(pre, encoding="onehot", **regressor_params):
    params = dict(
        hidden_units=(16,), branch_units=16, learning_rate=0.01, epochs=15, random_state=0
    )
    params.update(regressor_params)
    return make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        categorical_encoding=encoding,
        hash_features=8,
        regressor=ChainRegressor(**params),
    )


def _snapshot(pre):
    return (
        [w.copy() for w in pre.model_.get_weights()],
        pre.scaler_.mean_.copy(),
        pre.scaler_.scale_.copy(),
    )


def _assert_unchanged(pre, snapshot):
    weights, mean, scale = snapshot
    for before, after in zip(weights, pre.model_.get_weights(), strict=False):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(mean, pre.scaler_.mean_)
    np.testing.assert_array_equal(scale, pre.scaler_.scale_)


def test_make_chain_builds_the_documented_pipeline(fitted_pre):
    chain = _chain(fitted_pre)
    assert isinstance(chain, Pipeline)
    assert [name for name, _ in chain.steps] == ["features", "regressor"]
    features = chain.named_steps["features"]
    assert isinstance(features, ColumnTransformer)
    # Network A's scaled inputs beside its representation: representation_passthrough="auto".
    assert [name for name, _, _ in features.transformers] == [
        "representation",
        "representation_inputs",
        "onehot",
        "numeric",
    ]
    frozen, inputs, onehot, scaler = (t for _, t, _ in features.transformers)
    assert isinstance(frozen, FrozenTransformer) and frozen.estimator is fitted_pre
    assert isinstance(inputs, NetworkAInputs) and inputs.estimator is fitted_pre
    assert isinstance(onehot["encoder"], OneHotEncoder)
    assert onehot["encoder"].handle_unknown == "infrequent_if_exist"
    assert isinstance(scaler, StandardScaler)
    assert is_regressor(chain)


def test_the_same_pipeline_by_hand(fitted_pre, dataset_b):
    df, y = dataset_b
    by_hand = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("representation", FrozenTransformer(fitted_pre), A_COLUMNS),
                        ("representation_inputs", NetworkAInputs(fitted_pre), A_COLUMNS),
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            ["store"],
                        ),
                        ("numeric", StandardScaler(), ["age"]),
                    ]
                ).set_output(transform="pandas"),
            ),
            (
                "regressor",
                ChainRegressor(
                    hidden_units=(16,),
                    branch_units=16,
                    learning_rate=0.01,
                    epochs=15,
                    random_state=0,
                ),
            ),
        ]
    )
    factory = _chain(fitted_pre)
    np.testing.assert_allclose(
        by_hand.fit(df, y).predict(df), factory.fit(df, y).predict(df), rtol=1e-5, atol=1e-5
    )


def test_fit_predict_learns_and_uses_every_block(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre, epochs=40).fit(df[:120], y[:120])
    assert chain.named_steps["regressor"].input_blocks_ == [
        ("representation", 0, 8),
        ("representation_inputs", 8, 14),
        ("onehot", 14, 17),
        ("numeric", 17, 18),
    ]
    pred = chain.predict(df[120:])
    assert pred.dtype == np.float32 and pred.shape == (60,)
    assert chain.score(df[120:], y[120:]) > 0.5
    names = chain.named_steps["features"].get_feature_names_out()
    assert names[0] == "representation__embedding0" and names[-1] == "numeric__age"


def test_chain_fit_never_trains_network_a(fitted_pre, dataset_b):
    df, y = dataset_b
    snapshot = _snapshot(fitted_pre)
    history = dict(fitted_pre.history_)
    _chain(fitted_pre, epochs=2).fit(df, y)
    _assert_unchanged(fitted_pre, snapshot)
    assert fitted_pre.history_ == history


def test_cross_val_score_uses_kfold_r2(fitted_pre, dataset_b):
    df, y = dataset_b
    scores = cross_val_score(_chain(fitted_pre, epochs=5), df, y, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    # KFold without shuffling, as for any regressor: the same folds by hand.
    folds = list(KFold(3).split(df))
    manual = [
        _chain(fitted_pre, epochs=5).fit(df.iloc[tr], y[tr]).score(df.iloc[te], y[te])
        for tr, te in folds
    ]
    np.testing.assert_allclose(scores, manual, rtol=1e-5)


def test_grid_search_over_every_stage_leaves_network_a_bit_identical(fitted_pre, dataset_b):
    df, y = dataset_b
    snapshot = _snapshot(fitted_pre)
    chain = _chain(fitted_pre, epochs=3)
    frozen = chain.named_steps["features"].transformers[0][1]
    before = frozen.cache_info()
    grid = {
        "regressor__hidden_units": [(8,), (16, 8)],
        "features__representation__output_layer": ["embedding", "hidden"],
        "features__onehot__encoder__min_frequency": [None, 5],
    }
    search = GridSearchCV(chain, grid, cv=3).fit(df, y)
    assert set(search.best_params_) == set(grid)
    _assert_unchanged(fitted_pre, snapshot)
    # Network A ran over each split's rows once per layer, plus the refit:
    # never once per candidate.
    info = frozen.cache_info()
    rows = info["rows_computed"] - before["rows_computed"]
    assert rows <= 2 * (3 * len(df)) + len(df)
    assert info["hits"] > info["misses"]
    width = (
        8 if search.best_params_["features__representation__output_layer"] == "embedding" else 16
    )
    assert search.best_estimator_.named_steps["regressor"].input_blocks_[0] == (
        "representation",
        0,
        width,
    )


def test_frozen_clone_shares_network_and_cache(fitted_pre):
    frozen = FrozenTransformer(fitted_pre, output_layer="hidden")
    copy = clone(frozen)
    assert copy is not frozen and copy.estimator is fitted_pre
    assert copy.output_layer == "hidden"
    copy.set_params(output_layer="embedding")
    assert frozen.output_layer == "hidden"
    with pytest.raises(ValueError, match="cannot set \\['estimator__epochs'\\].*frozen"):
        frozen.set_params(estimator__epochs=3)
    assert "estimator__epochs" not in frozen.get_params(deep=True)


def _own_network_a(X, y):
    """A network A of the test's own (the shared fixture must not be refitted)."""
    return KerasTransformer(
        build_network_a, output_layer="embedding", loss="mse", epochs=2, random_state=0
    ).fit(X, y)


def test_network_changed_after_training_network_a_outside_fit(dataset_a, dataset_b):
    # The representation cache follows network A's fit; weights changed through Keras
    # directly are announced with network_changed() (documented in FrozenTransformer).
    X, y = dataset_a
    pre = _own_network_a(X, y)
    df, y_b = dataset_b
    chain = _chain(pre, epochs=2).fit(df, y_b)
    before = np.asarray(chain[:-1].transform(df))
    pre.model_.fit(pre.scaled_inputs(X), -3 * y, epochs=3, verbose=0)  # new weights
    token = pre.fit_token
    pre.network_changed()
    assert pre.fit_token != token
    after = np.asarray(chain[:-1].transform(df))
    fresh = pre.transform(df[A_COLUMNS].to_numpy(np.float32))
    np.testing.assert_allclose(after[:, : fresh.shape[1]], fresh, rtol=1e-5, atol=1e-6)
    assert not np.allclose(after[:, : fresh.shape[1]], before[:, : fresh.shape[1]])
    # The compiled predict and the step-by-step pipeline agree on the new network.
    steps = Pipeline.predict(chain, df)
    np.testing.assert_allclose(chain.predict(df), steps, rtol=1e-4, atol=1e-5)


def test_network_a_refitted_in_place_reaches_every_predict_path(dataset_a, dataset_b):
    # Refitting network A itself (a new network and scaler in the same object) after the
    # chain has predicted: the compiled predict and the served model must follow, as the
    # step-by-step pipeline does (they kept the first network and scaler).
    X, y = dataset_a
    pre = _own_network_a(X, y)
    df, y_b = dataset_b
    chain = _chain(pre, epochs=2).fit(df, y_b)
    first = chain.predict(df)
    pre.set_params(epochs=3, random_state=5).fit(X[:150] * 2, y[:150])
    steps = Pipeline.predict(chain, df)
    assert not np.allclose(steps, first, atol=1e-3)
    np.testing.assert_allclose(chain.predict(df), steps, rtol=1e-4, atol=1e-5)
    served = np.asarray(chain.to_keras()(chain.serving_inputs(df))).ravel()
    np.testing.assert_allclose(served, steps, rtol=1e-4, atol=1e-5)


def test_network_a_refitted_on_reordered_inputs_is_refused_until_the_chain_refits(
    dataset_a, dataset_b
):
    # B's columns were matched to network A's inputs by name at the chain's fit; network A
    # refitted in place on its columns in another order makes that matching stale. Every
    # path refuses it by name (the compiled ones used to feed the columns by old position).
    X, y = dataset_a
    frame_a = pd.DataFrame(X, columns=A_COLUMNS)
    pre = _own_network_a(frame_a, y)
    df, y_b = dataset_b
    chain = _chain(pre, epochs=2).fit(df, y_b)
    chain.predict(df)
    pre.fit(frame_a[A_COLUMNS[::-1]], y)
    message = "network A was refitted on other inputs since this step was fitted"
    for call in (lambda: chain.predict(df), lambda: chain[:-1].transform(df), chain.to_keras):
        with pytest.raises(NotFittedError, match=message):
            call()
    chain.fit(df, y_b)
    steps = Pipeline.predict(chain, df)
    np.testing.assert_allclose(chain.predict(df), steps, rtol=1e-4, atol=1e-5)


def test_hash_encoding_and_unseen_levels(fitted_pre, dataset_b):
    df, y = dataset_b
    new = df[:5].copy()
    new["store"] = ["west", None, "north", "unheard-of", np.nan]
    for encoding in ("onehot", "hash"):
        chain = _chain(fitted_pre, encoding=encoding, epochs=2).fit(df, y)
        pred = chain.predict(new)
        assert pred.shape == (5,) and np.all(np.isfinite(pred))
    assert isinstance(chain.named_steps["features"].named_transformers_["hashed"], HashingEncoder)
    assert chain.named_steps["regressor"].input_blocks_[2] == ("hashed", 14, 22)


def test_grid_search_hash_width(fitted_pre, dataset_b):
    df, y = dataset_b
    search = GridSearchCV(
        _chain(fitted_pre, encoding="hash", epochs=2),
        {"features__hashed__n_features": [4, 16]},
        cv=2,
    ).fit(df, y)
    width = search.best_params_["features__hashed__n_features"]
    assert search.best_estimator_.named_steps["features"].transform(df[:2]).shape == (
        2,
        8 + 6 + width + 1,
    )


def test_columns_are_matched_and_errors_name_them(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre, epochs=1).fit(df, y)
    # Extra columns and another column order are fine for DataFrames.
    shuffled = df[["age", "store"] + A_COLUMNS[::-1]].assign(extra=1.0)
    np.testing.assert_array_equal(chain.predict(shuffled), chain.predict(df))
    with pytest.raises(ValueError, match="a3"):
        chain.predict(df.drop(columns="a3"))
    wrong = make_chain(
        fitted_pre, representation_columns=A_COLUMNS[:5], regressor=ChainRegressor(epochs=1)
    )
    with pytest.raises(ValueError, match="network A expects 6 inputs, got 5 columns"):
        wrong.fit(df, y)


def test_unfitted_preprocessor_and_wrong_types_are_refused(dataset_b):
    df, y = dataset_b
    chain = make_chain(
        KerasTransformer(build_network_a, loss="mse"), representation_columns=A_COLUMNS
    )
    with pytest.raises(NotFittedError, match="network A"):
        chain.fit(df, y)
    with pytest.raises(TypeError, match="preprocessor must be a fitted KerasTransformer"):
        make_chain(StandardScaler(), representation_columns=A_COLUMNS)
    with pytest.raises(
        ValueError, match="categorical_encoding='ordinal' for column 'store' is not supported"
    ):
        make_chain(
            KerasTransformer(),
            representation_columns=A_COLUMNS,
            categorical_columns=["store"],
            categorical_encoding="ordinal",
        )
    with pytest.raises(
        ValueError, match=r"fitted without column names.*\(representation_columns=\)"
    ):
        make_chain(KerasTransformer())


def test_chain_is_reproducible(fitted_pre, dataset_b):
    df, y = dataset_b
    first = _chain(fitted_pre, epochs=3, dropout=0.1).fit(df, y).predict(df)
    second = _chain(fitted_pre, epochs=3, dropout=0.1).fit(df, y).predict(df)
    np.testing.assert_array_equal(first, second)


def test_joblib_round_trip_in_a_fresh_process_is_bit_identical(fitted_pre, dataset_b, tmp_path):
    df, y = dataset_b
    chain = _chain(fitted_pre, encoding="hash", epochs=3).fit(df, y)
    path = tmp_path / "chain.joblib"
    joblib.dump(chain, path)
    df.to_pickle(tmp_path / "df.pkl")
    np.save(tmp_path / "expected.npy", chain.predict(df))
    script = textwrap.dedent(f"""
        import joblib, numpy as np, pandas as pd
        chain = joblib.load({str(path)!r})
        pred = chain.predict(pd.read_pickle({str(tmp_path / "df.pkl")!r}))
        expected = np.load({str(tmp_path / "expected.npy")!r})
        assert pred.dtype == expected.dtype, (pred.dtype, expected.dtype)
        assert np.array_equal(pred, expected), np.abs(pred - expected).max()
        print("identical")
    """)
    # The chain's network A builder lives in conftest.py: the new process must
    # be able to import it, as a user's process must import their own builder.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "identical" in result.stdout


def test_joblib_round_trip_of_the_preprocessor(fitted_pre, dataset_a, tmp_path):
    X, _ = dataset_a
    joblib.dump(fitted_pre, tmp_path / "pre.joblib")
    loaded = joblib.load(tmp_path / "pre.joblib")
    np.testing.assert_array_equal(loaded.transform(X), fitted_pre.transform(X))
    np.testing.assert_array_equal(loaded.scaler_.mean_, fitted_pre.scaler_.mean_)


def test_set_output_pandas_on_the_features_step(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre, epochs=1).fit(df, y)
    out = chain.named_steps["features"].transform(df[:3])
    assert isinstance(out, pd.DataFrame)
    assert out.columns[0] == "representation__embedding0"
    frozen = FrozenTransformer(fitted_pre).set_output(transform="pandas").fit(df[A_COLUMNS])
    assert list(frozen.transform(df[A_COLUMNS][:2]).columns[:2]) == ["embedding0", "embedding1"]
