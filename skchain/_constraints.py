"""Parameter constraints of the final network, declared once in scikit-learn's style.

:class:`~skchain.ChainRegressor` and :class:`~skchain.ChainClassifier` declare
``_parameter_constraints`` (:data:`FINAL_NETWORK_CONSTRAINTS`), checked by
scikit-learn's ``_validate_params`` at the start of ``fit`` and
``partial_fit``; :func:`named_error` adds the stage and ``name=value``
to scikit-learn's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from sklearn.utils._param_validation import Interval, InvalidParameterError, Options

__all__ = ["BATCH_SIZE", "FINAL_NETWORK_CONSTRAINTS", "POSITIVE_COUNT", "named_error"]


class _IntNotBool(Interval):
    """An interval of ints that refuses booleans."""

    def is_satisfied_by(self, val: object) -> bool:
        return not isinstance(val, bool) and super().is_satisfied_by(val)


class _PositiveInts(Options):
    """A tuple (or list) of positive ints."""

    def __init__(self) -> None:
        super().__init__(tuple, set())

    def is_satisfied_by(self, val: object) -> bool:
        return isinstance(val, (tuple, list)) and all(
            isinstance(v, Integral) and int(v) > 0 for v in val
        )

    def __str__(self) -> str:
        return "a tuple of positive ints"


class _PositiveIntsByName(Options):
    """A dict of positive ints."""

    def __init__(self) -> None:
        super().__init__(dict, set())

    def is_satisfied_by(self, val: object) -> bool:
        return isinstance(val, dict) and all(
            isinstance(v, Integral) and int(v) > 0 for v in val.values()
        )

    def __str__(self) -> str:
        return "a dict of positive ints"


_POSITIVE = Interval(Integral, 1, None, closed="left")
#: A count of at least one (epochs, patience...), not a boolean.
POSITIVE_COUNT = _IntNotBool(Integral, 1, None, closed="left")
#: A batch size: a positive int, -1 (all rows in one batch) or None (Keras' default).
BATCH_SIZE = [POSITIVE_COUNT, Options(Integral, {-1}), None]

#: The checked parameters of ChainRegressor and ChainClassifier.
FINAL_NETWORK_CONSTRAINTS: dict[str, list[Any]] = {
    "hidden_units": [_POSITIVE, _PositiveInts()],
    "branch_units": [_POSITIVE, None],
    "embedding_dim": [_POSITIVE, _PositiveIntsByName(), None],
    "token_embedding_dim": [_POSITIVE],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "epochs": [POSITIVE_COUNT],
    "batch_size": BATCH_SIZE,
    "validation_batch_size": BATCH_SIZE,
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [_IntNotBool(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
}


def named_error(exc: Exception, params: Mapping[str, Any], stage: str) -> InvalidParameterError:
    """scikit-learn's ``InvalidParameterError`` ``exc`` for ``params``, its message
    prefixed by the stage and ``name=value``, e.g. ``"ChainRegressor (final
    network): dropout=1.0; The 'dropout' parameter of ChainRegressor must be a
    float in the range [0.0, 1.0). Got 1.0 instead."`` (a ``ValueError`` and a
    ``TypeError``)."""
    name = next((n for n in FINAL_NETWORK_CONSTRAINTS if f"'{n}' parameter" in str(exc)), None)
    told = f"{name}={params[name]!r}; " if name is not None and name in params else ""
    return InvalidParameterError(f"{stage}: {told}{exc}")
