"""B's own columns in a chain: the transformers :func:`~skchain.make_chain` builds for them.

The numeric block (an optional imputer, then a ``StandardScaler``) and one
block per categorical encoding in use (``"onehot"``, ``"hashed"``,
``"embedded"``), each ``(name, transformer, columns)`` for the features
step's ``ColumnTransformer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sklearn import config_context
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .blocks import block_names_by_encoding
from .encoders import CATEGORICAL_ENCODINGS, EncodingColumns, make_categorical_encoder

__all__ = ["ENCODER_NAMES", "categorical_blocks", "numeric_block"]

#: The block name of each categorical encoding.
ENCODER_NAMES = block_names_by_encoding()


def _unweighted(scaler: Any) -> Any:
    """A scaler ``make_chain`` made, declared not to take ``sample_weight`` under metadata routing.

    Sample weights weight the networks' training; the chain's own scalers
    are fitted on all rows, routed or not, so a user who requests
    ``sample_weight`` on the final stage never meets an
    ``UnsetMetadataPassedError`` for a step they did not write.
    """
    with config_context(enable_metadata_routing=True):
        return scaler.set_fit_request(sample_weight=False)


def numeric_block(numeric_imputer: Any) -> Any:
    """The numeric block's transformer: ``numeric_imputer`` (if any), then a ``StandardScaler``."""
    if numeric_imputer is None:
        return _unweighted(StandardScaler())
    if isinstance(numeric_imputer, str):
        imputer = SimpleImputer(strategy=numeric_imputer, keep_empty_features=True)
    elif hasattr(numeric_imputer, "fit") and hasattr(numeric_imputer, "transform"):
        imputer = clone(numeric_imputer)
    else:
        raise TypeError(
            "make_chain: numeric_imputer must be None, a SimpleImputer strategy"
            " ('mean', 'median', 'most_frequent', 'constant') or a transformer; got"
            f" {type(numeric_imputer).__name__}"
        )
    return Pipeline([("imputer", imputer), ("scaler", _unweighted(StandardScaler()))])


def categorical_blocks(
    columns: Iterable[str | int],
    encoding: str | Mapping[str, str],
    *,
    hash_features: int,
    min_frequency: int | float | None,
    max_categories: int | None,
    max_onehot_levels: int,
    high_cardinality: str,
) -> list[tuple[str, Any, Any]]:
    """``(name, transformer, columns)`` of each categorical encoding in use."""
    columns = list(columns)
    per_column: dict[Any, object]
    if isinstance(encoding, dict):
        if not columns:
            columns = list(encoding)
        unnamed = [c for c in columns if c not in encoding]
        extra = [c for c in encoding if c not in columns]
        if unnamed or extra:
            raise ValueError(
                "make_chain: categorical_encoding as a dict must name each categorical"
                f" column once; not named: {unnamed}, not categorical columns: {extra}"
            )
        per_column = dict(encoding)
    else:
        per_column = {c: encoding for c in columns}
    allowed = (*CATEGORICAL_ENCODINGS, "auto")
    for column, choice in per_column.items():
        if choice not in allowed:
            raise ValueError(
                f"make_chain: categorical_encoding={choice!r} for column {column!r} is not"
                f" supported; expected one of {list(allowed)}"
            )
    if high_cardinality not in ("embed", "hash"):
        raise ValueError(
            f"make_chain: high_cardinality={high_cardinality!r}; expected 'embed' or 'hash'"
        )
    auto = [c for c in columns if per_column[c] == "auto"]
    blocks: list[tuple[str, Any, Any]] = []
    for choice in CATEGORICAL_ENCODINGS:
        fixed = [c for c in columns if per_column[c] == choice]
        candidates = auto if choice in ("onehot", high_cardinality) else []
        if not fixed and not candidates:
            continue
        selected: EncodingColumns | list[str | int] = (
            EncodingColumns(choice, fixed, candidates, max_onehot_levels, high_cardinality)
            if candidates
            else fixed
        )
        encoder = make_categorical_encoder(
            choice,
            hash_features=hash_features,
            min_frequency=min_frequency,
            max_categories=max_categories,
        )
        blocks.append((ENCODER_NAMES[choice], encoder, selected))
    return blocks
