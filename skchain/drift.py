"""The numbers behind the drift check: a fixed-size summary and two-sample tests.

A :class:`~skchain.diagnostics.InputStatistics` keeps, per feature, the
cumulative distribution of dataset A's values on a grid of ``GRID`` cells
(atoms -- values that many rows share -- are kept as such), its moments, and a
few hundred out-of-fold scores of whole rows. A batch is then judged by
two-sample tests whose null distributions account for A's own sampling error:

* **location** and **spread** (per feature): the mean of ``u = F_A(x)`` (a
  Mann-Whitney test) and of ``(u - 1/2)**2`` (a Mood-type test), with normal
  null distributions of variance ``Var_A * (2/n_A + 1/m)`` (A's own sampling
  error counted twice, so that the rate holds given the dataset A one has);
* **dominant value** (per feature where one value holds half of A's rows or
  more, e.g. blank pixels or dead units): Fisher's exact test on how often the
  batch shows that value, instead of the two tests above;
* **extreme value** (per feature): Chebyshev's inequality on the value furthest
  from A's mean, in units of A's standard deviation or half-range, whichever
  is larger (valid for any distribution with a variance);
* **all features** (every batch): the mean over the batch of each row's sum
  of ``u`` over the features, against its mean and variance on A's rows -- a
  location test with power for shifts spread thinly over many features;
* **rows** (batches of at most ``SMALL_BATCH`` rows): each row's mean squared
  normal score over all features gets a conformal p-value against rows of A
  scored out of fold; the rows' p-values are combined with Fisher's method.

Alpha is split between the tests with Bonferroni's inequality (valid under any
dependence between features); tests that rest on a normal approximation run at
half their share, a margin for its error in the far tails.

A batch counts as at most ``n_A`` rows (and larger ones are judged on an
evenly strided sample of ``SAMPLE_ROWS``) in these variances: differences of
the size two samples of dataset A's size show between them are not alarms.

A's summary (the grid, :func:`placements`, :func:`row_scores`,
:func:`summarise`) is built in ``skchain._drift_summary`` and re-exported
here; this module judges a batch against it (:func:`judge_batch`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ._drift_summary import GRID as GRID
from ._drift_summary import MAX_CALIBRATION_ROWS as MAX_CALIBRATION_ROWS
from ._drift_summary import MAX_SUMMARY_ROWS as MAX_SUMMARY_ROWS
from ._drift_summary import Z_CLIP as Z_CLIP
from ._drift_summary import _mean
from ._drift_summary import build_grid as build_grid
from ._drift_summary import calibration_scores as calibration_scores
from ._drift_summary import cell_of as cell_of
from ._drift_summary import placements as placements
from ._drift_summary import placements_by_feature as placements_by_feature
from ._drift_summary import row_scores as row_scores
from ._drift_summary import runs as runs
from ._drift_summary import summarise as summarise

if TYPE_CHECKING:
    from .diagnostics import InputStatistics

#: Batches up to this many rows also get the row test.
SMALL_BATCH = 30
#: Larger batches are judged on an evenly strided sample of at most this many rows.
SAMPLE_ROWS = 1024
#: A value held by at least this share of A's rows makes its feature "mostly one value".
DOMINANT = 0.5
#: Tests whose null distribution is a normal approximation run at their share
#: of alpha divided by this: a margin for the approximation's error in the far
#: tails, so that the false-alarm rate stays below alpha (exact tests -- the
#: conformal row test, Chebyshev, Fisher's exact -- use their whole share).
APPROXIMATION_MARGIN = 2.0
#: A's summary counts as this many times fewer rows than it was built from.
A_DISCOUNT = 2.0
#: Share of a level's alpha per test, for small and for large batches.
WEIGHTS = {
    True: {"rows": 0.3, "all": 0.1, "location": 0.3, "spread": 0.15, "extreme": 0.15},
    False: {"rows": 0.0, "all": 0.2, "location": 0.4, "spread": 0.25, "extreme": 0.15},
}


@overload
def judge_batch(
    summary: InputStatistics,
    X: np.ndarray,
    share: float,
    effects: bool = ...,
    verdict: Literal[False] = ...,
) -> dict[str, Any]: ...


@overload
def judge_batch(
    summary: InputStatistics,
    X: np.ndarray,
    share: float,
    effects: bool = ...,
    *,
    verdict: Literal[True],
) -> float: ...


def judge_batch(
    summary: InputStatistics,
    X: np.ndarray,
    share: float,
    effects: bool = True,
    verdict: bool = False,
) -> dict[str, Any] | float:
    """Every test of one level on a batch; see :func:`skchain.diagnostics.shift_report`.

    Returns a dict of per-feature arrays (``test``, ``statistic``,
    ``p_value``, ``adjusted_p``, ``mean_shift``, ``scale_ratio``,
    ``out_of_range``) and the row test's ``rows`` tuple
    ``(statistic, p_value, adjusted_p)`` or None. ``adjusted_p`` is the
    Bonferroni-adjusted p-value over all tests of the batch, given this
    level's ``share`` of alpha.

    ``verdict=True``: only the smallest adjusted p-value of every test of the
    batch, as a float (the same number the full result gives; the per-feature
    report is not built).
    """
    m = X.shape[0]
    d = X.shape[1]
    small = m <= SMALL_BATCH
    weights = WEIGHTS[small]
    sample = X if m <= SAMPLE_ROWS else X[:: -(-m // SAMPLE_ROWS)]
    m_s = sample.shape[0]
    # The sample feature by feature (d, m_s): placements_by_feature's layout.
    columns = np.ascontiguousarray(sample.T)
    n = summary.n_reference
    m_eff = max(1.0, min(m_s, n))
    # A's summary counts as n_A / 2 rows: its own sampling error counted twice,
    # so that one unlucky estimate in A does not flag most later batches (the
    # false-alarm rate holds given the dataset A one has, not only on average).
    n_a = max(1.0, n / A_DISCOUNT)
    factor = 1.0 / n_a + 1.0 / m_eff

    u = placements_by_feature(summary.grid, columns)  # (d, m_s)
    mean_u = _mean(u, axis=1)
    centred = u - np.float32(0.5)
    spread_u = _mean(np.square(centred, out=centred), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_location = (mean_u - summary.u_mean) / np.sqrt(summary.u_var * factor)
        z_spread = (spread_u - summary.v_mean) / np.sqrt(summary.v_var * factor)
    z_location = np.where(np.isfinite(z_location), z_location, 0.0)
    z_spread = np.where(np.isfinite(z_spread), z_spread, 0.0)
    p_location = 2 * special.ndtr(-np.abs(z_location))
    p_spread = 2 * special.ndtr(-np.abs(z_spread))

    # Features that are mostly one value: Fisher's exact test on its count.
    idx = np.flatnonzero(summary.dominant_share >= DOMINANT)
    # Without such features this test's adjusted p-values are d / (share *
    # weight) >= 1, never a verdict's smallest (capped at 1): not built then.
    dominant_test = bool(idx.size) or not verdict
    if dominant_test:
        p_dominant = np.ones(d)
        dominant_margin = np.ones(d)
        count_share = np.full(d, np.nan)
    if idx.size:
        value = summary.dominant_value[idx].astype(np.float32)
        hits = (columns[idx] == value[:, None]).sum(axis=1)
        count_share[idx] = hits / m_s
        scale = m_eff / m_s
        b = np.rint(hits * scale)
        m_round = np.rint(m_s * scale)
        a = np.rint(summary.dominant_share[idx] * np.rint(n_a))
        p_dominant[idx], approximate = _dominant_fisher(summary, a, np.rint(n_a), b, m_round)
        dominant_margin[idx] = np.where(approximate, APPROXIMATION_MARGIN, 1.0)
        p_location[idx] = 1.0
        p_spread[idx] = 1.0

    # Values far from A's mean: Chebyshev, union over the sample's rows.
    x_max = columns.max(axis=1).astype(np.float64)
    x_min = columns.min(axis=1).astype(np.float64)
    far = np.maximum(np.abs(x_max - summary.mean), np.abs(x_min - summary.mean)) / summary.scale
    p_extreme = np.minimum(1.0, m_s / np.maximum(far, 1e-12) ** 2)

    unit = share / d
    margin = APPROXIMATION_MARGIN
    # In the report's order: location, spread, dominant value, extreme value.
    adjusted = [
        p_location * margin / (unit * weights["location"]),
        p_spread * margin / (unit * weights["spread"]),
        *([p_dominant * dominant_margin / (unit * weights["location"])] if dominant_test else []),
        p_extreme / (unit * weights["extreme"]),
    ]
    rows_u = np.ascontiguousarray(u.T) if small else None  # small: the sample is X
    row_test = _row_test(summary, X, rows_u, m, small, share, weights)
    all_test = _all_features_test(summary, u, factor, share, weights)
    if verdict:
        smallest = min(float(np.concatenate(adjusted).min()), all_test[2])
        return min(1.0, smallest, row_test[2] if row_test else 1.0)
    candidates = np.stack(adjusted)
    names = np.array(["location", "spread", "dominant value", "extreme value"])
    raw = np.stack([p_location, p_spread, p_dominant, p_extreme])
    statistic = np.stack([z_location, z_spread, count_share, far])
    worst = np.argmin(candidates, axis=0)
    cols = np.arange(d)
    result: dict[str, Any] = {
        "test": names[worst],
        "statistic": statistic[worst, cols],
        "p_value": raw[worst, cols],
        "adjusted_p": np.minimum(1.0, candidates[worst, cols]),
        "rows": None,
    }
    result["all"] = all_test
    result["rows"] = row_test
    if effects:
        result.update(_effects(summary, sample))
    return result


def _all_features_test(
    summary: InputStatistics,
    u: np.ndarray,
    factor: float,
    share: float,
    weights: Mapping[str, float],
) -> tuple[float, float, float]:
    """All features together: the mean over the batch of each row's sum of u, which a
    shift spread thinly over many features moves a lot. ``(z, p, adjusted p)``."""
    total = u.sum(axis=0, dtype=np.float64)  # u: (d, m_s)
    z_all = 0.0
    if summary.sum_var > 0:
        z_all = (total.sum() / total.size - summary.sum_mean) / np.sqrt(summary.sum_var * factor)
    p_all = float(2 * special.ndtr(-abs(z_all)))
    adjusted = min(1.0, p_all * APPROXIMATION_MARGIN / (share * weights["all"]))
    return (float(z_all), p_all, adjusted)


def _row_test(
    summary: InputStatistics,
    X: np.ndarray,
    u: np.ndarray | None,
    m: int,
    small: bool,
    share: float,
    weights: Mapping[str, float],
) -> tuple[float, float, float] | None:
    """Small batches: each row's score against the calibration scores, combined with
    Fisher's method. ``(mean score, p, adjusted p)``, or None."""
    calibration = summary.calibration
    if not (small and calibration.size):
        return None
    scores = row_scores(summary.grid, X, u)
    exceed = calibration.size - np.searchsorted(calibration, scores, side="left")
    p_rows = (1.0 + exceed) / (calibration.size + 1.0)
    fisher = -2.0 * np.log(p_rows).sum()
    p = float(special.chdtrc(2 * m, fisher))  # stats.chi2.sf, without its overhead
    return (float(scores.sum() / scores.size), p, min(1.0, p / (share * weights["rows"])))


def _effects(summary: InputStatistics, sample: np.ndarray) -> dict[str, np.ndarray]:
    """Effect sizes a person can read: mean shift, scale ratio, share out of range."""
    m_s, d = sample.shape
    mean = sample.mean(axis=0, dtype=np.float64)
    std = sample.std(axis=0, dtype=np.float64)
    spread_a = np.sqrt(summary.std**2 + summary.floor**2)
    outside = (sample < summary.min.astype(np.float32)) | (sample > summary.max.astype(np.float32))
    return {
        "mean_shift": (mean - summary.mean) / spread_a,
        "scale_ratio": np.sqrt(std**2 + summary.floor**2) / spread_a
        if m_s > 1
        else np.full(d, np.nan),
        "out_of_range": outside.mean(axis=0),
    }


# Per summary (weakly held) and batch size: the dominant-value test's p-value for
# every possible count, so that small batches (a service's single rows) read a table
# instead of calling scipy.stats.hypergeom (about 0.2 ms a call, twice per level).
_FISHER_TABLES: weakref.WeakKeyDictionary[Any, dict[tuple[float, float], Any]] = (
    weakref.WeakKeyDictionary()
)
MAX_TABLE_ROWS = 64


def _dominant_fisher(
    summary: InputStatistics, a: np.ndarray, n: float, b: np.ndarray, m: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fisher_two_sided` of the dominant features' counts ``b`` in a batch of
    ``m`` rows; up to :data:`MAX_TABLE_ROWS` rows from a table computed once."""
    if m > MAX_TABLE_ROWS:
        return fisher_two_sided(a, n, b, m)
    tables = _FISHER_TABLES.setdefault(summary, {})
    table = tables.get((float(n), float(m)))
    if table is None or table[0].shape[1] != a.size:
        counts = np.arange(int(m) + 1, dtype=np.float64)
        every_a, every_b = np.broadcast_arrays(a[None, :], counts[:, None])
        p, approximate = fisher_two_sided(every_a.ravel(), n, every_b.ravel(), m)
        table = (p.reshape(every_a.shape), approximate.reshape(every_a.shape))
        tables[(float(n), float(m))] = table
    rows, cols = b.astype(np.int64), np.arange(a.size)
    return table[0][rows, cols], table[1][rows, cols]


def fisher_two_sided(
    a: ArrayLike, n: float, b: ArrayLike, m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-value (twice the smaller tail) of Fisher's exact test of
    ``a`` of ``n`` against ``b`` of ``m``; the normal approximation (with
    continuity correction) where every expected cell count is at least 20.
    Returns the p-values and where the approximation was used."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    total, hits = n + m, a + b
    expected = np.stack(
        [hits * m / total, (total - hits) * m / total, hits * n / total, (total - hits) * n / total]
    )
    large = expected.min(axis=0) >= 20
    p = np.ones_like(b)
    if large.any():
        mean = hits[large] * m / total
        var = mean * (1 - hits[large] / total) * n / max(total - 1, 1)
        z = np.maximum(np.abs(b[large] - mean) - 0.5, 0) / np.sqrt(var)
        p[large] = 2 * special.ndtr(-z)
    exact = ~large
    if exact.any():
        low = stats.hypergeom.cdf(b[exact], total, hits[exact], m)
        high = stats.hypergeom.sf(b[exact] - 1, total, hits[exact], m)
        p[exact] = 2 * np.minimum(low, high)
    return np.minimum(p, 1.0), large
