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
ops and seeds (so one epoch trains bit for bit as Keras' own pipeline), but
takes the last, partial batch as the one slice of a one-row matrix
(``from_tensor_slices``), which the rewrite leaves alone. Nor does it hold a
``map`` inside the ``flat_map`` (an earlier version cut every batch with one):
TensorFlow instantiates such a function again for every epoch, which made the
pipeline ~35 ms of CPU an epoch slower than Keras' own (20 batches of 256 rows,
as in ``benchmarks/bench_fit.py``; measured by iterating both).

**One iterator for the whole fit, a new permutation every epoch.** Keras makes a
new iterator of its dataset at the start of every epoch and, for a dataset of
known length, a second one at its end that the next epoch throws away: ~16 ms
of CPU each (TensorFlow instantiates the pipeline's functions again), ~160 ms
of a 5-epoch fit of 5,000 rows, whatever the rows. Worse, each new iterator
starts the shuffle op over from its seed: under a global seed (every seeded
fit: ``keras.utils.set_random_seed``, ``random_state``) every epoch of Keras 3.15
visits the rows in the **same** order (the behaviour reported for ``tf.data``
in tensorflow/tensorflow#26179 and #29558). :func:`dataset_fit_arguments`
therefore feeds Keras one unending dataset, ``repeat=True`` (one permutation
per epoch, drawn in turn from the same shuffle op), with ``steps_per_epoch``
(and ``validation_steps``) set, so Keras keeps the one iterator across epochs.
The first epoch sees exactly the batches Keras' own pipeline gives it; later
epochs are reshuffled, reproducibly for a given seed.
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
    repeat: bool = False,
) -> tf.data.Dataset:
    """Keras' ``ArrayDataAdapter(...).get_tf_dataset()``, without the rewritten ``from_tensors``.

    ``repeat=True``: epoch after epoch without end, each with a permutation of
    its own (Keras then needs ``steps_per_epoch``); ``False``: one epoch.
    """
    return _dataset_and_epoch_batches(
        x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, repeat=repeat
    )[0]


def _dataset_and_epoch_batches(
    x: Any,
    y: Any,
    sample_weight: Any,
    *,
    batch_size: int | None,
    shuffle: bool | Literal["batch"],
    repeat: bool,
) -> tuple[tf.data.Dataset, int]:
    """:func:`array_dataset` and the number of batches in one of its epochs."""
    # Keras' own checks and packing (one sample_weight per output, ...).
    adapter = ArrayDataAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle)
    num_samples, batch_size = adapter._num_samples, adapter._batch_size

    @tf.autograph.experimental.do_not_convert
    def permutation(_: Any) -> tf.Tensor:
        # As Keras writes it: the same ops, so tf.random.shuffle gets the same seed.
        indices = tf.range(num_samples, dtype=tf.int64)
        if shuffle and shuffle != "batch":
            indices = tf.random.shuffle(indices)
        return indices

    # One element per epoch; in one iterator, each draws the shuffle op's next permutation.
    epochs = tf.data.Dataset.range(1)
    if repeat:
        epochs = epochs.repeat()
    indices_dataset = epochs.map(permutation).prefetch(1)

    full_batches = num_samples // batch_size
    in_full_batches = full_batches * batch_size

    @tf.autograph.experimental.do_not_convert
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

    @tf.autograph.experimental.do_not_convert
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
    epoch_batches = math.ceil(num_samples / batch_size)  # the last may be partial
    batches = tf.data.INFINITE_CARDINALITY if repeat else epoch_batches
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(tf.data.AUTOTUNE), epoch_batches


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
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
) -> dict[str, Any] | None:
    """``Model.fit`` arguments that feed in-memory arrays through :func:`array_dataset`.

    Splits ``validation_split`` off and batches ``validation_data`` as
    ``Model.fit`` does. The training rows come as one unending dataset, a new
    permutation every epoch, with ``steps_per_epoch`` (the validation rows
    likewise, in order, with ``validation_steps``), so that Keras makes one
    iterator for the whole fit (see the module docstring); where the caller
    sets ``steps_per_epoch`` or ``validation_steps`` itself, that dataset is one
    epoch long, as Keras' own, and the caller's value stands. Returns ``None``
    when Keras would not take the data as arrays, or when this Keras lays out
    its internals differently; the caller then passes the data on unchanged
    (and Keras builds its own pipeline).
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
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
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
    steps_per_epoch: int | None,
    validation_steps: int | None,
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
        repeat = validation_steps is None
        arguments["validation_data"], batches = _dataset_and_epoch_batches(
            val_x,
            val_y,
            val_w,
            batch_size=validation_batch_size or batch_size,
            shuffle=False,
            repeat=repeat,
        )
        if repeat:
            arguments["validation_steps"] = batches
    repeat = steps_per_epoch is None
    arguments["x"], batches = _dataset_and_epoch_batches(
        x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, repeat=repeat
    )
    if repeat:
        arguments["steps_per_epoch"] = batches
    return arguments
