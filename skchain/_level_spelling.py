"""How categorical cells are spelled as text levels, whatever their type.

One spelling per level (integers and integral floats alike, booleans
``"True"``/``"False"``, bytes decoded), and one level of its own for every
kind of missing value: :func:`level_strings` (``np.nan`` where missing) and
:func:`level_texts` (:data:`MISSING` there). :class:`~skchain.encoders.CategoricalLevels`,
:class:`~skchain.HashingEncoder`, the chain's level tables and the served
model all spell levels through these two functions.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

__all__ = ["MISSING", "level_strings", "level_texts"]

#: How :class:`~skchain.HashingEncoder` and the embedding labels spell a missing value.
MISSING = "<missing>"


def _spell_cell(value: object) -> str:
    """One spelling per level for a single (non-missing) cell."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def level_strings(column: pd.Series) -> np.ndarray:
    """A column's values as text levels, ``np.nan`` where missing.

    Integers and integral floats are spelled alike (``3`` and ``3.0`` are the
    level ``"3"``: an integer column turns float as soon as a value is
    missing), booleans ``"True"``/``"False"``.

    Parameters
    ----------
    column : pandas.Series

    Returns
    -------
    ndarray of object, shape (n_rows,)
    """
    dtype = column.dtype
    missing = column.isna().to_numpy()
    if isinstance(dtype, pd.CategoricalDtype):
        spelled = level_strings(pd.Series(dtype.categories))
        codes = column.cat.codes.to_numpy()
        out = spelled[np.maximum(codes, 0)] if len(spelled) else np.full(len(codes), np.nan, object)
    elif dtype.kind == "b":
        out = np.where(column.to_numpy(dtype=bool, na_value=False), "True", "False").astype(object)
    elif dtype.kind in "iu":
        out = column.to_numpy(dtype=np.int64, na_value=0).astype(str).astype(object)
    elif dtype.kind == "f":
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        integral = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2**62)
        out = values.astype(str).astype(object)
        out[integral] = values[integral].astype(np.int64).astype(str)
    else:
        values = column.to_numpy(dtype=object, na_value=np.nan)
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            out = values.copy()
        else:
            out = np.array(
                [
                    _spell_cell(v) if not m else np.nan
                    for v, m in zip(values, missing, strict=False)
                ],
                dtype=object,
            )
    out[missing] = np.nan
    return out


def level_texts(column: pd.Series) -> np.ndarray:
    """:func:`level_strings` with :data:`MISSING` for a missing value: the text
    the hashing tokens, the served model's inputs and its level tables use."""
    levels = level_strings(column)
    levels[pd.isna(levels)] = MISSING
    return levels
