"""Drift and leakage warnings, and the shift report."""

import copy
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import build_network_a, make_dataset_a

from skchain import (
    ChainRegressor,
    DataLeakageWarning,
    DataShiftWarning,
    KerasTransformer,
    make_chain,
)
from skchain.diagnostics import InputStatistics, RowFingerprints

A_COLUMNS = [f"a{i}" for i in range(6)]


@pytest.fixture
def pre(fitted_pre):
    # A private copy: these tests change the checks' settings.
    return copy.deepcopy(fitted_pre)


def test_rows_like_dataset_a_raise_no_shift_warning(pre):
    X_new, _ = make_dataset_a(200, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataShiftWarning)
        pre.transform(X_new)
        pre.transform(X_new[:40])
        pre.transform(X_new[:1])


def test_shifted_batch_warns_naming_the_worst_features(pre):
    X_new, _ = make_dataset_a(200, seed=5)
    X_new[:, 2] = X_new[:, 2] * 4 + 30
    with pytest.warns(
        DataShiftWarning, match=r"1 of 6 input features.*Worst: .*x2 \(.*at most 1.00%"
    ):
        pre.transform(X_new)


def test_shift_check_modes(pre):
    X_new, _ = make_dataset_a(100, seed=5)
    X_new[:, 0] += 50
    pre.set_params(shift_check="raise")
    with pytest.raises(ValueError, match="unlike network A's training data"):
        pre.transform(X_new)
    pre.set_params(shift_check="off")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataShiftWarning)
        pre.transform(X_new)
    pre.set_params(shift_check="loud")
    X, y = make_dataset_a(50)
    with pytest.raises(
        ValueError,
        match=r"'shift_check' parameter of KerasTransformer must be"
        r" a str among \{.*'warn'.*\}. Got 'loud' instead",
    ):
        pre.fit(X, y)
    pre.set_params(shift_check="warn", shift_alpha=1.5)
    with pytest.raises(
        ValueError,
        match=r"'shift_alpha' parameter of KerasTransformer must be"
        r" a float in the range \(0.0, 1.0\). Got 1.5 instead",
    ):
        pre.fit(X, y)


def test_a_single_row_far_out_in_one_feature_warns(pre):
    row, _ = make_dataset_a(1, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataShiftWarning)
        pre.transform(row)
    row[0, 4] = 1e4
    with pytest.warns(DataShiftWarning, match="x4"):
        pre.transform(row)


def test_shift_report_is_sorted_and_named(dataset_a):
    X, y = dataset_a
    df = pd.DataFrame(X, columns=A_COLUMNS)
    pre = KerasTransformer(build_network_a, loss="mse", epochs=1, random_state=0).fit(df, y)
    shifted = df.copy()
    shifted["a3"] = shifted["a3"] + 3 * df["a3"].std()
    report = pre.shift_report(shifted)
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
    inputs = report[(report["level"] == "input") & ~report["feature"].str.startswith("(")]
    assert inputs["feature"].iloc[0] == "a3"
    assert inputs["test"].iloc[0] in ("location", "spread")
    assert inputs["mean_shift"].iloc[0] == pytest.approx(3.0, rel=0.01)
    assert (inputs["adjusted_p"].iloc[1:] > 0.01).all()
    assert report["adjusted_p"].is_monotonic_increasing
    # 6 inputs, and the 8 outputs of the default layer ("embedding").
    assert report["level"].value_counts().to_dict() == {"input": 6 + 1, "representation": 8 + 1}


def test_statistics_memory_does_not_grow_with_rows():
    small = InputStatistics(np.random.default_rng(0).normal(size=(5000, 4)))
    large = InputStatistics(np.random.default_rng(0).normal(size=(60000, 4)))
    for name in ("mean", "std", "min", "max"):
        assert getattr(small, name).shape == getattr(large, name).shape == (4,)
    assert large.quantiles.shape == (5, 4)
    assert large.nbytes == small.nbytes < 100_000


def test_fingerprints_are_12_bytes_a_row_and_match_float32_rows(dataset_a):
    X, _ = dataset_a
    prints = RowFingerprints(X)
    assert prints.nbytes == 12 * len(np.unique(X, axis=0))
    assert prints.count_matches(X[:10].astype(np.float64)) == 10
    assert prints.count_matches(X[:10] + 1e-3) == 0


def _chain(pre):
    return make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=1, random_state=0),
    )


def test_rows_of_a_inside_b_warn_at_chain_fit(pre, dataset_a, dataset_b):
    X_a, _ = dataset_a
    df, y = dataset_b
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataLeakageWarning)
        _chain(pre).fit(df, y)
    leaky = df.copy()
    leaky.loc[:9, A_COLUMNS] = X_a[:10]
    expected = (
        r"10 of 180 rows fitted here \(5.6%\) hold exactly.*about 0.0 would by chance"
        r".*Remove A's rows"
    )
    with pytest.warns(DataLeakageWarning, match=expected):
        _chain(pre).fit(leaky, y)
    pre.set_params(leakage_check="raise")
    with pytest.raises(ValueError, match="10 of 180 rows"):
        _chain(pre).fit(leaky, y)
    pre.set_params(leakage_check="warn", leakage_threshold=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataLeakageWarning)
        _chain(pre).fit(leaky, y)


def test_from_model_checks_only_with_training_rows(fitted_pre, dataset_a, dataset_b):
    X_a, _ = dataset_a
    df, y = dataset_b
    leaky = df.copy()
    # 10 rows: with 240 rows of A and none repeated, 5 could be chance (p = 0.015).
    leaky.loc[:9, A_COLUMNS] = X_a[:10]
    blind = KerasTransformer.from_model(fitted_pre.model_, scaler=fitted_pre.scaler_)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataLeakageWarning)
        _chain(blind).fit(leaky, y)
    informed = KerasTransformer.from_model(
        fitted_pre.model_, scaler=fitted_pre.scaler_, training_rows=X_a
    )
    with pytest.warns(DataLeakageWarning, match="10 of 180 rows"):
        _chain(informed).fit(leaky, y)


def test_chain_predict_on_shifted_rows_warns(pre, dataset_b):
    df, y = dataset_b
    chain = _chain(pre).fit(df, y)
    shifted = df.copy()
    shifted["a1"] = shifted["a1"] * 10 + 100
    # Named by dataset B's columns, which network A never saw.
    with pytest.warns(DataShiftWarning, match="Worst: .*a1"):
        chain.predict(shifted)
    report = (
        chain.named_steps["features"].named_transformers_["representation"].shift_report(shifted)
    )
    assert report[report["level"] == "input"]["feature"].iloc[0] == "a1"


def _shift_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, DataShiftWarning)]


def test_one_row_far_out_names_the_column_how_far_and_a_s_range(pre):
    row, _ = make_dataset_a(1, seed=9)
    row[0, 4] = 1e4
    (warning,) = _shift_warnings(lambda: pre.transform(row))
    assert warning.filename == __file__  # the user's line, not skchain's or scikit-learn's
    assert re.search(
        r"this row looks unlike .*Worst: x4 = 1e\+04 \([\d.]+ standard deviations"
        r" above A's mean; A's largest [\d.]+\)",
        str(warning.message),
    )


def test_rows_far_out_jointly_still_name_the_features(pre, dataset_a):
    X_a, _ = dataset_a
    row, _ = make_dataset_a(1, seed=9)
    row[0] = X_a.mean(axis=0) + 3.5 * X_a.std(axis=0)
    (warning,) = _shift_warnings(lambda: pre.transform(row))
    message = str(warning.message)
    assert re.search(
        r"\((all features|whole rows)( and whole rows)? together, p = .*; no single"
        r" feature's test is conclusive alone\)",
        message,
    ), message
    assert re.search(r"Worst: features furthest from A: x\d = [\d.]+ \(3\.\d standard", message)


def test_chain_predict_warns_at_the_user_s_line(pre, dataset_b):
    df, y = dataset_b
    chain = _chain(pre).fit(df, y)
    shifted = df.copy()
    shifted["a1"] = shifted["a1"] * 10 + 100
    other = shifted.assign(a1=shifted["a1"] + 1)  # the same rows again are checked once (cached)
    for call in (lambda: chain.predict(shifted), lambda: chain.score(other, y)):
        warnings_ = _shift_warnings(call)
        assert warnings_ and all(w.filename == __file__ for w in warnings_)
