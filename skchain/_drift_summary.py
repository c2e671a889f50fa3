"""Dataset A's side of the drift check: the fixed-size summary of its rows.

:func:`summarise` computes the fields of an
:class:`~skchain.diagnostics.InputStatistics`: per feature, the cumulative
distribution of A's values on a grid of ``GRID`` cells (:func:`build_grid`;
atoms -- values that many rows share -- kept as such), its moments and most
frequent value, and the out-of-fold scores of whole rows
(:func:`calibration_scores`). :func:`placements` reads a batch's values on
that grid (``u = F_A(x)``; :func:`placements_by_feature` in the transposed
layout) and :func:`row_scores` scores whole rows; the batch's tests that use
them are in :mod:`skchain.drift`, which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

#: Cells of the per-feature grid on which A's distribution function is kept.
GRID = 1024
#: Rows of A used to build the summary (a seeded random sample beyond).
MAX_SUMMARY_ROWS = 20_000
#: Rows of A scored out of fold to calibrate the row test.
MAX_CALIBRATION_ROWS = 4_000
#: Normal scores are clipped here (a value outside A's range scores this).
Z_CLIP = 3.5
#: Integers up to this are exact in float32.
_EXACT_FLOAT32 = 2**24


def build_grid(X: ArrayLike) -> dict[str, np.ndarray]:
    """Per-feature distribution functions of ``X`` on ``GRID`` cells.

    Returns a dict with ``low``, ``inverse_width`` (per feature) and the
    flattened tables ``start`` and ``slope`` of shape ``(d * (GRID + 2),)``:
    the value of ``u`` at each cell's left edge and its increase across the
    cell. Cell 0 holds values below A's minimum (``u = 0``), cell ``GRID + 1``
    values above its maximum (``u = 1``); a cell holding an atom has the
    atom's mid-probability and no slope, so tied values get mid-ranks.
    """
    X = np.sort(np.asarray(X, dtype=np.float64), axis=0)
    n, d = X.shape
    low, high = X[0], X[-1]
    constant = high <= low
    low = np.where(constant, low - 0.5, low)
    width = np.where(constant, 1.0, high - low) / GRID
    inverse = 1.0 / width
    start = np.zeros((d, GRID + 2))
    slope = np.zeros((d, GRID + 2))
    edges_index = np.arange(GRID + 1)
    for j in range(d):
        column = X[:, j]
        edges = low[j] + edges_index * width[j]
        # Empirical distribution function at the edges, linear between order
        # statistics: a continuous, monotone stand-in for F_A.
        below = np.searchsorted(column, edges, side="left")
        upto = np.searchsorted(column, edges, side="right")
        cdf = (below + upto) / (2.0 * n)
        start[j, 1:-1] = cdf[:-1]
        slope[j, 1:-1] = np.diff(cdf)
        start[j, -1] = 1.0
        values, counts = runs(column)
        atoms = values[counts >= max(2, n / GRID)]
        if atoms.size:
            lo = np.searchsorted(column, atoms, side="left") / n
            hi = np.searchsorted(column, atoms, side="right") / n
            cells = cell_of(atoms, low[j], inverse[j])
            for cell in np.unique(cells):
                held = cells == cell
                start[j, cell] = (lo[held].min() + hi[held].max()) / 2
                slope[j, cell] = 0.0
    return {
        "low": low,
        "inverse_width": inverse,
        "start": start.ravel().astype(np.float32),
        "slope": slope.ravel().astype(np.float32),
    }


def runs(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted column and how often each occurs."""
    starts = np.flatnonzero(np.concatenate([[True], column[1:] != column[:-1]]))
    return column[starts], np.diff(np.append(starts, len(column)))


def cell_of(values: ArrayLike, low: float, inverse: float) -> np.ndarray:
    """Grid cell (0 .. GRID + 1) and the position inside it, for values of one feature."""
    position = np.clip(
        (np.asarray(values, dtype=np.float64) - low) * inverse + 1.0, 0.0, GRID + 1.0
    )
    return np.minimum(position.astype(np.int64), GRID + 1)


def placements(grid: Mapping[str, np.ndarray], X: ArrayLike) -> np.ndarray:
    """``u = F_A(x)`` for every value of ``X`` (n_rows, d), float32, in [0, 1]."""
    X = np.asarray(X, dtype=np.float32)
    # The same elementwise work on X.T, a view: each value's u is the same bits.
    return np.ascontiguousarray(placements_by_feature(grid, X.T).T)


def placements_by_feature(grid: Mapping[str, np.ndarray], columns: ArrayLike) -> np.ndarray:
    """:func:`placements` of ``columns`` = ``X.T`` (d, n_rows), in that layout.

    The drift check's layout for large batches: with each feature's values
    contiguous, the gathers from the feature's own table come one table after
    another (~a quarter faster than row by row, which visits every table in
    each row).
    """
    columns = np.asarray(columns, dtype=np.float32)
    d = columns.shape[0]
    position = columns * grid["inverse_width"].astype(np.float32)[:, None]
    position += (1.0 - grid["low"] * grid["inverse_width"]).astype(np.float32)[:, None]
    _clip_in_place(position, 0.0, GRID + 1.0)
    whole = np.floor(position)
    position -= whole  # exact: a float32 less its integer part
    # Each feature's table starts GRID + 2 cells after the previous one's.
    # Platform-sized indices: numpy converts any other index type before it
    # gathers (a third of the gathers' time for int32 indices).
    offsets = np.arange(0, d * (GRID + 2), GRID + 2)[:, None]
    if d * (GRID + 2) <= _EXACT_FLOAT32:  # added in float32, exactly: one pass fewer
        whole += offsets.astype(np.float32)
        cell = whole.astype(np.intp)
    else:
        cell = whole.astype(np.intp)
        cell += offsets
    u = grid["start"][cell]
    position *= grid["slope"][cell]
    u += position
    return u


_U_CLIP = (float(special.ndtr(-Z_CLIP)), float(special.ndtr(Z_CLIP)))


def _clip_in_place(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``np.clip(values, low, high, out=values)``, the same bits, without np.clip's
    Python-level checks (the drift check of a one-row batch pays them on every call)."""
    np.maximum(values, low, out=values)
    np.minimum(values, high, out=values)
    return values


def _mean(values: np.ndarray, axis: int) -> np.ndarray:
    """``values.mean(axis, dtype=np.float64)``, bit for bit (the same sum, divided by
    the count), without ``numpy.mean``'s overhead (tens of microseconds a call, which
    a service's one-row batches pay several times)."""
    return values.sum(axis=axis, dtype=np.float64) / values.shape[axis]


def row_scores(
    grid: Mapping[str, np.ndarray], X: ArrayLike, u: np.ndarray | None = None
) -> np.ndarray:
    """Mean squared normal score of each row: about 1 for rows like A's.

    ``u``: the rows' :func:`placements`, when the caller has them already.
    """
    if u is None:
        u = placements(grid, X)
    z = special.ndtri(_clip_in_place(u.astype(np.float64), *_U_CLIP))
    z *= z
    return _mean(z, axis=1)


def calibration_scores(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row scores of up to ``MAX_CALIBRATION_ROWS`` rows of ``X``, each scored
    by a grid built without it (two folds), sorted."""
    n = X.shape[0]
    if n < 4:
        return np.zeros(0)
    chosen = rng.permutation(n)[: min(n, MAX_CALIBRATION_ROWS)]
    folds = np.array_split(chosen, 2)
    scores: list[np.ndarray] = []
    for fold in folds:
        keep = np.ones(n, dtype=bool)
        keep[fold] = False
        scores.append(row_scores(build_grid(X[keep]), X[fold]))
    return np.sort(np.concatenate(scores))


def summarise(X: ArrayLike, seed: int | None = 0) -> dict[str, Any]:
    """Fields of an :class:`~skchain.diagnostics.InputStatistics` for rows ``X``."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    sub = X if n <= MAX_SUMMARY_ROWS else X[np.sort(rng.choice(n, MAX_SUMMARY_ROWS, replace=False))]
    grid = build_grid(sub) if n else None
    fields: dict[str, Any] = {
        "n_samples": n,
        "n_reference": sub.shape[0],
        "mean": X.mean(axis=0),
        "std": X.std(axis=0),
        "min": X.min(axis=0),
        "max": X.max(axis=0),
        "grid": grid,
    }
    positive = fields["std"][fields["std"] > 0]
    fields["floor"] = 0.05 * (float(np.median(positive)) if positive.size else 1.0)
    fields["scale"] = np.maximum.reduce(
        [fields["std"], (fields["max"] - fields["min"]) / 2, np.full(d, fields["floor"])]
    )
    assert grid is not None  # n > 0: X.min above raises for no rows
    u = placements(grid, sub).astype(np.float64)
    v = (u - 0.5) ** 2
    fields["u_mean"], fields["u_var"] = u.mean(axis=0), u.var(axis=0)
    total = u.sum(axis=1)
    fields["sum_mean"], fields["sum_var"] = float(total.mean()), float(total.var())
    fields["v_mean"], fields["v_var"] = v.mean(axis=0), v.var(axis=0)
    values = np.empty(d)
    shares = np.empty(d)
    ordered = np.sort(sub, axis=0)
    for j in range(d):
        uniques, counts = runs(ordered[:, j])
        top = int(np.argmax(counts))
        values[j], shares[j] = uniques[top], counts[top] / sub.shape[0]
    fields["dominant_value"], fields["dominant_share"] = values, shares
    fields["calibration"] = calibration_scores(sub, rng)
    return fields
