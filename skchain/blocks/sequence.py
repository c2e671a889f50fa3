"""Sequence blocks: padded sequences, and the final network's recurrent branch."""

from __future__ import annotations

import copy
from collections.abc import Callable, Container, Hashable, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from .._base import dense_float32
from ..layers import CategoryIndex
from ..sequences import SequencePadder
from ._base import Block, layer_name, serving_name
from .registry import register_block

__all__ = ["SequenceBlock", "one_column_padder"]


def one_column_padder(padder: SequencePadder, column: Hashable) -> SequencePadder:
    """The fitted padder restricted to one of its columns (it pads each column alike)."""
    one = copy.copy(padder)
    one.n_features_in_ = 1
    one.feature_names_in_ = np.asarray([column], dtype=object)
    return one


@register_block
class SequenceBlock(Block):
    """A :class:`~skchain.SequencePadder` (last step): one padded sequence per row.

    The final network gives it a recurrent branch: integer columns are token
    ids (``Embedding(mask_zero=True)`` then a GRU), float columns values
    (``Masking(0.0)`` then a GRU), so padded steps do not count.
    """

    kind = "sequence"
    standalone_prefix = "sequence"

    @classmethod
    def matches(cls, steps: Sequence[Any]) -> bool:
        return type(steps[-1]) is SequencePadder

    def read_constants(self, steps: Sequence[Any]) -> None:
        self.padder = steps[-1] if len(steps) == 1 else None
        if self.padder is None:
            self.why_not_served = f"block {self.name!r}: only a SequencePadder alone can be served"

    def serving_inputs(self) -> list[tuple[str, Any, tuple[int, ...], str]]:
        if self.why_not_served:
            raise ValueError(self.why_not_served)
        padder = self.padder
        assert padder is not None  # served: the block is a SequencePadder alone
        return [(serving_name(c), c, (padder.maxlen_,), "float32") for c in self.columns]

    def serving_values(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        inputs = self.serving_inputs()  # raises for a block with no served form
        padder = self.padder
        assert padder is not None  # served: the block is a SequencePadder alone
        return {
            name: dense_float32(one_column_padder(padder, column).transform(frame[[column]]))
            for name, column, _, _ in inputs
        }

    @classmethod
    def plan_branch(
        cls,
        estimator: Any,
        X: np.ndarray,
        name: str,
        start: int,
        stop: int,
        names: Sequence[Any] | None,
        integer_columns: Container[str],
        stage: str,
    ) -> dict[str, dict[str, Any]]:
        tokens = all(
            names is not None and str(names[j]) in integer_columns for j in range(start, stop)
        )
        vocabulary = int(X[:, start:stop].max(initial=0)) + 2 if tokens else 0
        if tokens and len(X) and X[:, start:stop].min() < 0:
            raise ValueError(
                f"{stage}: block {name!r} holds negative token ids; expected ids"
                " >= 1, with 0 for padding"
            )
        return {
            "sequence_blocks_": {
                name: {
                    "tokens": tokens,
                    "steps": stop - start,
                    "vocabulary": vocabulary,
                }
            }
        }

    @classmethod
    def branch(
        cls,
        estimator: Any,
        name: str,
        inputs: Any,
        start: int,
        stop: int,
        seed: Callable[[], int | None],
        dense: Callable[..., Any],
    ) -> Any:
        """Padded steps masked out, then a GRU over the sequence."""
        info = estimator.sequence_blocks_[name]
        prefix = layer_name(name)
        if info["tokens"]:
            vocabulary = info["vocabulary"]
            x = CategoryIndex(vocabulary, unknown_index=vocabulary - 1, name=f"{prefix}_ids")(
                inputs
            )
            x = keras.layers.Embedding(
                vocabulary,
                estimator.token_embedding_dim,
                mask_zero=True,
                name=f"{prefix}_tokens",
                embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed()),
            )(x)
        else:
            x = keras.layers.Reshape((info["steps"], 1), name=f"{prefix}_steps")(inputs)
            x = keras.layers.Masking(0.0, name=f"{prefix}_mask")(x)
        return keras.layers.GRU(
            estimator.branch_units or 32,
            name=f"{prefix}_gru",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed()),
            recurrent_initializer=keras.initializers.Orthogonal(seed=seed()),
        )(x)
