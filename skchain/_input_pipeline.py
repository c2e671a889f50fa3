"""Keras' batches of in-memory arrays, as a ``tf.data`` pipeline TensorFlow does not rewrite.

With op determinism enabled (every seeded fit: see :mod:`skchain._seeding`),
``tf.data`` applies its ``make_deterministic`` graph rewrite when an input
pipeline's iterator is made: if a function in the pipeline holds a stateful op
it does not know to be deterministic, every parallel ``map`` becomes a
sequential ``MapDataset``. Keras' pipeline for arrays (``ArrayDataAdapter``)
holds one whenever the rows do not fill the last batch (``from_tensors`` of the
last batch's indices, inside a ``flat_map``), and the rewritten node keeps
``ParallelMapDatasetV2``'s ``use_unbounded_threadpool`` attribute, which
``MapDataset`` lacks: TensorFlow then writes ``E... node_def_util.cc] NodeDef
mentions attribute use_unbounded_threadpool which is not in the op
definition ...`` to the process's stderr (at most once every 5 seconds).

:func:`array_dataset` builds the same batches, in the same order, from the same
ops and seeds (so training is bit-for-bit the same as Keras' own pipeline), but
takes the last, partial batch as the one slice of a one-row matrix
(``from_tensor_slices``), which the rewrite leaves alone. Nor does it hold a
``map`` inside the ``flat_map`` (an earlier version cut every batch with one):
TensorFlow instantiates such a function again for every epoch, which made the
pipeline ~35 ms of CPU an epoch slower than Keras' own (20 batches of 256 rows,
as in ``benchmarks/bench_fit.py``; measured by iterating both).
"""

import math
from typing import Any, Literal

import tensorflow as tf

try:  # Keras internals (checked with keras 3.15); another layout: Keras' own pipeline
    from keras.src import tree
    from keras.src.trainers.data_adapters import array_slicing, data_adapter_utils
    from keras.src.trainers.data_adapters.array_data_adapter import (
        ArrayDataAdapter,
        can_convert_arrays,
    )
except ImportError:  # pragma: no cover - depends on the installed Keras
    ArrayDataAdapter = None

__all__ = ["array_dataset", "dataset_fit_arguments"]


def array_dataset(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int | None = None,
    shuffle: bool | Literal["batch"] = False,
) -> tf.data.Dataset:
    """Keras' ``ArrayDataAdapter(...).get_tf_dataset()``, without the rewritten ``from_tensors``."""
    # Keras' own checks and packing (one sample_weight per output, ...).
    adapter = ArrayDataAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle)
    num_samples, batch_size = adapter._num_samples, adapter._batch_size

    def permutation(_: Any) -> tf.Tensor:
        # As Keras writes it: the same ops, so tf.random.shuffle gets the same seed.
        indices = tf.range(num_samples, dtype=tf.int64)
        if shuffle and shuffle != "batch":
            indices = tf.random.shuffle(indices)
        return indices

    indices_dataset = tf.data.Dataset.range(1).map(permutation).prefetch(1)

    full_batches = num_samples // batch_size
    in_full_batches = full_batches * batch_size

    def batch_indices(indices: tf.Tensor) -> tf.data.Dataset:
        # Keras: from_tensor_slices(full batches).concatenate(from_tensors(last one)).
        batches = tf.data.Dataset.from_tensor_slices(
            tf.reshape(indices[:in_full_batches], [full_batches, batch_size])
        )
        if in_full_batches < num_samples:  # the last one: a one-row matrix's slice
            last = tf.expand_dims(indices[in_full_batches:], 0)
            batches = batches.concatenate(tf.data.Dataset.from_tensor_slices(last))
        return batches

    indices_dataset = indices_dataset.flat_map(batch_indices)
    if shuffle == "batch":
        indices_dataset = indices_dataset.map(tf.random.shuffle)

    inputs = array_slicing.convert_to_sliceable(adapter._inputs, target_backend="tensorflow")
    inputs = tree.lists_to_tuples(inputs)
    dataset = tf.data.Dataset.zip((indices_dataset, tf.data.Dataset.from_tensors(inputs).repeat()))

    def grab_batch(i: tf.Tensor, data: Any) -> Any:
        def grab_one(x: Any) -> Any:
            if isinstance(x, array_slicing.TensorflowSparseWrapper):
                return array_slicing.slice_tensorflow_sparse_wrapper(x, i)
            if isinstance(x, (list, tuple, dict)):
                return None
            if tf.is_tensor(x):
                return tf.gather(x, i, axis=0)
            return x

        return tree.traverse(grab_one, data)

    dataset = dataset.map(grab_batch, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    if shuffle:
        options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)
    # Keras knows the number of batches of arrays (progress bar, callbacks' params).
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality(math.ceil(num_samples / batch_size))
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def dataset_fit_arguments(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int | None = None,
    shuffle: bool | Literal["batch"] = True,
    validation_data: Any = None,
    validation_batch_size: int | None = None,
    validation_split: float = 0.0,
) -> dict[str, Any] | None:
    """``Model.fit`` arguments that feed in-memory arrays through :func:`array_dataset`.

    Splits ``validation_split`` off and batches ``validation_data`` as
    ``Model.fit`` does. Returns ``None`` when Keras would not take the data as
    arrays, or when this Keras lays out its internals differently; the caller
    then passes the data on unchanged (and Keras builds its own pipeline).
    """
    if ArrayDataAdapter is None:  # pragma: no cover - depends on the installed Keras
        return None
    try:
        return _dataset_fit_arguments(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            validation_data=validation_data,
            validation_batch_size=validation_batch_size,
            validation_split=validation_split,
        )
    except AttributeError:  # pragma: no cover - Keras' private attributes renamed
        return None


def _dataset_fit_arguments(
    x: Any,
    y: Any,
    sample_weight: Any,
    *,
    batch_size: int | None,
    shuffle: bool | Literal["batch"],
    validation_data: Any,
    validation_batch_size: int | None,
    validation_split: float,
) -> dict[str, Any] | None:
    if not can_convert_arrays((x, y, sample_weight)):
        return None
    if validation_split and validation_data is None:
        (x, y, sample_weight), validation_data = array_slicing.train_validation_split(
            (x, y, sample_weight), validation_split=validation_split
        )
    arguments: dict[str, Any] = {
        "x": None,
        "y": None,
        "sample_weight": None,
        "batch_size": None,
        "shuffle": False,
        "validation_data": None,
        "validation_batch_size": None,
        "validation_split": 0.0,
    }
    if validation_data is not None:
        val_x, val_y, val_w = data_adapter_utils.unpack_x_y_sample_weight(validation_data)
        if not can_convert_arrays((val_x, val_y, val_w)):
            return None
        arguments["validation_data"] = array_dataset(
            val_x, val_y, val_w, batch_size=validation_batch_size or batch_size
        )
    arguments["x"] = array_dataset(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle)
    return arguments
