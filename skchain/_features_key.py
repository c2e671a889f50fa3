"""What determines a fitted features step: the key of :mod:`skchain._features_cache`.

:func:`parameters_key` follows the step's parameters into every nested
estimator (a frozen network A by identity and ``fit_token``), with
``set_output`` and scikit-learn's configuration; :func:`content_key` reads the
rows and the target by content (XXH3-128 of their bytes; pandas' value hashes,
with each object's type, for other columns). Two keys are equal only when
fitting with them gives the same; what they cannot describe exactly raises
:class:`Uncacheable`.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import xxhash
from sklearn.compose import ColumnTransformer

__all__ = ["Uncacheable", "content_key", "parameters_key"]

# Parameter values compared by value (with their type: 1, 1.0 and True differ).
_PLAIN = (str, bytes, int, float, complex, bool, type(None), np.generic, np.dtype, type)
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)


class Uncacheable(Exception):
    """The key cannot describe the features step's fit exactly: fit it, keep nothing."""


class _Identity:
    """A key part equal only to the same object, which it keeps alive."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)


def _digest(array: np.ndarray) -> str:
    data = np.ascontiguousarray(array)
    # numpy declares ndarray.__buffer__ (the Buffer protocol) only for Python >= 3.12.
    return xxhash.xxh3_128_hexdigest(memoryview(data).cast("B"))  # type: ignore[arg-type]


def _looks_fitted(estimator: Any) -> bool:
    """scikit-learn's rule (``check_is_fitted``): an attribute ending in ``_``."""
    return any(k.endswith("_") and not k.startswith("__") for k in vars(estimator))


def _value_key(value: Any, network: bool) -> Hashable:
    """A hashable key equal for two values exactly when fitting with them gives the same.

    ``network=True`` inside network A's own parameters, which only its fit
    reads: values of unknown types are compared by identity there.
    """
    if isinstance(value, _PLAIN):
        return (type(value), value)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_value_key(v, network) for v in value))
    if isinstance(value, dict):
        return (
            dict,
            tuple((_value_key(k, network), _value_key(v, network)) for k, v in value.items()),
        )
    if isinstance(value, (set, frozenset)):
        return (type(value), frozenset(_value_key(v, network) for v in value))
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return (np.ndarray, value.shape, _value_key(value.ravel().tolist(), network))
        return (np.ndarray, value.dtype.str, value.shape, _digest(value))
    if isinstance(value, slice):
        return (slice, _value_key((value.start, value.stop, value.step), network))
    if hasattr(value, "get_params") and not isinstance(value, type):
        return _estimator_key(value, network)
    if network:
        return _Identity(value)
    if isinstance(value, (*_FUNCTIONS, functools.partial)):
        # What a function computes may depend on state it reads (a module's setting): its
        # identity does not say. (Pipeline(memory=...) keys them by their code.)
        raise Uncacheable(f"a function among the parameters ({value!r})")
    if _plain_object(value):  # a column selector: its class and its attributes
        return (type(value), _value_key(vars(value), network))
    raise Uncacheable(f"a parameter of type {type(value).__name__}")


def _plain_object(value: Any) -> bool:
    """An object of skchain or scikit-learn whose whole state is its ``__dict__`` (no
    slots, no C state): ``EncodingColumns``, ``make_column_selector``."""
    kind = type(value)
    return (
        hasattr(value, "__dict__")
        and kind.__module__.split(".")[0] in ("skchain", "sklearn")
        and all(
            "__slots__" not in vars(base) and base.__flags__ & (1 << 9)  # Py_TPFLAGS_HEAPTYPE
            for base in kind.__mro__[:-1]
        )
    )


def _estimator_key(estimator: Any, network: bool, top: bool = False) -> Hashable:
    """``top``: the features step itself, which a refit fits again (the others are cloned)."""
    params = estimator.get_params(deep=False)
    if getattr(estimator, "fit_token", None) is not None:
        # A fitted network A (a frozen step's estimator): clones share it; its
        # outputs change only with a new fit.
        return (
            "network",
            _Identity(estimator),
            estimator.fit_token,
            tuple((k, _value_key(v, True)) for k, v in sorted(params.items())),
        )
    if not network:
        if not top and _looks_fitted(estimator):
            raise Uncacheable(f"a fitted {type(estimator).__name__} among the parameters")
        if "random_state" in params and params["random_state"] is None:
            raise Uncacheable(f"{type(estimator).__name__}(random_state=None)")
        # (Metadata requests need no key: a fit with routed parameters is never cached.)
        if getattr(estimator, "_skl_callbacks", None):
            raise Uncacheable(f"callbacks on {type(estimator).__name__}")
    output = getattr(estimator, "_sklearn_output_config", None) or {}
    return (
        type(estimator),
        tuple(sorted((k, _value_key(v, network)) for k, v in output.items())),
        tuple((k, _value_key(v, network)) for k, v in sorted(params.items())),
    )


def parameters_key(features: Any) -> Hashable:
    """The features step's parameters, followed into every nested estimator.

    Raises
    ------
    Uncacheable
        When the parameters do not determine the fit (see the module's text).
    """
    if not isinstance(features, ColumnTransformer):
        # A ColumnTransformer fits clones of its transformers, so its fitted state is all in
        # its own attributes; a Pipeline, say, fits the estimators of its steps in place.
        raise Uncacheable(f"a features step of type {type(features).__name__}")
    config = sklearn.get_config()
    return (
        _estimator_key(features, False, top=True),
        _value_key(dict(sorted(config.items())), False),
    )


def _objects_key(values: np.ndarray) -> Hashable:
    """Values that are not plain numbers: pandas' value hashes (which spell objects as
    text: 1 and "1", None and NaN hash alike) with, for objects, each value's type."""
    hashes = _digest(pd.util.hash_array(values))
    if not values.dtype.hasobject:
        return hashes
    types = np.fromiter(map(id, map(type, values)), dtype=np.int64, count=len(values))
    return (hashes, _digest(types))


def _column_key(column: pd.Series) -> Hashable:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # the values, and the categories they may take
        categories = dtype.categories.to_numpy()
        return (dtype.ordered, _objects_key(categories), _digest(column.cat.codes.to_numpy()))
    if isinstance(dtype, np.dtype) and dtype.hasobject:
        return _objects_key(column.to_numpy())
    # Strings, nullable and Arrow dtypes: one type each (``str(dtype)`` is in the key); which
    # values are missing too (Arrow keeps NaN and null apart, pandas' hashes may not).
    hashes = pd.util.hash_pandas_object(column, index=False).to_numpy()
    return (_digest(hashes), _digest(column.isna().to_numpy(dtype=bool)))


def _frame_key(X: pd.DataFrame) -> Hashable:
    values: list[Hashable] = []
    by_dtype: dict[np.dtype, list[int]] = {}
    for j, dtype in enumerate(X.dtypes):
        if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
            by_dtype.setdefault(dtype, []).append(j)
        else:
            values.append(_column_key(X.iloc[:, j]))
    # Numbers by their bytes, the columns of one dtype together.
    values.extend(_digest(X.iloc[:, positions].to_numpy()) for positions in by_dtype.values())
    index = X.index
    index_key: Hashable
    if isinstance(index, pd.RangeIndex):
        index_key = (index.start, index.stop, index.step)
    elif isinstance(index, pd.MultiIndex):
        raise Uncacheable("a MultiIndex")
    else:
        index_key = _column_key(index.to_series())
    return (
        pd.DataFrame,
        X.shape,
        _value_key(list(X.columns), False),
        tuple(str(d) for d in X.dtypes),
        str(index.dtype),
        index_key,
        tuple(values),
    )


def content_key(X: Any, y: Any) -> Hashable:
    """The rows and the target, by content (XXH3-128; not for inputs crafted to collide).

    Raises
    ------
    Uncacheable
        For rows other than a pandas DataFrame or a NumPy array.
    """
    if isinstance(X, pd.DataFrame):
        rows = _frame_key(X)
    elif isinstance(X, np.ndarray):
        rows = _value_key(X, False)
    else:
        raise Uncacheable(f"rows of type {type(X).__name__}")
    if y is None:
        return (rows, None)
    target = np.asarray(y)
    values = _objects_key(target.ravel()) if target.dtype.hasobject else _digest(target)
    return (rows, target.dtype.str, target.shape, values)
