"""Keras layers of the chain's graphs: the final network's categorical and sequence
branches, and the fitted preprocessing of the served model (scaling, imputing,
categorical level tables).

All are registered Keras serializables, so a network that uses them saves to
``.keras`` and loads with ``safe_mode=True`` (no Python code in the file).
"""

from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

__all__ = [
    "CategoryIndex",
    "EntityEmbedding",
    "FillMissing",
    "InputAlignment",
    "LevelTable",
    "Standardize",
    "standardize",
]


def standardize(x: Any, shift: Any, scale: Any) -> Any:
    """``(x - shift) / scale``: the one expression of a fitted standard scaler in a graph.

    Network A's own compiled call, the chain's fused predict, fine-tuning
    and the exported model all scale with it, so they compute the same bits.
    """
    return (x - shift) / scale


@keras.saving.register_keras_serializable(package="skchain")
class Standardize(keras.layers.Layer):
    """A fitted ``StandardScaler`` as a layer: ``(x - shift) / scale`` in float32.

    Parameters
    ----------
    shift, scale : array-like of shape (n_features,)
        The scaler's ``mean_`` and ``scale_`` (see ``skchain._base.standard_scaling``).
    """

    def __init__(self, shift: ArrayLike, scale: ArrayLike, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shift = np.asarray(shift, dtype=np.float32)
        self.scale = np.asarray(scale, dtype=np.float32)

    def call(self, inputs: Any) -> Any:
        return standardize(inputs, self.shift, self.scale)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shift": self.shift.tolist(), "scale": self.scale.tolist()}


@keras.saving.register_keras_serializable(package="skchain")
class InputAlignment(keras.layers.Layer):
    """A fitted domain adaptation of network A's scaled inputs: ``x @ kernel + bias``.

    The first layer of a network A adapted by ``FrozenTransformer(adapt=...)``
    (see :mod:`skchain.adaptation`): per feature (``diagonal=True``:
    ``x * kernel + bias``, ``"standardize"``) or a full matrix (CORAL). Its
    weights are fixed (never trained, fine-tuning included) and saved with the
    network.

    Parameters
    ----------
    diagonal : bool, default=False
        ``kernel`` of shape ``(n_features,)`` (elementwise) instead of
        ``(n_features, n_features)``.
    """

    def __init__(self, diagonal: bool = False, **kwargs: Any) -> None:
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.diagonal = bool(diagonal)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        # Keras builds the layer for a known feature width (only the batch size is None).
        width = int(input_shape[-1])  # type: ignore[arg-type]
        shape = (width,) if self.diagonal else (width, width)
        self.kernel = self.add_weight(
            shape=shape,
            initializer="ones" if self.diagonal else "identity",
            trainable=False,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(width,), initializer="zeros", trainable=False, name="bias"
        )

    def call(self, inputs: Any) -> Any:
        if self.diagonal:
            return inputs * self.kernel + self.bias
        return ops.matmul(inputs, self.kernel) + self.bias

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "diagonal": self.diagonal}


@keras.saving.register_keras_serializable(package="skchain")
class FillMissing(keras.layers.Layer):
    """A fitted ``SimpleImputer`` as a layer: each column's NaN replaced by its fill value.

    Parameters
    ----------
    values : array-like of shape (n_features,)
        The imputer's ``statistics_``.
    """

    def __init__(self, values: ArrayLike, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = np.asarray(values, dtype=np.float32)

    def call(self, inputs: Any) -> Any:
        return ops.where(ops.isnan(inputs), self.values, inputs)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "values": self.values.tolist()}


@keras.saving.register_keras_serializable(package="skchain")
class LevelTable(keras.layers.Layer):
    """One categorical column's fitted encoding as a lookup: level text to output row.

    A ``StringLookup`` finds the level (index 0 for a text not in
    ``vocabulary``), and the row of ``table`` at that index is the encoder's
    output for it: a one-hot row, or an ordinal code.

    Parameters
    ----------
    vocabulary : list of str
        The levels, as :class:`~skchain.encoders.CategoricalLevels` spells them.
    table : array-like of shape (len(vocabulary) + 1, width)
        Row 0: the output for a level not in ``vocabulary``; row ``i + 1``:
        the output for ``vocabulary[i]``.
    """

    def __init__(self, vocabulary: Iterable[str], table: ArrayLike, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocabulary = [str(v) for v in vocabulary]
        self.table = np.asarray(table, dtype=np.float32)
        if self.table.shape[0] != len(self.vocabulary) + 1:
            raise ValueError("LevelTable: table needs one row per level plus one for unknown")
        self.lookup = keras.layers.StringLookup(
            vocabulary=self.vocabulary,
            num_oov_indices=1,
            output_mode="int",
            name="levels",
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.lookup.build(input_shape)
        self.built = True

    def call(self, inputs: Any) -> Any:
        index = ops.reshape(self.lookup(inputs), (-1,))
        return ops.take(self.table, index, axis=0)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self.table.shape[1])

    def compute_output_spec(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor((inputs.shape[0], self.table.shape[1]), dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary": self.vocabulary, "table": self.table.tolist()}


@keras.saving.register_keras_serializable(package="skchain")
class CategoryIndex(keras.layers.Layer):
    """Integer codes to embedding rows: ``code + offset``, out-of-range to ``unknown_index``.

    Codes arrive as float32 (they travel in the chain's float32 feature
    matrix, exact up to 2**24) or as integers. A code outside the table,
    which only a level never seen in ``fit`` can produce, is sent to the
    ``unknown_index`` row instead of failing in ``tf.gather``.

    Parameters
    ----------
    input_dim : int
        Rows of the embedding table.
    offset : int, default=0
        Added to every code.
    unknown_index : int, default=0
        The row for codes outside ``[0, input_dim)`` after the offset.
    """

    def __init__(
        self, input_dim: int, offset: int = 0, unknown_index: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.offset = int(offset)
        self.unknown_index = int(unknown_index)

    def call(self, inputs: Any) -> Any:
        index = ops.cast(inputs, "int32") + self.offset
        inside = ops.logical_and(index >= 0, index < self.input_dim)
        return ops.where(inside, index, ops.full_like(index, self.unknown_index))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def compute_output_spec(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor(inputs.shape, dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "offset": self.offset,
            "unknown_index": self.unknown_index,
        }


@keras.saving.register_keras_serializable(package="skchain")
class EntityEmbedding(keras.layers.Layer):
    """One learned embedding per categorical column, concatenated (Guo & Berkhahn, 2016).

    The input holds one integer code per column, as scikit-learn's
    ``OrdinalEncoder(unknown_value=-1, encoded_missing_value=-2)`` writes
    them; column ``j``'s code ``c`` reads row ``c + 2`` of its table, so row
    0 is the missing value, row 1 a level not seen in ``fit``, and codes out
    of range count as not seen.

    Parameters
    ----------
    input_dims : list of int
        Rows of each column's table (its levels plus the two reserved rows).
    output_dims : list of int
        Width of each column's embedding.
    seed : int, default=None
        Seed of the tables' initializer.
    """

    def __init__(
        self,
        input_dims: Sequence[int],
        output_dims: Sequence[int],
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if len(input_dims) != len(output_dims):
            raise ValueError("EntityEmbedding: input_dims and output_dims differ in length")
        self.input_dims = [int(d) for d in input_dims]
        self.output_dims = [int(d) for d in output_dims]
        self.seed = seed
        self.indices = [
            CategoryIndex(rows, offset=2, unknown_index=1, name=f"index{j}")
            for j, rows in enumerate(self.input_dims)
        ]
        self.tables = [
            keras.layers.Embedding(
                rows,
                width,
                name=f"table{j}",
                embeddings_initializer=keras.initializers.RandomUniform(
                    -0.05, 0.05, seed=None if seed is None else seed + j
                ),
            )
            for j, (rows, width) in enumerate(zip(self.input_dims, self.output_dims, strict=False))
        ]

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        for table in self.tables:
            table.build((input_shape[0],))
        self.built = True

    def call(self, inputs: Any) -> Any:
        parts = [
            table(index(inputs[:, j]))
            for j, (index, table) in enumerate(zip(self.indices, self.tables, strict=False))
        ]
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], sum(self.output_dims))

    def embeddings(self) -> list[np.ndarray]:
        """Each column's table as a NumPy array, rows in code order (missing, unknown, levels)."""
        return [keras.ops.convert_to_numpy(table.embeddings) for table in self.tables]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dims": self.input_dims,
            "output_dims": self.output_dims,
            "seed": self.seed,
        }
