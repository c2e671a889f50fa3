"""The optimizer's variables, made right before the first training step rather than inside it.

Keras' TensorFlow trainer, when no distribution strategy is set, builds a
compiled network's optimizer lazily: in ``apply_gradients`` of the first
training step, that is, while it traces the train function. Every slot
variable (Adam: two per trained variable) is then created inside a
``tf.function`` (TensorFlow lifts each one out of the graph with its
initializer), which takes most of the time of the first step of a small
network: on ``benchmarks/bench_fit.py``'s final network (4 dense layers, 8
trained variables, Adam) a 5-epoch fit of 5,000 rows took 1.28 s instead of
2.00 s (medians of 8 interleaved rounds) with the optimizer built before it,
with the same losses bit for bit.

:class:`BuildOptimizer`, the last callback of every Keras fit skchain runs,
builds it at the start of the first batch, after every other callback's
``on_train_begin``, ``on_epoch_begin`` and ``on_train_batch_begin`` (a
callback that unfreezes layers there changes which variables are trained),
that is, on the variables Keras' own first step would build it on, the same
way (:func:`build_optimizer`): on the network's trainable variables, in its
distribution strategy's scope and the optimizer's name scope, as
``apply_gradients`` does. The slot variables start at zero either way, so
training is the same.
"""

import contextlib
from typing import Any

import keras

__all__ = ["BuildOptimizer", "build_optimizer"]


def build_optimizer(network: Any) -> None:
    """Build ``network``'s optimizer on its trainable variables, unless built already.

    Parameters
    ----------
    network : keras.Model
        A compiled network about to take its first training step. Nothing
        happens when it has no optimizer (not compiled), when the optimizer
        is built (a second fit, ``warm_start``), when it has no trainable
        variables, or when it or one of its layers is not built yet (a
        subclassed model that makes some weights on its first call): Keras
        then builds the optimizer in the first step, on every variable, as
        it would without this call.

    Examples
    --------
    >>> import keras
    >>> network = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> network.compile(optimizer="adam", loss="mse")
    >>> build_optimizer(network)
    >>> network.optimizer.built
    True
    """
    optimizer = getattr(network, "optimizer", None)
    if optimizer is None or getattr(optimizer, "built", True) or not _built(network):
        return
    variables = network.trainable_variables
    if not variables:
        return
    strategy = getattr(network, "distribute_strategy", None)  # None: another backend's trainer
    scope = contextlib.nullcontext() if strategy is None else strategy.scope()
    with scope, keras.name_scope(optimizer.name, caller=optimizer):
        optimizer.build(variables)


def _built(network: Any) -> bool:
    """Whether ``network`` and every layer in it are built (Keras' own test before building)."""
    layers = network._flatten_layers() if hasattr(network, "_flatten_layers") else network.layers
    return bool(getattr(network, "built", False)) and all(layer.built for layer in layers)


class BuildOptimizer(keras.callbacks.Callback):
    """Builds the network's optimizer (:func:`build_optimizer`) as the first batch begins.

    Give it last in ``callbacks``: the callbacks before it may still change
    which layers are trainable up to that moment.
    """

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        build_optimizer(self.model)  # returns at once once built
