"""The drift check's false-alarm rate and power on small simulated cases (seeded, fast)."""

import io
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import make_dataset_a

from skchain import DataShiftWarning
from skchain.diagnostics import InputStatistics, check_shift, shift_report


def flagged(statistics, X, alpha=0.01):
    try:
        check_shift(statistics, X, mode="raise", alpha=alpha, feature_names=None, stage="test")
    except ValueError:
        return True
    return False


def correlated(rng, n, d=8, rho=0.6):
    z = rng.normal(size=(n, d))
    x = np.empty_like(z)
    x[:, 0] = z[:, 0]
    for j in range(1, d):
        x[:, j] = rho * x[:, j - 1] + np.sqrt(1 - rho**2) * z[:, j]
    return x.astype(np.float32)


def awkward(rng, n):
    """Discrete, tied, near-constant, constant and skewed columns."""
    return np.column_stack(
        [
            rng.binomial(16, 0.3, n),  # 17 levels, like a digit pixel
            rng.random(n) < 0.003,  # almost always 0
            np.zeros(n),  # always 0
            rng.poisson(0.05, n),  # rare counts
            np.where(rng.random(n) < 0.8, 0, rng.gamma(2, 2, n)),  # mostly 0, then skewed
            rng.lognormal(0, 1.5, n),  # heavy right tail
        ]
    ).astype(np.float32)


# alpha = 0.05 so that a few hundred batches measure the rate; the bound is
# alpha plus three binomial standard errors.
@pytest.mark.parametrize("make", [correlated, awkward], ids=["correlated", "awkward"])
@pytest.mark.parametrize("rows", [1, 8, 60, 600])
def test_false_alarm_rate_is_at_most_alpha(make, rows):
    rng = np.random.default_rng(rows)
    statistics = InputStatistics(make(rng, 3000))
    batches = 300
    alarms = sum(flagged(statistics, make(rng, rows), alpha=0.05) for _ in range(batches))
    assert alarms / batches <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / batches)


def test_one_row_three_deviations_off_in_every_feature_is_caught():
    rng = np.random.default_rng(1)
    statistics = InputStatistics(correlated(rng, 3000, d=30, rho=0.3))
    hits = [flagged(statistics, correlated(rng, 1, d=30, rho=0.3) + 3) for _ in range(40)]
    assert np.mean(hits) >= 0.95
    report = shift_report(statistics, correlated(rng, 1, d=30, rho=0.3) + 3)
    assert report["test"].iloc[0] in ("rows", "all features")


def test_29_rows_shifted_by_five_deviations_are_caught():
    rng = np.random.default_rng(2)
    statistics = InputStatistics(rng.normal(size=(3000, 100)))
    assert flagged(statistics, rng.normal(size=(29, 100)).astype(np.float32) + 5)


def test_half_a_deviation_in_two_of_ten_features_is_caught_at_1000_rows():
    rng = np.random.default_rng(3)
    statistics = InputStatistics(correlated(rng, 5000, d=10))
    hits = []
    for _ in range(20):
        batch = correlated(rng, 1000, d=10)
        batch[:, [2, 7]] += 0.5
        hits.append(flagged(statistics, batch))
    assert np.mean(hits) >= 0.95
    report = shift_report(statistics, batch)
    assert set(report["feature"].iloc[:2]) == {"x2", "x7"}
    assert report["mean_shift"].iloc[:2].to_numpy() == pytest.approx([0.5, 0.5], abs=0.15)


def test_doubled_spread_and_a_lost_usual_value_are_named():
    rng = np.random.default_rng(4)
    statistics = InputStatistics(awkward(rng, 4000))
    batch = awkward(rng, 500)
    batch[:, 5] *= 1.0  # unchanged
    batch[:, 4] = rng.gamma(2, 2, 500)  # never 0 any more
    report = shift_report(statistics, batch)
    assert report[["feature", "test"]].iloc[0].tolist() == ["x4", "dominant value"]
    wide = correlated(rng, 500)
    wide[:, 3] *= 2
    report = shift_report(InputStatistics(correlated(rng, 4000)), wide)
    assert report[["feature", "test"]].iloc[0].tolist() == ["x3", "spread"]
    assert report["scale_ratio"].iloc[0] == pytest.approx(2, rel=0.15)


def test_a_constant_feature_seeing_a_new_value_once_is_not_an_alarm():
    rng = np.random.default_rng(5)
    statistics = InputStatistics(awkward(rng, 900))
    batch = awkward(rng, 20)
    batch[0, 2] = 1.0  # a value the always-0 column never showed
    assert not flagged(statistics, batch)


def test_report_columns_and_order():
    rng = np.random.default_rng(6)
    report = shift_report(InputStatistics(correlated(rng, 2000)), correlated(rng, 10))
    assert list(report.columns) == [
        "level",
        "feature",
        "test",
        "statistic",
        "p_value",
        "adjusted_p",
        "mean_shift",
        "scale_ratio",
        "out_of_range",
    ]
    assert report["adjusted_p"].is_monotonic_increasing
    assert "rows" in set(report["test"])  # small batches get the row test
    assert len(report) == 8 + 2  # and one line each for "all features" and "rows"


def test_fitted_transformer_keeps_both_levels_and_they_survive_joblib(fitted_pre):
    X, _ = make_dataset_a(300, seed=11)
    assert {"hidden", "embedding", "head"} <= set(fitted_pre.representation_statistics_)
    buffer = io.BytesIO()
    joblib.dump(fitted_pre, buffer)
    loaded = joblib.load(io.BytesIO(buffer.getvalue()))
    pd.testing.assert_frame_equal(loaded.shift_report(X), fitted_pre.shift_report(X))
    levels = fitted_pre.shift_report(X, output_layer="hidden")["level"].value_counts()
    assert levels.to_dict() == {"representation": 16 + 1, "input": 6 + 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataShiftWarning)
        fitted_pre.transform(X)


def test_from_model_records_the_representation_with_training_rows(fitted_pre, dataset_a):
    from skchain import KerasTransformer

    X_a, _ = dataset_a
    blind = KerasTransformer.from_model(fitted_pre.model_, scaler=fitted_pre.scaler_)
    assert not hasattr(blind, "representation_statistics_")
    informed = KerasTransformer.from_model(
        fitted_pre.model_, scaler=fitted_pre.scaler_, output_layer="embedding", training_rows=X_a
    )
    assert set(informed.representation_statistics_) == set(fitted_pre.representation_statistics_)


def test_placements_feature_by_feature_are_the_same_bits():
    from skchain import _drift_summary as summary

    rng = np.random.default_rng(3)
    A = awkward(rng, 500)
    grid = summary.build_grid(A)
    X = np.concatenate([awkward(rng, 40), np.full((2, A.shape[1]), np.inf, np.float32)])
    X[-1] = -np.inf
    before = X.copy()
    rows = summary.placements(grid, X)
    by_feature = summary.placements_by_feature(grid, np.ascontiguousarray(X.T))
    np.testing.assert_array_equal(by_feature, rows.T)
    np.testing.assert_array_equal(X, before)  # the user's rows are not modified
    assert rows.dtype == np.float32 and rows.flags["C_CONTIGUOUS"]
    assert ((rows >= 0) & (rows <= 1)).all()
    # u by hand for one value of each feature: the table's start plus the position's share
    # of the cell's slope.
    j = np.arange(A.shape[1])
    position = np.clip((X[0] - grid["low"]) * grid["inverse_width"] + 1.0, 0, summary.GRID + 1)
    cell = np.minimum(position.astype(int), summary.GRID + 1) + j * (summary.GRID + 2)
    expected = grid["start"][cell] + (position - np.floor(position)) * grid["slope"][cell]
    np.testing.assert_allclose(rows[0], expected, atol=1e-5)
    # Tables of more cells than float32 counts exactly take the integer path: the same u.
    exact = summary._EXACT_FLOAT32
    try:
        summary._EXACT_FLOAT32 = 0
        np.testing.assert_array_equal(summary.placements(grid, X), rows)
    finally:
        summary._EXACT_FLOAT32 = exact
