"""Warnings for the two costliest mistakes of chaining networks.

* **Distribution shift**: dataset B's A-like columns unlike the rows network A
  was trained on. :class:`InputStatistics` summarises A's training inputs
  (and network A's outputs on them) in memory independent of the row count;
  :func:`shift_report` tests a batch against it with two-sample tests whose
  false-alarm rate is ``shift_alpha`` per batch (:mod:`skchain.drift`).
  :func:`check_shift` (the warning and its message) is re-exported from
  ``skchain._shift_warning``.
* **Leakage**: rows of dataset A reused in dataset B, a test with a known
  false-alarm rate (:mod:`skchain.leakage`; its names are re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from . import drift
from ._shift_warning import check_shift
from .leakage import DataLeakageWarning, RowFingerprints, check_leakage, leakage_report

__all__ = [
    "DataLeakageWarning",
    "DataShiftWarning",
    "InputStatistics",
    "RowFingerprints",
    "check_leakage",
    "check_shift",
    "leakage_report",
    "representation_statistics",
    "shift_report",
]

#: Quantiles kept per feature (for reading, next to the full grid).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

_ROWS_FEATURE = "(all features: rows)"
_ALL_FEATURE = "(all features: location)"


class DataShiftWarning(UserWarning):
    """Network A's inputs in this batch are unlike those it was trained on.

    Raised (as a warning) by ``transform`` and a chain's ``predict`` when
    ``shift_check="warn"``; ``shift_check="raise"`` makes it an error. A
    batch drawn from dataset A's own distribution raises it at most
    ``shift_alpha`` (default 1%) of the time.

    Examples
    --------
    >>> import warnings
    >>> from skchain import DataShiftWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DataShiftWarning)  # fail loudly in a service
    ...     pass
    """


class InputStatistics:
    """Per-feature summary of network A's training inputs (or of its outputs).

    Memory is independent of the row count: per feature, the distribution
    function on a grid of 1,024 cells (atoms kept as such), the most
    frequent value and its share, mean, standard deviation, minimum,
    maximum and the quantiles in :data:`QUANTILES`; and the sorted
    out-of-fold scores of at most 4,000 rows for the row test. Built from at
    most 20,000 rows (a seeded random sample beyond). See
    :mod:`skchain.drift` for the tests.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Network A's raw (unscaled) training inputs, or its outputs on them.
    seed : int, default=0
        Seed of the subsample and of the calibration folds.

    Examples
    --------
    >>> import numpy as np
    >>> from skchain.diagnostics import InputStatistics
    >>> rng = np.random.default_rng(0)
    >>> stats = InputStatistics(rng.normal(size=(2000, 3)))
    >>> report = stats.report(rng.normal(size=(500, 3)) + [0, 0, 1])
    >>> report["feature"].iloc[0], report["test"].iloc[0]
    ('x2', 'location')
    """

    # The summary's fields (set from skchain.drift.summarise).
    n_samples: int
    n_reference: int
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    grid: dict[str, np.ndarray]
    floor: float
    scale: np.ndarray
    u_mean: np.ndarray
    u_var: np.ndarray
    sum_mean: float
    sum_var: float
    v_mean: np.ndarray
    v_var: np.ndarray
    dominant_value: np.ndarray
    dominant_share: np.ndarray
    calibration: np.ndarray
    quantiles: np.ndarray | None

    def __init__(self, X: ArrayLike, seed: int | None = 0) -> None:
        X = np.asarray(X, dtype=np.float64)
        self.__dict__.update(drift.summarise(X, seed))
        self.quantiles = np.quantile(X, QUANTILES, axis=0) if len(X) else None

    @property
    def nbytes(self) -> int:
        """Memory held by the summary's arrays."""
        arrays = [v for v in self.__dict__.values() if isinstance(v, np.ndarray)]
        arrays += [v for v in (self.grid or {}).values() if isinstance(v, np.ndarray)]
        return sum(a.nbytes for a in arrays)

    def report(
        self,
        X: ArrayLike,
        feature_names: Sequence[str] | None = None,
        *,
        level: str = "input",
        share: float = 1.0,
    ) -> pd.DataFrame:
        """Every test of a batch against this summary, worst first (see :func:`shift_report`).

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        feature_names : list of str, default=None
        level : str, default="input"
            Written in the report's ``level`` column.
        share : float, default=1.0
            Share of alpha this level gets (``adjusted_p`` is scaled by it).

        Returns
        -------
        pandas.DataFrame
        """
        X = np.asarray(X, dtype=np.float32)
        names = feature_names if feature_names is not None else [f"x{i}" for i in range(X.shape[1])]
        result = drift.judge_batch(self, X, share)
        rows = result.pop("rows")
        together = result.pop("all")
        frame = pd.DataFrame({"level": level, "feature": [str(n) for n in names], **result})
        line = {
            "level": level,
            "feature": _ALL_FEATURE,
            "test": "all features",
            "statistic": together[0],
            "p_value": together[1],
            "adjusted_p": together[2],
        }
        frame = pd.concat([pd.DataFrame([line]), frame], ignore_index=True)
        if rows is not None:
            line = {
                "level": level,
                "feature": _ROWS_FEATURE,
                "test": "rows",
                "statistic": rows[0],
                "p_value": rows[1],
                "adjusted_p": rows[2],
            }
            frame = pd.concat([pd.DataFrame([line]), frame], ignore_index=True)
        return _order(frame)


def _order(report: pd.DataFrame) -> pd.DataFrame:
    key = -np.abs(report["mean_shift"].fillna(np.inf).to_numpy())
    report = report.assign(_key=key)
    report = report.sort_values(["adjusted_p", "_key"], kind="stable").drop(columns="_key")
    return report.reset_index(drop=True)


def shift_report(
    statistics: InputStatistics,
    X: ArrayLike,
    feature_names: Sequence[str] | None = None,
    *,
    outputs: ArrayLike | None = None,
    output_statistics: InputStatistics | None = None,
    layer: str | None = None,
) -> pd.DataFrame:
    """Tests of a batch against network A's training data, per feature, worst first.

    A batch is flagged when some ``adjusted_p`` is at most the chosen alpha
    (``shift_alpha``, default 0.01): a batch drawn from dataset A's own
    distribution is then flagged at most alpha of the time. The tests and
    their null distributions are described in :mod:`skchain.drift`; alpha
    is split (Bonferroni) between the inputs and the representation (when
    given), and within each between tests and features.

    Parameters
    ----------
    statistics : InputStatistics
        Of network A's training inputs (recorded by ``fit``).
    X : ndarray of shape (n_rows, n_features)
        The batch, raw (unscaled), in network A's column order.
    feature_names : list of str, default=None
        Names for the input rows of the report.
    outputs : ndarray of shape (n_rows, width), default=None
        Network A's outputs for the batch at ``layer``.
    output_statistics : InputStatistics, default=None
        Of network A's outputs at ``layer`` on its training rows.
    layer : str, default=None
        The layer's name, used in the output features' names.

    Returns
    -------
    pandas.DataFrame
        One row per feature, plus one per level for all features together
        and one per level for the row test of batches up to 30 rows, worst
        first: ``level`` (``"input"`` or
        ``"representation"``), ``feature``, ``test`` (the feature's most
        significant test: ``"location"``, ``"spread"``, ``"dominant value"``,
        ``"extreme value"``; ``"all features"`` and ``"rows"`` on one line
        each per level), ``statistic`` (its z-score; for
        ``"dominant value"`` the batch's share of A's most frequent value;
        for ``"extreme value"`` the largest distance from A's mean in units
        of A's standard deviation or half-range; for ``"rows"`` the mean
        squared normal score, about 1 for rows like A's), ``p_value``,
        ``adjusted_p`` (Bonferroni-adjusted over every test of the batch,
        doubled for tests that use a normal approximation),
        and effect sizes: ``mean_shift`` (difference of means in A's
        standard deviations), ``scale_ratio`` (the batch's standard deviation
        over A's) and ``out_of_range`` (share of values outside A's range).

    Examples
    --------
    >>> import numpy as np
    >>> from skchain.diagnostics import InputStatistics, shift_report
    >>> rng = np.random.default_rng(0)
    >>> stats = InputStatistics(rng.normal(size=(2000, 4)))
    >>> batch = rng.normal(size=(300, 4)) * [1, 1, 3, 1]
    >>> shift_report(stats, batch)[["feature", "test"]].iloc[0].tolist()
    ['x2', 'spread']
    """
    X = np.asarray(X, dtype=np.float32)
    two = outputs is not None and output_statistics is not None
    share = 0.5 if two else 1.0
    parts = [statistics.report(X, feature_names, level="input", share=share)]
    if outputs is not None and output_statistics is not None:  # two
        from ._network_a_outputs import layer_feature_names  # imports Keras: only here

        outputs = np.asarray(outputs, dtype=np.float32)
        names = layer_feature_names(layer or "output", outputs.shape[1])
        parts.append(output_statistics.report(outputs, names, level="representation", share=share))
    return _order(pd.concat(parts, ignore_index=True))


def representation_statistics(
    estimator: Any, X: np.ndarray, seed: int | None = 0
) -> dict[str, InputStatistics]:
    """Summaries of network A's outputs on its training rows, per candidate layer.

    One forward pass (a multi-output model) over at most 20,000 rows of
    ``X`` computes every layer a transformer can output (2-D outputs).

    Parameters
    ----------
    estimator : KerasTransformer
        Fitted (``model_``, ``scaler_``).
    X : ndarray of shape (n_samples, n_features), float32
        Network A's raw training rows.
    seed : int, default=0

    Returns
    -------
    dict of str to InputStatistics
    """
    import keras

    from ._inference import forward_in_chunks
    from ._network_a_outputs import output_layers

    model = estimator.model_
    layers = output_layers(model)
    if not layers or X.shape[0] == 0:
        return {}
    rows = X
    if X.shape[0] > drift.MAX_SUMMARY_ROWS:
        pick = np.random.default_rng(seed).choice(X.shape[0], drift.MAX_SUMMARY_ROWS, replace=False)
        rows = X[np.sort(pick)]
    scaled = estimator.scaled_inputs(rows)
    multi = keras.Model(model.inputs[0], [layer.output for layer in layers])
    outs = forward_in_chunks(lambda x: multi(x, training=False), [scaled], 4096)
    outs = outs if isinstance(outs, list) else [outs]
    return {
        layer.name: InputStatistics(out, seed) for layer, out in zip(layers, outs, strict=False)
    }
