"""All or nothing: a fit that fails leaves an already fitted estimator exactly as it was.

:func:`snapshot` keeps the ``__dict__`` of an estimator and of every estimator
nested in it; :func:`restore` puts them back.
"""

from __future__ import annotations

from typing import Any

from .blocks import fitted_transformers

__all__ = ["estimators_in", "restore", "snapshot"]


def estimators_in(estimator: Any) -> list[Any]:
    """The estimator and every estimator nested in it (parameters and fitted parts).

    Follows parameters (also inside lists and tuples, as in ``steps`` and
    ``transformers``) and a ``ColumnTransformer``'s fitted ``transformers_``.
    """
    found: dict[int, Any] = {}
    stack: list[Any] = [estimator]
    while stack:
        current = stack.pop()
        if isinstance(current, (list, tuple)):
            stack.extend(current)
            continue
        if id(current) in found or not hasattr(current, "get_params") or isinstance(current, type):
            continue
        found[id(current)] = current
        stack.extend(
            v
            for v in current.get_params(deep=False).values()
            if isinstance(v, (list, tuple)) or hasattr(v, "get_params")
        )
        stack.extend(fitted_transformers(current))
    return list(found.values())


def snapshot(estimator: Any) -> list[tuple[Any, dict[str, Any]]]:
    """The state of ``estimator`` and of every estimator nested in it (see :func:`restore`)."""
    return [(est, dict(est.__dict__)) for est in estimators_in(estimator)]


def restore(saved: list[tuple[Any, dict[str, Any]]]) -> None:
    """Put back the state :func:`snapshot` kept."""
    for est, state in saved:
        est.__dict__.clear()
        est.__dict__.update(state)
