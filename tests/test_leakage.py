"""The leakage test: its false-alarm rate with coarse values, its power, its report."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from skchain import ChainRegressor, DataLeakageWarning, make_chain
from skchain.leakage import RowFingerprints, check_leakage, leakage_report, leakage_test

A_COLUMNS = [f"a{i}" for i in range(6)]


def coarse_rows(rng, n):
    """Three features on coarse grids, like diamonds' carats, grades and depths: about 5% of
    2,000 rows equal another row by chance."""
    return np.column_stack(
        [
            np.round(rng.gamma(2.0, 0.4, n), 2),
            rng.integers(1, 6, n),
            np.round(rng.normal(61.7, 1.4, n), 1),
        ]
    ).astype(np.float64)


def rejection_rate(leak_share, n_sims=300, n_a=2000, n_b=300, alpha=0.01, seed=0):
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(n_sims):
        a = coarse_rows(rng, n_a)
        b = coarse_rows(rng, n_b)
        n_leak = int(round(leak_share * n_b))
        if n_leak:
            b[:n_leak] = a[rng.choice(n_a, n_leak, replace=False)]
        alarms += leakage_test(RowFingerprints(a), b)["p_value"] <= alpha
    return alarms / n_sims


def test_coarse_values_match_by_chance_without_alarms():
    rng = np.random.default_rng(1)
    a, b = coarse_rows(rng, 2000), coarse_rows(rng, 300)
    result = leakage_test(RowFingerprints(a), b)
    # Many rows of B equal a row of A by chance, as many as A's own repeat rate predicts.
    assert result["matched"] > 5
    assert result["expected"] == pytest.approx(result["matched"], rel=0.5)
    # Over many clean draws, alarms at most alpha (+ 3 standard errors).
    se = np.sqrt(0.01 * 0.99 / 300)
    assert rejection_rate(0.0) <= 0.01 + 3 * se


def test_planted_leaks_are_found():
    assert rejection_rate(0.25, n_sims=40) == 1.0
    assert rejection_rate(0.05, n_sims=40) >= 0.5


def test_continuous_rows_any_match_is_evidence():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(500, 4))
    prints = RowFingerprints(a)
    assert prints.n_repeated == 0
    assert leakage_test(prints, rng.normal(size=(100, 4)))["matched"] == 0
    # 500 rows of A, none repeated: 3 matches of 100 are not chance.
    result = leakage_test(prints, np.vstack([a[:3], rng.normal(size=(97, 4))]))
    assert result["matched"] == 3 and result["p_value"] < 0.01
    assert leakage_test(prints, np.empty((0, 4)))["p_value"] == 1.0


def test_report_lists_positions_and_how_many_rows_of_a_hold_them():
    a = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [3.0, 4.0]])
    prints = RowFingerprints(a)
    assert (prints.n_rows, prints.n_repeated, prints.repeat_rate) == (4, 3, 0.75)
    assert prints.design_effect == 3.0  # one group of three equal rows
    b = np.array([[9.0, 9.0], [3.0, 4.0], [1.0, 2.0]], dtype=np.float32)
    report = leakage_report(prints, b)
    assert report.to_dict("list") == {"row": [1, 2], "rows_of_a": [1, 3]}
    # A common value (three rows of A hold it): matches by chance, no alarm.
    assert check_leakage(prints, b, mode="raise", alpha=0.01, stage="s")["matched"] == 2


def test_fingerprints_pickled_before_the_counts_still_load():
    prints = RowFingerprints(np.arange(12.0).reshape(6, 2))
    state = {"hashes": prints.hashes}
    old = RowFingerprints.__new__(RowFingerprints)
    old.__setstate__(state)
    assert old.count_matches(np.arange(4.0).reshape(2, 2)) == 2
    assert pickle.loads(pickle.dumps(old)).n_rows == 6


def test_chain_warning_says_what_was_measured_and_points_at_this_file(
    fitted_pre, dataset_a, dataset_b
):
    X_a, _ = dataset_a
    df, y = dataset_b
    leaky = df.copy()
    leaky.loc[:9, A_COLUMNS] = X_a[:10]
    chain = make_chain(
        fitted_pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=1, random_state=0),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chain.fit(leaky, y)
    leaks = [w for w in caught if issubclass(w.category, DataLeakageWarning)]
    assert len(leaks) == 1
    assert leaks[0].filename == __file__
    message = str(leaks[0].message)
    assert "10 of 180 rows" in message and "p = " in message and "leakage_report" in message
    frozen = chain.named_steps["features"].named_transformers_["representation"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no scikit-learn feature-name warning either
        report = frozen.leakage_report(leaky)
        frozen.shift_report(leaky)
    assert report["row"].tolist() == list(range(10))
    assert report.attrs["test"]["matched"] == 10
    # Columns matched by name: the frame's order does not matter.
    assert frozen.leakage_report(leaky[A_COLUMNS[::-1] + ["store"]])["row"].tolist() == list(
        range(10)
    )
    # leakage_alpha is a constructor parameter, validated at fit.
    assert fitted_pre.get_params()["leakage_alpha"] == 0.01
    X_a_small, y_a_small = X_a[:50], dataset_a[1][:50]
    with pytest.raises(
        ValueError,
        match=r"'leakage_alpha' parameter of KerasTransformer must"
        r" be a float in the range \(0.0, 1.0\). Got 0 instead",
    ):
        clone(fitted_pre).set_params(leakage_alpha=0).fit(X_a_small, y_a_small)
