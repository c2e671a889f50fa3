"""Fine-tuning network A with the final loss."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

import skchain
from skchain import Chain, ChainRegressor, FineTune, make_chain

A_COLUMNS = [f"a{i}" for i in range(6)]


_FINE_TUNE = FineTune(epochs=3, learning_rate=1e-3)


def _chain(pre, fine_tune=_FINE_TUNE, **regressor):
    # No dropout: the training loss, compared across epochs below, is then not noisy.
    params = dict(epochs=5, learning_rate=0.01, random_state=0, dropout=0.0)
    params.update(regressor)
    return make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(**params),
        fine_tune=fine_tune,
    )


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_fine_tuning_trains_a_copy_of_network_a(fitted_pre, dataset_b):
    df, y = dataset_b
    original = _weights(fitted_pre.model_)
    chain = _chain(fitted_pre).fit(df, y)
    assert isinstance(chain, Pipeline) and isinstance(chain, Chain)
    record = chain.fine_tuned_
    assert record["rows"] == len(df) and record["epochs"] == 3
    assert record["layers"] == ["hidden", "embedding"]
    loss = record["history"]["loss"]
    assert len(loss) == 3 and loss[-1] < loss[0]
    tuned = chain.named_steps["features"].named_transformers_["representation"].estimator
    assert tuned is not fitted_pre and tuned.scaler_ is fitted_pre.scaler_
    assert not np.array_equal(tuned.transform(df[A_COLUMNS]), fitted_pre.transform(df[A_COLUMNS]))
    for before, after in zip(original, fitted_pre.model_.get_weights(), strict=False):
        np.testing.assert_array_equal(before, after)
    # The fine-tuned network is the one predict uses, on every path.
    np.testing.assert_allclose(chain.predict(df), Pipeline.predict(chain, df), rtol=1e-5, atol=1e-5)


def test_top_layers_only(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(
        fitted_pre, fine_tune=FineTune(epochs=2, learning_rate=1e-2, layers="top:1")
    ).fit(df, y)
    assert chain.fine_tuned_["layers"] == ["embedding"]
    tuned = chain.named_steps["features"].named_transformers_["representation"].estimator.model_
    np.testing.assert_array_equal(
        tuned.get_layer("hidden").get_weights()[0],
        fitted_pre.model_.get_layer("hidden").get_weights()[0],
    )
    assert not np.array_equal(
        tuned.get_layer("embedding").get_weights()[0],
        fitted_pre.model_.get_layer("embedding").get_weights()[0],
    )
    named = _chain(fitted_pre, fine_tune=FineTune(epochs=1, layers=["hidden"])).fit(df, y)
    assert named.fine_tuned_["layers"] == ["hidden"]


def test_cross_validation_never_changes_the_users_network(fitted_pre, dataset_b):
    df, y = dataset_b
    original = _weights(fitted_pre.model_)
    mean = fitted_pre.scaler_.mean_.copy()
    scores = cross_val_score(_chain(fitted_pre), df, y, cv=3)
    assert np.all(np.isfinite(scores))
    for before, after in zip(original, fitted_pre.model_.get_weights(), strict=False):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(mean, fitted_pre.scaler_.mean_)


def test_settings_are_searchable(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre)
    assert {"fine_tune__epochs", "fine_tune__learning_rate", "fine_tune__layers"} <= set(
        chain.get_params()
    )
    search = GridSearchCV(
        chain, {"fine_tune__layers": ["all", "top:1"], "fine_tune__epochs": [1]}, cv=2
    ).fit(df, y)
    assert search.best_estimator_.fine_tuned_["epochs"] == 1
    frozen_or_tuned = GridSearchCV(chain, {"fine_tune": [None, FineTune(epochs=1)]}, cv=2).fit(
        df, y
    )
    assert len(frozen_or_tuned.cv_results_["mean_test_score"]) == 2


def test_bad_settings_are_named_and_change_nothing(fitted_pre, dataset_b):
    df, y = dataset_b
    chain = _chain(fitted_pre, fine_tune=None).fit(df, y)
    expected = chain.predict(df)
    for settings, message in [
        (FineTune(layers="top:x"), "layers='top:x'"),
        (FineTune(layers=["nope"]), r"layers \['nope'\] are not trainable"),
        (
            FineTune(learning_rate=0),
            r"'learning_rate' parameter of FineTune must be a float "
            r"in the range \(0.0, inf\)\. Got 0 instead",
        ),
        (
            FineTune(networks="top"),
            r"'networks' parameter of FineTune must be an instance of 'list'",
        ),
    ]:
        chain.set_params(fine_tune=settings)
        with pytest.raises(ValueError, match=message):
            chain.fit(df[:100], y[:100])
        chain.set_params(fine_tune=None)
        np.testing.assert_array_equal(chain.predict(df), expected)
        assert not hasattr(chain, "fine_tuned_")


def test_fine_tuned_chain_round_trips_bit_exact(fitted_pre, dataset_b, tmp_path):
    df, y = dataset_b
    chain = _chain(fitted_pre).fit(df, y)
    joblib.dump(chain, tmp_path / "chain.joblib")
    skchain.save(chain, tmp_path / "chain.skchain")
    np.save(tmp_path / "expected.npy", chain.predict(df))
    df.to_pickle(tmp_path / "df.pkl")
    script = textwrap.dedent(f"""
        import joblib, numpy as np, pandas as pd, skchain
        df = pd.read_pickle({str(tmp_path / "df.pkl")!r})
        expected = np.load({str(tmp_path / "expected.npy")!r})
        a = joblib.load({str(tmp_path / "chain.joblib")!r})
        b = skchain.load({str(tmp_path / "chain.skchain")!r}, trusted=["conftest.build_network_a"])
        assert a.fine_tuned_["rows"] == b.fine_tuned_["rows"] == len(df)
        assert np.array_equal(a.predict(df), expected) and np.array_equal(b.predict(df), expected)
        print("identical")
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "identical" in result.stdout
