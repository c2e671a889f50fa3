"""Input checks shared by skchain's estimators.

Every error names the stage that refused the input and what it expected, so
that a failure deep inside a ``Pipeline`` or a ``GridSearchCV`` still says
which block of the chain to look at.
"""

import numbers
from collections.abc import Mapping
from typing import Any

import keras
import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

__all__ = [
    "as_pandas",
    "check_fit_arguments",
    "check_sample_weight_length",
    "check_target",
    "routed_fit_params",
    "checked_frame",
    "column_labels",
    "input_names",
    "validate_float32",
]


def as_pandas(X: Any, stage: str) -> Any:
    """Rows as scikit-learn users pass them, with other DataFrame libraries' frames as pandas.

    A polars (or any narwhals-supported eager) DataFrame becomes a pandas
    DataFrame with the same column names, column by column through NumPy
    (no pyarrow needed; a polars null becomes ``None`` or ``NaN``, which
    skchain treats as missing everywhere). pandas frames, arrays and lists
    pass through unchanged. A Series, where rows are expected, is a
    ``TypeError`` that says how to pass one row; a pandas frame with a column
    name twice, a ``ValueError`` naming it.

    Parameters
    ----------
    X : DataFrame, array-like
    stage : str
        The stage to name in the error.

    Returns
    -------
    pandas.DataFrame or the input unchanged

    Examples
    --------
    >>> import polars as pl
    >>> from skchain._validation import as_pandas
    >>> as_pandas(pl.DataFrame({"age": [30, None]}), "example")
        age
    0  30.0
    1   NaN
    """
    if isinstance(X, pd.DataFrame):
        if X.columns.has_duplicates:
            repeated = sorted({str(name) for name in X.columns[X.columns.duplicated()]})
            raise ValueError(
                f"{stage}: the columns {repeated} appear more than once in X; expected"
                " unique column names (drop or rename the copies)"
            )
        return X
    if isinstance(X, np.ndarray):
        return X
    if isinstance(X, pd.Series) or type(X).__name__ == "Series":
        raise TypeError(
            f"{stage}: got a {type(X).__module__.split('.')[0]} Series; expected rows as a"
            " DataFrame (or a 2-D array). For one row pass df.iloc[[7]] (a one-row"
            " DataFrame), not df.iloc[7]; for one column pass df[['name']]"
        )
    frame = nw.from_native(X, eager_only=True, pass_through=True)
    if isinstance(frame, nw.DataFrame):
        return pd.DataFrame(
            {name: frame[name].to_numpy() for name in frame.columns}, columns=frame.columns
        )
    return X


def column_labels(estimator: Any, n_columns: int) -> list[str]:
    """Names to quote in messages: the fitted feature names, else positions."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_columns:
        return [str(name) for name in names]
    return [f"column {i}" for i in range(n_columns)]


def input_names(estimator: Any) -> list[str]:
    """The column names seen in ``fit``, else ``x0, x1, ...`` (scikit-learn's default)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(estimator.n_features_in_)]
    return [str(name) for name in names]


def checked_frame(estimator: Any, X: Any, reset: bool) -> pd.DataFrame:
    """Check ``X`` as scikit-learn would and return it as a DataFrame.

    For transformers of non-numeric cells (categorical levels, sequences): a
    DataFrame keeps its columns' own dtypes, so they can be read column by
    column; anything else goes through scikit-learn's ``validate_data``
    (which refuses 1-D and empty input) and becomes a frame of objects.
    """
    X = as_pandas(X, f"{type(estimator).__name__} {'fit' if reset else 'transform'}")
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        return X
    values = validate_data(estimator, X, dtype=None, ensure_all_finite=False, reset=reset)
    return pd.DataFrame(values)


def _numeric_dataframe(X: Any, stage: str) -> Any:
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
    bad: list[str] = []
    converted: dict[Any, Any] = {}
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


def _float32_frame(X: Any) -> bool:
    """Whether ``X`` is a pandas DataFrame with rows and columns, every column NumPy float32."""
    return (
        isinstance(X, pd.DataFrame)
        and X.shape[0] > 0
        and X.shape[1] > 0
        and all(isinstance(dtype, np.dtype) and dtype == np.float32 for dtype in X.dtypes)
    )


def validate_float32(estimator: Any, X: Any, *, reset: bool, stage: str) -> np.ndarray:
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
    X = as_pandas(X, stage)
    if sparse.issparse(X):
        raise TypeError(f"{stage}: got a sparse matrix; expected a dense 2-D array or DataFrame")
    X = _numeric_dataframe(X, stage)
    try:
        if _float32_frame(X):
            # check_array's work on such a frame, without its per-column dtype
            # inspection: the names and width checked, the values read once.
            validate_data(estimator, X, skip_check_array=True, reset=reset)
            X = np.asarray(X, dtype=np.float32, order="C")
        else:
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


def check_sample_weight_length(sample_weight: Any, X: Any, stage: str) -> None:
    """A ``ValueError`` naming ``sample_weight`` unless it has one weight >= 0 per row of ``X``."""
    weights = np.asarray(sample_weight)
    shape = np.shape(weights)
    if len(shape) != 1 or shape[0] != X.shape[0]:
        raise ValueError(
            f"{stage}: sample_weight has shape {shape} for {X.shape[0]}"
            " rows; expected one weight per row of X, shape (n_samples,)"
        )
    if weights.dtype.kind in "iuf" and (weights < 0).any():
        raise ValueError(
            f"{stage}: sample_weight holds {int((weights < 0).sum())} negative weight(s);"
            " expected weights >= 0 (0 leaves the row out)"
        )


#: ``keras.Model.fit`` arguments a ``fit`` call may pass: they take effect for
#: that call (``callbacks`` run with the constructor's, the others replace
#: the constructor's values).
FIT_ARGUMENTS = ("callbacks", "epochs", "batch_size", "validation_batch_size", "verbose", "shuffle")

#: The other ``keras.Model.fit`` arguments, refused, and where each goes
#: instead. An estimator class adds or rewords some in ``_FIT_INSTEAD``.
REFUSED_FIT_ARGUMENTS = {
    "validation_data": "pass X_val= and y_val= to fit",
    "validation_split": "set the constructor parameter validation_split= (or pass X_val= and"
    " y_val= to fit)",
    "validation_freq": "set the constructor parameter fit__validation_freq=",
    "validation_steps": "each epoch uses every validation row once (set validation_batch_size="
    " to choose its batches); for Keras' own count of validation batches set the constructor"
    " parameter fit__validation_steps=",
    "steps_per_epoch": "each epoch passes over every row once (set batch_size=, a constructor"
    " parameter or fit argument, to choose its steps); for Keras' own count of batches an"
    " epoch set the constructor parameter fit__steps_per_epoch=",
    "initial_epoch": "fit trains a network from its first epoch; to continue training set"
    " the constructor parameter warm_start=True, or call partial_fit",
    "class_weight": "set the constructor parameter class_weight=",
}

#: What ``partial_fit`` refuses besides.
_PARTIAL_FIT_INSTEAD = {
    "epochs": "partial_fit trains one epoch; for more set the constructor parameter epochs="
    " and call fit",
    "initial_epoch": "partial_fit continues from the network's current epoch",
    "validation_data": "partial_fit takes no validation rows; pass X_val= and y_val= to fit",
}


def check_fit_arguments(
    estimator: Any, kwargs: Mapping[str, Any], stage: str, *, partial: bool = False
) -> dict[str, Any]:
    """The keyword arguments of a ``fit`` (or ``partial_fit``) call, checked for ``Model.fit``.

    Those of :data:`FIT_ARGUMENTS` pass (``callbacks`` as a list); any other
    keyword is a ``TypeError`` that names it and says where it goes instead,
    so that nothing is dropped without a word. The counts among them, and
    the counts the estimator routes to ``Model.fit`` through scikeras'
    ``fit__<name>=`` constructor parameters (``fit__batch_size``,
    ``fit__steps_per_epoch``, ...), must be positive ints (a batch size may
    also be None or -1, a number of steps None): else a ``ValueError`` that
    names the parameter, before anything is trained.

    Returns
    -------
    dict
    """
    refused = {
        **REFUSED_FIT_ARGUMENTS,
        **getattr(estimator, "_FIT_INSTEAD", {}),
        **(_PARTIAL_FIT_INSTEAD if partial else {}),
    }
    for name in kwargs:
        if name in refused:
            raise TypeError(f"{stage}: {name}= is not taken here; {refused[name]}")
    unknown = sorted(set(kwargs) - set(FIT_ARGUMENTS))
    if unknown:
        raise TypeError(
            f"{stage}: got unexpected keyword argument(s) {unknown}; the keyword arguments"
            f" of fit are keras.Model.fit's {list(FIT_ARGUMENTS)}"
        )
    checked = dict(kwargs)
    for name in {"epochs", "batch_size", "validation_batch_size"} & set(checked):
        _check_count(stage, name, checked[name], name)
    for name, value in routed_fit_params(estimator).items():
        _check_count(stage, f"fit__{name}", value, name)
    if "callbacks" in checked:
        callbacks = checked["callbacks"]
        callbacks = (
            []
            if callbacks is None
            else ([callbacks] if isinstance(callbacks, keras.callbacks.Callback) else callbacks)
        )
        if not isinstance(callbacks, (list, tuple)) or not all(
            isinstance(c, keras.callbacks.Callback) for c in callbacks
        ):
            raise TypeError(
                f"{stage}: callbacks={checked['callbacks']!r}; expected a keras.callbacks.Callback"
                " or a list of them"
            )
        checked["callbacks"] = list(callbacks)
    return checked


#: Counts of ``keras.Model.fit``, and what each may be besides a positive int.
_COUNTS: dict[str, tuple[Any, ...]] = {
    "epochs": (),
    "batch_size": (None, -1),
    "validation_batch_size": (None, -1),
    "steps_per_epoch": (None,),
    "validation_steps": (None,),
    "validation_freq": (),
}
_ALSO = {(): "", (None,): " or None", (None, -1): ", None, or -1 (all rows in one batch)"}


def routed_fit_params(estimator: Any) -> dict[str, Any]:
    """The estimator's counts routed to ``keras.Model.fit`` by scikeras'
    ``fit__<name>=`` constructor parameters, by Keras name (``batch_size``, ...)."""
    params = estimator.get_params(deep=False)
    return {name: params[f"fit__{name}"] for name in _COUNTS if f"fit__{name}" in params}


def _check_count(stage: str, spelled: str, value: Any, name: str) -> None:
    """A ``ValueError`` naming ``spelled=value`` unless ``value`` is a positive int
    (or one of the other values :data:`_COUNTS` allows for ``name``: None, -1)."""
    integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if integer and value > 0:
        return
    also = _COUNTS[name]
    if value is None and None in also or integer and value == -1 and -1 in also:
        return
    raise ValueError(f"{stage}: {spelled}={value!r}; expected a positive int{_ALSO[also]}")


def check_target(
    final: Any,
    X: Any,
    y: Any,
    stage: str = "Chain fit (target y, before any step is fitted)",
    input_name: str = "y",
) -> None:
    """Check a chain's target ``y`` before any step is fitted: numbers for a regressor
    (any labels for a classifier), one per row of ``X``; nothing to check for a
    ``"passthrough"`` final step or without ``y``.

    ``stage`` and ``input_name`` name the rows in the error (``y_val`` for
    validation rows).

    Raises
    ------
    ValueError
        Naming ``stage`` (by default ``Chain fit (target y, before any step is
        fitted)``) and what is wrong.
    """
    if final == "passthrough" or y is None:
        return
    try:
        numeric = None if is_classifier(final) else "numeric"
        y = check_array(y, ensure_2d=False, dtype=numeric, input_name=input_name)
        if hasattr(X, "shape") and len(y) != X.shape[0]:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples:"
                f" [{X.shape[0]}, {len(y)}]"
            )
    except ValueError as exc:
        raise ValueError(f"{stage}: {exc}") from exc
