"""Warnings for the two costliest mistakes of chaining networks.

* **Distribution shift**: dataset B's A-like columns unlike the rows network A
  was trained on. :class:`InputStatistics` summarises A's training inputs
  (and network A's outputs on them) in memory independent of the row count;
  :func:`shift_report` tests a batch against it with two-sample tests whose
  false-alarm rate is ``shift_alpha`` per batch (:mod:`skchain.drift`).
* **Leakage**: rows of dataset A reused in dataset B, a test with a known
  false-alarm rate (:mod:`skchain.leakage`; its names are re-exported here).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from . import drift
from ._user_frame import warn_at_user
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
_TOGETHER = {"rows": "whole rows", "all features": "all features"}


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


def _describe(row: pd.Series) -> str:
    name = row["feature"]
    if row["level"] == "representation":
        name = f"output {name}"
    test = row["test"]
    where = "inputs" if row["level"] == "input" else "outputs"
    if test == "rows":
        return f"whole rows ({where} jointly far from A's rows)"
    if test == "all features":
        word = "higher" if row["statistic"] > 0 else "lower"
        return f"all {where} together (typically {word} than A's, z = {row['statistic']:.1f})"
    if test in ("location", "spread"):
        word = "higher" if row["mean_shift"] > 0 else "lower"
        return (
            f"{name} (mean {abs(row['mean_shift']):.1f} standard deviations {word},"
            f" spread {row['scale_ratio']:.2f} times A's)"
        )
    if test == "dominant value":
        return f"{name} (A's most common value in {row['statistic']:.0%} of these rows)"
    return f"{name} (a value {row['statistic']:.0f} standard deviations from A's mean)"


def _named_inputs(
    statistics: InputStatistics,
    X: np.ndarray,
    report: pd.DataFrame,
    names: Sequence[str],
    flagged: Collection[str],
    top: int = 3,
) -> list[str]:
    """The input features furthest from A, by their own evidence, in words.

    The flagged features (``flagged``: names), or when none is flagged on its
    own (the all-features or whole-row test fired), every input feature:
    values outside A's range first, then the smallest unadjusted
    p-values, then the largest distance from A's mean. For one row, each value
    is quoted with that distance in A's standard deviations and A's extreme on
    that side, e.g. "carat = 40 (80.2 standard deviations above A's mean; A's
    largest 5.01)".
    """
    position = {str(name): j for j, name in enumerate(names)}
    inputs = report[(report["level"] == "input") & report["feature"].isin(position)]
    if inputs["feature"].isin(flagged).any():
        inputs = inputs[inputs["feature"].isin(flagged)]
    if inputs.empty:
        return []
    column = inputs["feature"].map(position).to_numpy()
    values = np.asarray(X, dtype=np.float64)[:, column]
    mean, low, high = statistics.mean[column], statistics.min[column], statistics.max[column]
    spread = np.where(statistics.std[column] > 0, statistics.std[column], statistics.scale[column])
    deviation = values - mean
    furthest = deviation[np.argmax(np.abs(deviation), axis=0), np.arange(len(column))]
    outside_rows = (values < low) | (values > high)
    order: np.ndarray | list[Any] = np.lexsort(
        (-np.abs(furthest) / spread, inputs["p_value"].to_numpy(), ~outside_rows.any(axis=0))
    )
    if not inputs["feature"].isin(flagged).any():
        # None flagged: only features remarkable on their own (outside A's
        # range, 2 standard deviations out, or p <= 0.05), at least one.
        remarkable = (
            outside_rows.any(axis=0)
            | (np.abs(furthest) / spread >= 2)
            | (inputs["p_value"].to_numpy() <= 0.05)
        )
        order = [k for k in order if remarkable[k]] or list(order[:1])
    order = order[:top]
    named: list[str] = []
    for k in order:
        row = inputs.iloc[k]
        z = furthest[k] / spread[k]
        extreme = mean[k] + furthest[k]
        side = "above" if z > 0 else "below"
        bound = f"A's largest {high[k]:.4g}" if z > 0 else f"A's smallest {low[k]:.4g}"
        if X.shape[0] == 1:
            named.append(
                f"{row['feature']} = {extreme:.4g} ({abs(z):.1f} standard deviations"
                f" {side} A's mean; {bound})"
            )
        elif outside_rows[:, k].any():
            named.append(
                f"{_describe(row)[:-1]}; {int(outside_rows[:, k].sum())} of"
                f" {X.shape[0]} values outside A's range {low[k]:.4g} to {high[k]:.4g},"
                f" furthest {extreme:.4g}: {abs(z):.1f} standard deviations {side} A's"
                " mean)"
            )
        else:
            named.append(_describe(row))
    return named


def check_shift(
    statistics: InputStatistics | None,
    X: np.ndarray,
    *,
    mode: Literal["warn", "raise", "off"],
    alpha: float,
    feature_names: Sequence[str] | None,
    stage: str,
    outputs: np.ndarray | None = None,
    output_statistics: InputStatistics | None = None,
    layer: str | None = None,
    adapted: bool = False,
) -> None:
    """Warn (or raise) when the batch's drift test rejects at level ``alpha``.

    ``adapted=True``: ``statistics`` summarise the rows an adapted network A
    was adapted to (``FrozenTransformer(adapt=...)``), and the message says so.
    """
    if mode == "off" or statistics is None or X.shape[0] == 0:
        return
    if outputs is not None and output_statistics is None:
        outputs = None
    # The verdict first, without effect sizes or a DataFrame: most batches pass.
    share = 0.5 if outputs is not None else 1.0
    levels = [(statistics, X)] + (
        [(output_statistics, outputs)]
        if outputs is not None and output_statistics is not None
        else []
    )
    smallest = 1.0
    for summary, rows in levels:
        smallest = min(
            smallest,
            drift.judge_batch(summary, np.asarray(rows, dtype=np.float32), share, verdict=True),
        )
    if smallest > alpha:
        return
    report = shift_report(
        statistics,
        X,
        feature_names,
        outputs=outputs,
        output_statistics=output_statistics,
        layer=layer,
    )
    flagged = report[report["adjusted_p"] <= alpha]
    if flagged.empty:
        return
    counts: list[str] = []
    for level, width, what in (
        ("input", X.shape[1], "input features"),
        (
            "representation",
            None if outputs is None else outputs.shape[1],
            f"outputs of layer {layer!r}",
        ),
    ):
        rows = flagged[
            (flagged["level"] == level) & ~flagged["test"].isin(["rows", "all features"])
        ]
        if width is not None and (level == "input" or output_statistics is not None):
            counts.append(f"{len(rows)} of {width} {what}")
    together = flagged[flagged["test"].isin(["rows", "all features"])]
    # The inputs first, by their own evidence (what a person can check), then
    # network A's outputs, then the tests of all features or whole rows.
    names = feature_names if feature_names is not None else [f"x{i}" for i in range(X.shape[1])]
    flagged_inputs = flagged.loc[
        (flagged["level"] == "input") & ~flagged["test"].isin(["rows", "all features"]), "feature"
    ]
    named = _named_inputs(statistics, X, report, [str(n) for n in names], set(flagged_inputs))
    if named and flagged_inputs.empty:
        named[0] = "features furthest from A: " + named[0]
    outputs_flagged = flagged[
        (flagged["level"] == "representation") & ~flagged["test"].isin(["rows", "all features"])
    ].head(2)
    listed = "; ".join(
        named
        + [_describe(row) for _, row in outputs_flagged.iterrows()]
        + [_describe(row) for _, row in together.head(2).iterrows()]
    )
    rows_word = "this row looks" if X.shape[0] == 1 else f"these {X.shape[0]} rows look"
    p_text = f"p = {flagged['adjusted_p'].iloc[0]:.2g} after correcting for every test"
    if flagged_inputs.empty and outputs_flagged.empty:
        tests = " and ".join(sorted({_TOGETHER[t] for t in together["test"]}))
        evidence = f"{tests} together, {p_text}; no single feature's test is conclusive alone"
    else:
        evidence = f"{' and '.join(counts)} differ; {p_text}"
    if adapted:
        message = (
            f"{stage}: {rows_word} unlike the rows network A was adapted to ({evidence};"
            f" 'A' in these figures means those rows). Worst: {listed}. A batch drawn from"
            f" the distribution of those rows gets this warning at most {alpha:.2%} of the"
            " time (shift_alpha). The adaptation may not suit these rows: check the data"
            " pipeline (units, scaling, column order), compare shift_report(X), and refit"
            " the chain on rows like these to adapt network A to them (or fine-tune it)."
        )
    else:
        message = (
            f"{stage}: {rows_word} unlike network A's training data ({evidence})."
            f" Worst: {listed}. A batch drawn from"
            f" dataset A's own distribution gets this warning at most {alpha:.2%} of the time"
            " (shift_alpha). Network A's representation may not be reliable for these"
            " rows: check the data pipeline (units, scaling, column order), compare"
            " shift_report(X) with dataset A, and if the change is real adapt network A"
            " to B's rows (make_chain(..., adapt='standardize', 'coral' or 'adabn'),"
            " searchable as features__<name>__adapt), fine-tune it with B's labels"
            " (fine_tune=FineTune(...)) or retrain it on data like these rows."
        )
    if mode == "raise":
        raise ValueError(message)
    warn_at_user(message, DataShiftWarning)


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
