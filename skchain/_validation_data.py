"""The validation data a chain's final network watches: ``Chain.fit(X_val=, y_val=)``.

Checked before any step is fitted, with the named errors of the training rows;
the chain then passes ``X_val`` through its fitted features step and hands the
final network ``(features, y_val)`` (``history_["val_loss"]``, early stopping,
fine-tuning's joint phase).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._network import BlockNetworkMixin
from ._validation import as_pandas, check_target
from .blocks import check_numeric_columns

__all__ = ["validation_rows"]


def validation_rows(
    final: Any, features: Any, X_val: Any, y_val: Any
) -> tuple[pd.DataFrame, Any] | None:
    """``(X_val as pandas, y_val)`` checked for the chain's ``final`` stage and ``features``
    step, or None when neither is given.

    Raises
    ------
    ValueError
        When only one of them is given, when the final stage is not a
        ``ChainRegressor`` or ``ChainClassifier``, or (as for the training
        rows) for a target or numeric columns it cannot use.
    """
    if X_val is None and y_val is None:
        return None
    stage = "Chain fit (validation rows)"
    if X_val is None or y_val is None:
        raise ValueError(f"{stage}: pass both X_val and y_val, or neither")
    if not isinstance(final, BlockNetworkMixin):
        raise ValueError(
            f"{stage}: X_val and y_val need a ChainRegressor or ChainClassifier as the"
            f" final step; got {type(final).__name__}"
        )
    X_val = as_pandas(X_val, stage)
    check_target(
        final, X_val, y_val, stage="Chain fit (validation rows, y_val)", input_name="y_val"
    )
    check_numeric_columns(features, X_val, "Chain fit (X_val)")
    return X_val, y_val
