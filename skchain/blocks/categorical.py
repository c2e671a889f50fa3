"""Categorical blocks: one-hot, entity-embedded and hashed encodings of level columns."""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from .._base import dense_float32, without_pandas_output
from ..encoders import (
    MISSING,
    CategoricalLevels,
    HashingEncoder,
    default_embedding_width,
    level_texts,
)
from ..layers import EntityEmbedding, LevelTable
from ._base import SMALL_FRAME_ROWS, Block, layer_name, serving_name, steps_of
from .registry import register_block

__all__ = ["CategoricalBlock", "EmbeddedBlock", "HashedBlock", "OneHotBlock"]


class CategoricalBlock(Block):
    """A pipeline ending in a categorical encoder (``encoder_type``): level text at the
    served model's input, looked up in tables read off the fitted encoder."""

    encoder_type: ClassVar[type[Any] | None] = None

    _tables: list[tuple[list[str], np.ndarray]] | None
    _index: list[pd.Index] | None
    _positions: list[dict[Any, int]]

    @classmethod
    def matches(cls, steps: Sequence[Any]) -> bool:
        return type(steps[-1]) is cls.encoder_type

    def read_constants(self, steps: Sequence[Any]) -> None:
        self._tables = self._index = None
        if len(steps) != 2 or not isinstance(steps[0], CategoricalLevels):
            self.why_not_served = (
                f"block {self.name!r}: a categorical encoder can be served after CategoricalLevels"
                " only (as make_categorical_encoder builds it)"
            )

    @property
    def encoder(self) -> Any:
        """The fitted transformer's last step (the encoder)."""
        return steps_of(self.transformer)[-1]

    def entry(self, frame: pd.DataFrame) -> np.ndarray:
        """The encoder's output through the level tables (the served model's lookups, in
        NumPy): exact, and much faster than the encoder on a few rows."""
        if self.why_not_served:
            return super().entry(frame)
        if self._index is None:
            self._index = [
                pd.Index(vocabulary, dtype=object) for vocabulary, _ in self.level_tables()
            ]
            self._positions = [
                {level: i for i, level in enumerate(vocabulary)}
                for vocabulary, _ in self.level_tables()
            ]
        small = len(frame) <= SMALL_FRAME_ROWS
        parts = []
        for column, (_vocabulary, table), index, positions in zip(
            self.columns, self.level_tables(), self._index, self._positions, strict=True
        ):
            texts = level_texts(frame[column])
            # A few rows: a dict lookup per text (pandas' get_indexer costs ~0.1 ms a call).
            found = (
                np.fromiter((positions.get(t, -1) for t in texts), np.intp, len(texts))
                if small
                else index.get_indexer(texts)
            )
            parts.append(table[found + 1])
        return np.ascontiguousarray(parts[0] if len(parts) == 1 else np.hstack(parts))

    def serving_inputs(self) -> list[tuple[str, Hashable, tuple[int, ...], str]]:
        if self.why_not_served:
            raise ValueError(self.why_not_served)
        return [(serving_name(c), c, (1,), "string") for c in self.columns]

    def serving_entry(self, inputs: Mapping[str, Any]) -> Any:
        import keras

        parts = [
            LevelTable(vocabulary, table, name=f"{layer_name(self.name)}_{serving_name(c)}_levels")(
                inputs[name]
            )
            for (name, c, _, _), (vocabulary, table) in zip(
                self.serving_inputs(), self.level_tables(), strict=False
            )
        ]
        return parts[0] if len(parts) == 1 else keras.ops.concatenate(parts, axis=1)

    def serving_values(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        return {
            name: level_texts(frame[column]).astype(object).reshape(-1, 1)
            for name, column, _, _ in self.serving_inputs()
        }

    def level_tables(self) -> list[tuple[list[str], np.ndarray]]:
        """``[(vocabulary, table)]`` per column (see :class:`~skchain.layers.LevelTable`).

        Read off the fitted encoder itself: each level it knows, the missing
        value and an unseen level go through ``transform``, so unknown,
        missing and infrequent levels get exactly the encoder's output.
        """
        if self._tables is None:
            self._tables = self._read_level_tables()
        return self._tables

    def _read_level_tables(self) -> list[tuple[list[str], np.ndarray]]:
        encoder = self.encoder
        transform = without_pandas_output(self.transformer).transform
        widths = getattr(encoder, "_n_features_outs", None) or [1] * len(self.columns)
        tables: list[tuple[list[str], np.ndarray]] = []
        offset = 0
        for j, column in enumerate(self.columns):
            known = [str(c) for c in encoder.categories_[j] if not pd.isna(c) and str(c) != MISSING]
            unseen = "<unseen>"
            while unseen in known:
                unseen = f"<{unseen}>"
            stand_in = _unseen_stand_in(encoder, j)
            probe = pd.DataFrame(
                {c: [_a_level(encoder, k)] * (len(known) + 2) for k, c in enumerate(self.columns)}
            )
            probe[column] = pd.Series(
                [unseen if stand_in is None else stand_in[0], *known, None], dtype=object
            )
            out = dense_float32(transform(probe))[:, offset : offset + widths[j]]
            if stand_in is not None and stand_in[1]:
                out[0] = 0.0
            tables.append(([*known, MISSING], out))
            offset += widths[j]
        if offset != self.width:
            raise ValueError(f"{self.name}: unexpected encoder layout")
        return tables


def _unseen_stand_in(encoder: Any, j: int) -> tuple[Any, bool] | None:
    """A known level of column ``j`` to probe in place of an unseen one, and whether the
    unseen row is all zeros; None when an unseen level can go through ``transform`` as is.

    scikit-learn's ``OneHotEncoder`` warns on an unseen level with ``handle_unknown="warn"``,
    or with ``drop`` set and ``"ignore"``/``"infrequent_if_exist"``; silencing that with
    ``warnings.catch_warnings`` is not thread-safe (concurrent first predictions left an
    "ignore UserWarning" filter in the process). Its documented encoding instead: the
    infrequent category's when there is one (not with ``"ignore"``), else all zeros.
    """
    if not isinstance(encoder, OneHotEncoder):
        return None
    handle = encoder.handle_unknown
    if handle != "warn" and (
        encoder.drop is None or handle not in ("ignore", "infrequent_if_exist")
    ):
        return None
    grouped = encoder.min_frequency is not None or encoder.max_categories is not None
    infrequent = encoder.infrequent_categories_[j] if grouped else None
    if handle != "ignore" and infrequent is not None and len(infrequent):
        return infrequent[0], False
    return _a_level(encoder, j), True


def _a_level(encoder: Any, j: int) -> Any:
    """Some value column ``j`` of the encoder accepts (the other columns of a probe)."""
    categories = encoder.categories_[j]
    return categories[0] if len(categories) else None


@register_block
class OneHotBlock(CategoricalBlock):
    """``OneHotEncoder`` after ``CategoricalLevels``: make_chain's ``"onehot"`` encoding."""

    kind = "onehot"
    encoding = "onehot"
    encoder_type = OneHotEncoder


@register_block
class EmbeddedBlock(CategoricalBlock):
    """``OrdinalEncoder`` after ``CategoricalLevels`` (make_chain's ``"embed"``): integer
    codes, one column per categorical column, each entity-embedded by the final
    network (a row for missing values, one for levels not seen in ``fit``)."""

    kind = "embedded"
    encoding = "embed"
    encoder_type = OrdinalEncoder
    standalone_prefix = "embedded"

    @classmethod
    def plan_branch(
        cls,
        estimator: Any,
        X: np.ndarray,
        name: str,
        start: int,
        stop: int,
        names: Any,
        integer_columns: Collection[str],
        stage: str,
    ) -> dict[str, dict[str, Any]]:
        codes = X[:, start:stop]
        if len(codes) and (codes != np.round(codes)).any():
            raise ValueError(
                f"{stage}: block {name!r} holds non-integer values; expected"
                " the integer codes of an OrdinalEncoder"
            )
        widths = estimator.embedding_dim if isinstance(estimator.embedding_dim, dict) else {}
        sizes: dict[str, tuple[int, int]] = {}
        for j in range(start, stop):
            feature = str(names[j]) if names is not None else f"x{j}"
            column = feature.split("__", 1)[-1]
            levels = int(X[:, j].max(initial=-1)) + 1
            width = widths.get(column, estimator.embedding_dim)
            if width is None or isinstance(width, dict):
                width = default_embedding_width(max(levels, 1))
            sizes[feature] = (max(levels, 0) + 2, int(width))
        return {"embedding_sizes_": sizes}

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
        """One learned ``Embedding`` per column (entity embeddings), concatenated."""
        if not estimator.embedding_sizes_:
            return super().branch(estimator, name, inputs, start, stop, seed, dense)
        sizes = [estimator.embedding_sizes_[f] for f in feature_names(estimator, start, stop)]
        return EntityEmbedding(
            [rows for rows, _ in sizes],
            [width for _, width in sizes],
            seed=seed(),
            name=f"{layer_name(name)}_embeddings",
        )(inputs)

    def embedding_tables(self, tables: Mapping[str, np.ndarray]) -> dict[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {}
        for j, column in enumerate(self.columns):
            table = tables.get(f"{self.name}__{column}")
            if table is None:
                continue
            labels = [MISSING, "<unknown>"] + _code_labels(self.encoder, j)
            labels += [f"<row {i}>" for i in range(len(labels), len(table))]
            out[column] = pd.DataFrame(
                table,
                index=pd.Index(labels[: len(table)], name=column),
                columns=[f"dim{d}" for d in range(table.shape[1])],
            )
        return out


def feature_names(estimator: Any, start: int, stop: int) -> list[str]:
    """The final network's input feature names ``start:stop`` (``x<j>`` without names)."""
    names = getattr(estimator, "feature_names_in_", None)
    return [str(names[j]) if names is not None else f"x{j}" for j in range(start, stop)]


def _code_labels(encoder: Any, j: int) -> list[str]:
    """Labels of column ``j``'s codes 0, 1, ... of a fitted ``OrdinalEncoder``."""
    categories = list(encoder.categories_[j])
    infrequent = getattr(encoder, "infrequent_categories_", [None] * (j + 1))[j]
    infrequent = set() if infrequent is None else {str(c) for c in infrequent}
    frequent = [c for c in categories if not pd.isna(c) and str(c) not in infrequent]
    return [str(c) for c in frequent] + (["<infrequent>"] if infrequent else [])


@register_block
class HashedBlock(CategoricalBlock):
    """A :class:`~skchain.HashingEncoder` (make_chain's ``"hash"``): computed by the
    fitted encoder; it has no served form."""

    kind = "hashed"
    encoding = "hash"
    encoder_type = HashingEncoder

    def read_constants(self, steps: Sequence[Any]) -> None:
        super().read_constants(steps)
        self.why_not_served = (
            f"block {self.name!r}: the hash-encoded column(s) {self.columns} cannot be served:"
            " scikit-learn's FeatureHasher (MurmurHash3) has no Keras or standard ONNX"
            " equivalent. Encode them with categorical_encoding='onehot' or 'embed'"
            " (make_chain), which every format (to_keras, tf_saved_model, onnx) exports"
        )
