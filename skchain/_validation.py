"""Input checks shared by skchain's estimators.

Every error names the stage that refused the input and what it expected, so
that a failure deep inside a ``Pipeline`` or a ``GridSearchCV`` still says
which block of the chain to look at.
"""

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.validation import validate_data

__all__ = ["checked_frame", "column_labels", "input_names", "validate_float32"]


def column_labels(estimator, n_columns):
    """Names to quote in messages: the fitted feature names, else positions."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_columns:
        return [str(name) for name in names]
    return [f"column {i}" for i in range(n_columns)]


def input_names(estimator):
    """The column names seen in ``fit``, else ``x0, x1, ...`` (scikit-learn's default)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(estimator.n_features_in_)]
    return [str(name) for name in names]


def checked_frame(estimator, X, reset):
    """Check ``X`` as scikit-learn would and return it as a DataFrame.

    For transformers of non-numeric cells (categorical levels, sequences): a
    DataFrame keeps its columns' own dtypes, so they can be read column by
    column; anything else goes through scikit-learn's ``validate_data``
    (which refuses 1-D and empty input) and becomes a frame of objects.
    """
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        return X
    values = validate_data(estimator, X, dtype=None, ensure_all_finite=False, reset=reset)
    return pd.DataFrame(values)


def _numeric_dataframe(X, stage):
    """Check a DataFrame's columns are numeric; convert object columns of numbers.

    Raises ``ValueError`` for duplicated column names and ``TypeError`` naming
    the columns that hold something other than numbers.
    """
    if not hasattr(X, "dtypes"):
        return X
    duplicated = X.columns[X.columns.duplicated()].unique()
    if len(duplicated):
        raise ValueError(
            f"{stage}: duplicated column names {[str(c) for c in duplicated]};"
            " expected each column once"
        )
    bad, converted = [], {}
    for name, dtype in X.dtypes.items():
        if getattr(dtype, "kind", "O") in "iufb":
            continue
        try:
            converted[name] = pd.to_numeric(X[name], errors="raise")
        except (TypeError, ValueError):
            bad.append(str(name))
    if bad:
        raise TypeError(
            f"{stage}: column(s) {bad} are not numeric; expected numeric columns"
            " (encode categorical columns before this stage)"
        )
    if converted:
        X = X.copy()
        for name, values in converted.items():
            X[name] = values
    return X


def validate_float32(estimator, X, *, reset, stage):
    """Validate ``X`` as a finite 2-D float32 array and record or check its width.

    Parameters
    ----------
    estimator : estimator instance
        Receives ``n_features_in_`` and ``feature_names_in_`` when ``reset``
        is true, and is checked against them otherwise (scikit-learn's own
        ``validate_data`` does both).
    X : array-like of shape (n_samples, n_features)
        Input. Integers and float64 are cast to float32 once; float32 input
        that is already C-contiguous is not copied.
    reset : bool
        True in ``fit``, False afterwards.
    stage : str
        The stage to name in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_features), dtype float32
    """
    if sparse.issparse(X):
        raise TypeError(
            f"{stage}: got a sparse matrix; expected a dense 2-D array or DataFrame"
        )
    X = _numeric_dataframe(X, stage)
    try:
        X = validate_data(
            estimator,
            X,
            reset=reset,
            dtype=np.float32,
            ensure_all_finite=False,
            order="C",
        )
    except ValueError as exc:
        raise ValueError(f"{stage}: {exc}") from exc
    # Summing is far cheaper than a full isfinite mask on the happy path.
    if not np.isfinite(np.sum(X, dtype=np.float64)):
        bad = np.flatnonzero(~np.isfinite(X).all(axis=0))
        if bad.size:
            labels = column_labels(estimator, X.shape[1])
            names = [labels[i] for i in bad[:10]]
            more = f" and {bad.size - 10} more" if bad.size > 10 else ""
            raise ValueError(
                f"{stage}: input contains NaN or infinity in {names}{more};"
                " expected finite values (impute or drop them first)"
            )
    return X
