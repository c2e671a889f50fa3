"""Keras layers of the final network's categorical and sequence branches.

Both are registered Keras serializables, so a network that uses them saves
to ``.keras`` and loads with ``safe_mode=True`` (no Python code in the file).
"""

import keras
from keras import ops

__all__ = ["CategoryIndex", "EntityEmbedding"]


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

    def __init__(self, input_dim, offset=0, unknown_index=0, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.offset = int(offset)
        self.unknown_index = int(unknown_index)

    def call(self, inputs):
        index = ops.cast(inputs, "int32") + self.offset
        inside = ops.logical_and(index >= 0, index < self.input_dim)
        return ops.where(inside, index, ops.full_like(index, self.unknown_index))

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype="int32")

    def get_config(self):
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

    def __init__(self, input_dims, output_dims, seed=None, **kwargs):
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
                rows, width, name=f"table{j}",
                embeddings_initializer=keras.initializers.RandomUniform(
                    -0.05, 0.05, seed=None if seed is None else seed + j
                ),
            )
            for j, (rows, width) in enumerate(zip(self.input_dims, self.output_dims))
        ]

    def build(self, input_shape):
        for table in self.tables:
            table.build((input_shape[0],))
        self.built = True

    def call(self, inputs):
        parts = [
            table(index(inputs[:, j]))
            for j, (index, table) in enumerate(zip(self.indices, self.tables))
        ]
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], sum(self.output_dims))

    def embeddings(self):
        """Each column's table as a NumPy array, rows in code order (missing, unknown, levels)."""
        return [keras.ops.convert_to_numpy(table.embeddings) for table in self.tables]

    def get_config(self):
        return {
            **super().get_config(),
            "input_dims": self.input_dims,
            "output_dims": self.output_dims,
            "seed": self.seed,
        }
