"""Column identity: which of dataset B's columns feed which input of network A.

When network A knows its input names (fitted on a DataFrame, or wrapped by
``KerasTransformer.from_model`` with a scaler fitted on one) and the frozen
step's ``fit`` gets a DataFrame, its columns are matched to network A's
inputs **by name** (after ``rename``), whatever their order; otherwise by
position. :func:`columns_in_network_order` is that matching, with the
errors that name both lists.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ._validation import as_pandas, validate_float32

__all__ = [
    "check_network_inputs",
    "columns_in_network_order",
    "names_for_messages",
    "rows_in_network_order",
    "step_names_for_messages",
]


def columns_in_network_order(
    X: Any, inner_names: Iterable[Any] | None, rename: Mapping[Any, Any] | None, stage: str
) -> list[Any] | None:
    """``X``'s columns in network A's input order (by name), or None: match by position.

    Parameters
    ----------
    X : DataFrame or ndarray
        The rows given to the frozen step's ``fit``.
    inner_names : array-like of str or None
        Network A's input names (its ``feature_names_in_``), None when unknown.
    rename : dict or None
        ``{B's column name: network A's input name}``.
    stage : str
        The stage to name in errors.

    Returns
    -------
    list or None
        B's column names, one per input of network A, in network A's order;
        None when columns are matched by position (``X`` is an array, its
        column names are not all strings, or network A has no names).

    Raises
    ------
    ValueError
        When ``rename`` is given but network A has no names, names a column
        not in ``X``, or when a column is unknown to network A, an input of
        network A has no column, or several columns provide one input.
    """
    rename = dict(rename or {})
    if rename and inner_names is None:
        raise ValueError(
            f"{stage}: rename={rename} needs network A's input names, but network A was"
            " fitted without column names; list B's columns in network A's input order"
            " instead (they are then matched by position)"
        )
    if not hasattr(X, "columns") or inner_names is None:
        return None
    columns = list(X.columns)
    if not all(isinstance(c, str) for c in columns):
        return None
    unknown_keys = [c for c in rename if c not in columns]
    if unknown_keys:
        raise ValueError(
            f"{stage}: rename names {unknown_keys}, which are not among the columns"
            f" {columns} given for network A"
        )
    as_a = [rename.get(c, c) for c in columns]
    a_names = [str(n) for n in inner_names]
    unknown = [c for c, a in zip(columns, as_a, strict=False) if a not in a_names]
    absent = [a for a in a_names if a not in as_a]
    twice = sorted({a for a in as_a if as_a.count(a) > 1})
    if unknown or absent or twice:

        def told(c: Any) -> str:
            return repr(c) if rename.get(c, c) == c else f"{rename[c]!r} (B's {c!r})"

        problems: list[str] = []
        if unknown:
            problems.append(f"network A never saw [{', '.join(told(c) for c in unknown)}]")
        if absent:
            problems.append(f"no column provides network A's input(s) {absent}")
        for a in twice:
            providers = [c for c, x in zip(columns, as_a, strict=True) if x == a]
            problems.append(f"several columns provide {a!r}: {providers}")
        mapped = f" (as network A's names: {as_a})" if rename else ""
        raise ValueError(
            f"{stage}: {'; '.join(problems)}. B's columns for network A: {columns}{mapped};"
            f" network A's inputs, in its order: {a_names}. Columns are matched to"
            " network A's inputs by name: list the same names (in any order), or map"
            " B's names to A's with representation_columns={B's name: A's name}"
            " (make_chain) / rename= (FrozenTransformer)"
        )
    position = {a: c for c, a in zip(columns, as_a, strict=False)}
    return [position[a] for a in a_names]


def rows_in_network_order(step: Any, X: Any, reset: bool, stage: str) -> np.ndarray:
    """``X`` validated by the frozen ``step``, as float32 in network A's column order.

    In ``fit`` (``reset=True``), a DataFrame's columns are matched to network
    A's input names (:func:`columns_in_network_order`); afterwards the columns
    recorded then (``step.feature_names_in_``) are read by name, extra
    columns ignored.

    Parameters
    ----------
    step : FrozenTransformer
        Its ``estimator`` (network A), ``rename`` and the names it recorded.
    X : DataFrame or array-like of shape (n_samples, n_features)
    reset : bool
        True in ``fit``: record the columns (``feature_names_in_``, ``n_features_in_``).
    stage : str
        The stage to name in errors.

    Returns
    -------
    ndarray of shape (n_samples, network A's n_features_in_), dtype float32

    Raises
    ------
    ValueError
        When the columns do not give network A's inputs; the message names them.
    """
    inner = step.estimator
    X = as_pandas(X, stage)
    if reset:
        order = columns_in_network_order(
            X, getattr(inner, "feature_names_in_", None), step.rename, stage
        )
        step._network_inputs = _network_inputs(inner)
    else:
        check_network_inputs(step, stage)
        order = getattr(step, "feature_names_in_", None)
    missing: list[str] = []
    if hasattr(X, "columns") and order is not None:
        missing = [str(c) for c in order if c not in X.columns]
        if not missing:
            X = X[list(order)]
    X = validate_float32(step, X, reset=reset, stage=stage)
    if X.shape[1] != inner.n_features_in_:
        detail = f"; missing: {missing[:10]}" if missing else ""
        raise ValueError(
            f"{stage}: network A expects {inner.n_features_in_} inputs, got"
            f" {X.shape[1]} columns{detail}"
        )
    return X


def _network_inputs(network_a: Any) -> tuple[int, tuple[str, ...] | None]:
    names = getattr(network_a, "feature_names_in_", None)
    return int(network_a.n_features_in_), None if names is None else tuple(map(str, names))


def check_network_inputs(step: Any, stage: str) -> None:
    """Refuse a step whose network A was refitted on other inputs since the step's ``fit``.

    The step matched B's columns to network A's inputs in ``fit``; network A
    refitted in place with its columns in another order (or others) makes that
    matching, and what the final network learned from it, stale.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        Naming both input lists; the chain (or the step) must be fitted again.
    """
    recorded = step.__dict__.get("_network_inputs")
    if recorded is None:
        return
    now = _network_inputs(step.estimator)
    if now != recorded:
        from sklearn.exceptions import NotFittedError

        def shown(inputs: tuple[int, tuple[str, ...] | None]) -> str:
            count, names = inputs
            return f"{count} inputs" + ("" if names is None else f" {list(names[:6])}...")

        raise NotFittedError(
            f"{stage}: network A was refitted on other inputs since this step was fitted"
            f" ({shown(recorded)} then, {shown(now)} now): B's columns were matched to the"
            " old ones; fit the chain again"
        )


def names_for_messages(
    names: Iterable[Any] | None, rename: Mapping[Any, Any] | None
) -> list[str] | None:
    """B's column names as messages quote them, with network A's name where ``rename`` maps one.

    Parameters
    ----------
    names : array-like of str or None
    rename : dict or None

    Returns
    -------
    list of str or None
    """
    if names is None:
        return None
    rename = rename or {}
    return [str(n) if rename.get(n, n) == n else f"{n} (network A's {rename[n]})" for n in names]


# Per step: the fitted columns and ``rename`` its names for messages were built from,
# and the names; outside the steps, so that transform leaves their ``__dict__`` unchanged.
_message_names: weakref.WeakKeyDictionary[Any, tuple[Any, Any, list[str] | None]] = (
    weakref.WeakKeyDictionary()
)


def step_names_for_messages(step: Any) -> list[str] | None:
    """:func:`names_for_messages` of a fitted step's ``feature_names_in_`` and ``rename``,
    remembered while they are the same (every prediction's shift check quotes them;
    a hundred names cost tens of microseconds to build)."""
    columns = getattr(step, "feature_names_in_", None)
    remembered = _message_names.get(step)
    if remembered is not None and remembered[0] is columns and remembered[1] == step.rename:
        return remembered[2]
    names = names_for_messages(columns, step.rename)
    rename = None if step.rename is None else dict(step.rename)
    _message_names[step] = (columns, rename, names)
    return names
