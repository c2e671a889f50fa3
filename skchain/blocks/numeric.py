"""Numeric blocks: standard-scaled columns; network A's scaled inputs beside its representation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .._base import standard_scaling, without_pandas_output
from ..encoders import EncodingColumns
from ..layers import FillMissing, Standardize
from ..passthrough import NetworkAInputs
from ._base import Block, layer_name
from .registry import register_block
from .representation import unserved_scaler

if TYPE_CHECKING:
    import keras

__all__ = ["NetworkAInputsBlock", "NumericBlock", "check_numeric_columns"]


@register_block
class NetworkAInputsBlock(Block):
    """A :class:`~skchain.passthrough.NetworkAInputs` alone: B's columns of A's kind,
    scaled by network A's own scaler, in network A's column order."""

    kind = "network_a_inputs"

    @classmethod
    def matches(cls, steps: Sequence[Any]) -> bool:
        return isinstance(steps[-1], NetworkAInputs) and len(steps) == 1

    def read_constants(self, steps: Sequence[Any]) -> None:
        last = steps[-1]
        self.columns = [str(c) for c in getattr(last, "feature_names_in_", self.columns)]
        self.fill: np.ndarray | None = None
        self.scaling: tuple[Any, Any] | None = None
        folded = last.estimator.folded_scaling()
        self.why_not_served = unserved_scaler(self.name, last.estimator)
        if folded is not None:
            ones = np.ones(self.width, np.float32)
            self.scaling = (folded.get("input_shift", 0 * ones), folded.get("input_scale", ones))

    @property
    def in_graph(self) -> bool:
        return self.scaling is not None

    @property
    def entry_width(self) -> int:
        return len(self.columns) if self.in_graph else self.width

    def entry(self, frame: pd.DataFrame) -> np.ndarray:
        """The raw columns as float32 (scaled in the graph), else the transformer's output."""
        if not self.in_graph:
            return super().entry(frame)
        rows = self.float32_rows(frame)
        bad = np.isinf(rows).any() if self.fill is not None else not np.isfinite(rows.sum())
        if bad:
            raise ValueError(f"{self.name}: values the graph does not take")
        return rows

    def scaling_layers(self) -> list[keras.layers.Layer]:
        layers: list[keras.layers.Layer] = []
        if self.fill is not None:
            layers.append(FillMissing(self.fill, name=f"{layer_name(self.name)}_imputer"))
        if self.scaling is not None:
            layers.append(Standardize(*self.scaling, name=f"{layer_name(self.name)}_scaler"))
        return layers


@register_block
class NumericBlock(NetworkAInputsBlock):
    """A ``StandardScaler``, alone or after ``SimpleImputer`` steps: imputed and scaled
    in the graph (``fill``: what the imputers write for a missing value;
    ``scaling``: the scaler's ``(shift, scale)``)."""

    kind = "numeric"

    @classmethod
    def matches(cls, steps: Sequence[Any]) -> bool:
        return type(steps[-1]) is StandardScaler

    def read_constants(self, steps: Sequence[Any]) -> None:
        last, before = steps[-1], steps[:-1]
        self.fill = self.scaling = None
        if all(type(s) is SimpleImputer and not s.add_indicator for s in before):
            if before:
                missing = pd.DataFrame(
                    np.full((1, len(self.columns)), np.nan), columns=self.columns
                )
                for imputer in before:
                    missing = without_pandas_output(imputer).transform(missing)
                self.fill = np.asarray(missing, np.float32).ravel()
            self.scaling = standard_scaling(last, len(self.columns))
        else:
            self.why_not_served = (
                f"block {self.name!r}: only SimpleImputer (without add_indicator) before the"
                " StandardScaler can be served"
            )


def check_numeric_columns(features: Any, X: Any, stage: str) -> None:
    """Name the block and the column when a column is missing, or a numeric one holds
    text, infinity, or missing values without an imputer; name the block when rows
    without column names (an array) meet a block that reads columns by name."""
    if not isinstance(features, ColumnTransformer):
        return
    for name, transformer, columns in features.transformers:
        if isinstance(columns, EncodingColumns):
            columns = [*columns.columns, *columns.auto_columns]
        if not isinstance(columns, list):
            continue
        if not hasattr(X, "dtypes"):
            if any(isinstance(column, str) for column in columns):
                raise ValueError(
                    f"{stage} (features step, {name!r} block): got a"
                    f" {type(X).__module__.split('.')[0]}.{type(X).__name__} without column"
                    f" names; this block reads the columns {columns[:5]}"
                    f"{' ...' if len(columns) > 5 else ''} by name: pass a DataFrame"
                    " with those columns"
                )
            continue
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(
                f"{stage} (features step, {name!r} block): column(s) {missing}"
                f" missing from X; this block reads the columns {columns}"
            )
        scaler_only = isinstance(transformer, StandardScaler)
        imputed = isinstance(transformer, Pipeline) and isinstance(
            transformer.steps[-1][1], StandardScaler
        )
        if scaler_only or imputed:
            _check_numbers(X, name, columns, scaler_only, stage)


def _check_numbers(
    X: pd.DataFrame, name: str, columns: Sequence[Any], scaler_only: bool, stage: str
) -> None:
    if _plainly_fine(X, columns, scaler_only):
        return
    for column in columns:
        values = X[column]
        if values.dtype.kind not in "iufb":
            values = pd.to_numeric(X[column], errors="coerce")
            bad = X[column][values.isna() & X[column].notna()]
            if len(bad):
                raise TypeError(
                    f"{stage} ({name} columns): column {column!r} holds"
                    f" non-numeric values such as {bad.iloc[0]!r}; expected numbers"
                )
        if values.dtype.kind == "f" and np.isinf(values.to_numpy()).any():
            raise ValueError(
                f"{stage} ({name} columns): column {column!r} holds"
                f" {int(np.isinf(values.to_numpy()).sum())} infinite value(s);"
                " expected finite numbers"
            )
        if scaler_only and values.isna().any():
            raise ValueError(
                f"{stage} ({name} columns): column {column!r} has"
                f" {int(values.isna().sum())} missing value(s); expected numbers."
                " Pass numeric_imputer= to make_chain (e.g. 'median') to fill them"
            )


def _plainly_fine(X: pd.DataFrame, columns: Sequence[Any], scaler_only: bool) -> bool:
    """Whether ``columns`` are NumPy numbers with nothing :func:`_check_numbers` refuses.

    One look at all the columns at once; when it finds something (or a column
    is not a NumPy number), the column-by-column check names it.
    """
    if not X.columns.is_unique:
        return False
    dtypes = X.dtypes
    if any(
        not isinstance(dtypes[column], np.dtype) or dtypes[column].kind not in "iufb"
        for column in columns
    ):
        return False
    floats = [column for column in columns if dtypes[column].kind == "f"]
    if not floats:
        return True
    values = X[floats].to_numpy()
    if scaler_only:  # neither infinity nor a missing value
        return bool(np.isfinite(np.sum(values, dtype=np.float64)))
    return not np.isinf(values).any()
