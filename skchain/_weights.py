"""Sample weights: one meaning everywhere (a row of weight 0 is the row left out).

:func:`rows_of_positive_weight` is how a :class:`~skchain.Chain` drops the
rows of weight 0 before any step is fitted; :func:`class_sample_weight` folds
``class_weight`` into the weights, counting classes by weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

__all__ = ["class_sample_weight", "rows_of_positive_weight"]


def rows_of_positive_weight(
    X: pd.DataFrame, y: Any, params: dict[str, Any], sample_weight: Any
) -> tuple[pd.DataFrame, Any, dict[str, Any], Any]:
    """``X``, ``y``, the fit parameters and the weights without the rows of weight 0.

    A row of weight 0 is the row left out, for every step: the scalers,
    imputers and categorical levels of the features step, ``"auto"``'s choice
    of encodings, the final network (its class weights and early stopping's
    validation rows) and fine-tuning are all fitted on the other rows. Every
    parameter holding one value per row (the weights, arrays of ``len(X)``
    rows) loses the same rows; nothing of the caller's is modified.
    """
    weights = np.asarray(sample_weight)
    keep = weights != 0
    if keep.all() or weights.ndim != 1:
        return X, y, params, sample_weight
    if not keep.any():
        raise ValueError(
            "Chain fit (before any step is fitted): every sample_weight is 0; expected at"
            " least one row of positive weight"
        )
    n_rows = len(keep)

    def rows(value: Any, name: str = "") -> Any:
        if name == "sample_weight" or name.endswith("__sample_weight"):
            return np.asarray(value)[keep]
        if isinstance(value, (pd.DataFrame, pd.Series)) and len(value) == n_rows:
            return value.iloc[keep]
        if isinstance(value, np.ndarray) and value.ndim and len(value) == n_rows:
            return value[keep]
        return value

    y = None if y is None else rows(y if hasattr(y, "shape") else np.asarray(y))
    params = {name: rows(value, name) for name, value in params.items()}
    return X.iloc[keep], y, params, weights[keep]


def class_sample_weight(
    class_weight: str | Mapping[Any, float] | Sequence[Mapping[Any, float]] | None,
    y: Any,
    sample_weight: Any = None,
) -> np.ndarray | None:
    """Per-row weights: ``class_weight``'s times ``sample_weight``'s, in a new array.

    As scikit-learn's ``compute_sample_weight``, except that ``"balanced"``
    counts each row by its weight, as ``compute_class_weight(...,
    sample_weight=)`` does: a row of weight 0 counts as a row left out.

    Parameters
    ----------
    class_weight : None, "balanced" or dict
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Class labels.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    ndarray of shape (n_samples,), float64, or None
        None without either weights. Never ``sample_weight`` itself.
    """
    weights = None if sample_weight is None else np.array(sample_weight, dtype=np.float64)
    if class_weight is None:
        return weights
    if weights is None or not (isinstance(class_weight, str) and class_weight == "balanced"):
        by_class = compute_sample_weight(class_weight, y)
        return by_class if weights is None else weights * by_class
    counted = weights != 0
    for column in np.asarray(y).reshape(len(weights), -1).T:
        classes = np.unique(column[counted])
        if not classes.size:  # no row has weight: nothing to train on (refused later)
            break
        per_class = compute_class_weight(
            "balanced", classes=classes, y=column[counted], sample_weight=weights[counted]
        )
        at = np.searchsorted(classes, column).clip(0, classes.size - 1)
        # A class whose rows all weigh 0 gets 0, as if they were left out.
        weights = weights * np.where(classes[at] == column, per_class[at], 0.0)
    return weights
