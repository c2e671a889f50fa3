"""The drift check's warning: when a batch is flagged, and what the message says.

:func:`check_shift` runs the drift test of :mod:`skchain.drift` on a batch
at level ``alpha`` (the verdict alone first: most batches pass), and when it
rejects builds the report of :func:`skchain.diagnostics.shift_report` and
warns (a :class:`~skchain.diagnostics.DataShiftWarning`) or raises in words a
person can check: the input features furthest from network A's training
rows, network A's outputs, then the tests of all features or whole rows.
Re-exported by :mod:`skchain.diagnostics`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from . import drift
from ._user_frame import warn_at_user

if TYPE_CHECKING:
    from .diagnostics import InputStatistics

__all__ = ["check_shift"]

_TOGETHER = {"rows": "whole rows", "all features": "all features"}


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
    from .diagnostics import DataShiftWarning, shift_report  # diagnostics imports this module

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
