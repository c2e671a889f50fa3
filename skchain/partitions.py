"""Batch scoring of a Dask DataFrame, partition by partition, on a cluster.

Needs ``dask[dataframe]`` (``pip install "skchain[dask]"``); imported when
called. The fitted estimator travels to the workers once (one object in the
task graph, not one copy per partition) and each partition is scored as a
pandas frame by the estimator's own method, so the results equal scoring
the whole frame with pandas.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

__all__ = ["predict_partitions"]

_METHODS = ("predict", "predict_proba", "transform")


def _meta(estimator: Any, method: str) -> pd.DataFrame | pd.Series:
    """An empty pandas object shaped like ``method``'s output for one partition."""
    if method == "predict_proba":
        return pd.DataFrame({str(c): pd.Series(dtype=np.float32) for c in estimator.classes_})
    if method == "transform":
        names = estimator.get_feature_names_out()
        return pd.DataFrame({str(c): pd.Series(dtype=np.float32) for c in names})
    if is_classifier(estimator):
        return pd.Series(np.asarray(estimator.classes_)[:0], name="prediction")
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    outputs = getattr(final, "n_outputs_", 1)
    if getattr(final, "y_ndim_", 1) == 1 or outputs == 1:
        return pd.Series(dtype=np.float32, name="prediction")
    return pd.DataFrame({f"prediction{i}": pd.Series(dtype=np.float32) for i in range(outputs)})


def _score_partition(
    partition: pd.DataFrame, estimator: Any, method: str, meta: pd.DataFrame | pd.Series
) -> pd.DataFrame | pd.Series:
    if len(partition) == 0:
        return meta.copy()
    out = np.asarray(getattr(estimator, method)(partition))
    if isinstance(meta, pd.Series):
        return pd.Series(out.reshape(len(partition)), index=partition.index, name=meta.name)
    return pd.DataFrame(
        out.reshape(len(partition), -1), index=partition.index, columns=meta.columns
    )


def predict_partitions(
    estimator: Any,
    frame: Any,
    method: Literal["predict", "predict_proba", "transform"] = "predict",
) -> Any:
    """Score a Dask DataFrame with a fitted chain (or any fitted estimator), lazily.

    Parameters
    ----------
    estimator : Chain or estimator
        Fitted; it is pickled to the workers once.
    frame : dask.dataframe.DataFrame
        The rows to score, with the columns the estimator was fitted on.
    method : {"predict", "predict_proba", "transform"}, default="predict"

    Returns
    -------
    dask.dataframe.Series or DataFrame
        Indexed like ``frame``: a Series ``"prediction"`` (``predict``), one
        column per class (``predict_proba``) or per output feature
        (``transform``). Call ``.compute()`` (or write it with ``to_parquet``).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> from skchain.partitions import predict_partitions
    >>> ddf = dd.from_pandas(df_new, npartitions=8)  # doctest: +SKIP
    >>> predictions = predict_partitions(chain, ddf).compute()  # doctest: +SKIP
    """
    try:
        import dask
    except ImportError:
        raise ImportError("predict_partitions needs dask: pip install 'skchain[dask]'") from None
    if method not in _METHODS:
        raise ValueError(f"predict_partitions: method={method!r}; expected one of {list(_METHODS)}")
    if not hasattr(estimator, method):
        raise ValueError(f"predict_partitions: {type(estimator).__name__} has no {method}")
    if not hasattr(frame, "map_partitions"):
        raise TypeError(
            f"predict_partitions: expected a dask DataFrame; got {type(frame).__name__}"
            f" (call estimator.{method} directly on pandas or polars frames)"
        )
    check_is_fitted(estimator)
    meta = _meta(estimator, method)
    shared = dask.delayed(estimator, pure=True)
    return frame.map_partitions(_score_partition, shared, method, meta, meta=meta)
