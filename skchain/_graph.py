"""The fitted chain's arithmetic as one graph, built from the layout of its blocks.

:class:`ChainGraph` is the one place that turns the blocks of a fitted
features step and the fitted final network into tensors: each block's
features (its scaling, and network A for a representation), then the final
network. The same code builds the compiled ``Chain.predict`` (inside a
``tf.function``, entering after the string encoders, which scikit-learn
runs), fine-tuning's joint model, and the served model
(:func:`serving_model`: a ``keras.Model`` whose inputs are the raw columns,
with the encoders as lookup layers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:
    from .blocks import Layout

__all__ = ["ChainGraph", "serving_model"]


class ChainGraph:
    """Blocks to the final network's raw outputs.

    Parameters
    ----------
    layout : Layout
        The features step's blocks (:class:`skchain.blocks.Layout`).
    final : ChainRegressor or ChainClassifier
        The fitted final stage.
    networks_a : dict, default=None
        ``{block index: keras.Model}`` replacing network A (up to its output
        layer) for that block; fine-tuning passes its trainable copy.

    Raises
    ------
    ValueError
        When the blocks' widths do not add up to the final network's input.
    """

    def __init__(
        self, layout: Layout, final: Any, networks_a: Mapping[int, keras.Model] | None = None
    ) -> None:
        self.layout = layout
        self.final = final
        widths = [block.width for block in layout]
        if sum(widths) != final.n_features_in_:
            raise ValueError(
                f"the blocks' widths {widths} do not add up to the final network's"
                f" {final.n_features_in_} inputs"
            )
        self.scaling = [block.scaling_layers() for block in layout]
        networks_a = dict(networks_a or {})
        self.networks_a = {
            i: networks_a[i] if i in networks_a else block.network_a()
            for i, block in enumerate(layout)
        }
        self.bounds = [(start, stop) for _, start, stop in final.input_blocks_]
        self.per_block = [(block.start, block.stop) for block in layout] == self.bounds

    def features(self, i: int, x: Any, from_rows: bool = True) -> Any:
        """Block ``i``'s features from its entry ``x`` (see ``Block.entry``).

        ``from_rows=False``: ``x`` is already network A's output for a
        representation block (its cache).
        """
        return self.layout[i].features(x, self.scaling[i], self.networks_a[i], from_rows=from_rows)

    def outputs(self, features: Sequence[Any]) -> Any:
        """The final network's raw outputs for the blocks' features, in layout order."""
        if self.per_block:
            inputs = list(features)
        else:
            merged = features[0] if len(features) == 1 else keras.ops.concatenate(features, axis=1)
            inputs = [merged[:, start:stop] for start, stop in self.bounds]
        network = self.final.model_
        return network(inputs[0] if len(inputs) == 1 else inputs, training=False)


def _distinct_networks(layout: Layout) -> dict[int, keras.Model]:
    """``{block index: network A}``, a copy where an earlier block uses the same Keras model
    (one network wrapped twice): Keras' format saves a model once inside another."""
    from ._seeding import random_state_kept

    networks: dict[int, keras.Model] = {}
    seen: set[int] = set()
    for i, block in layout.representations():
        frozen, model = block.network, block.network_a()
        assert frozen is not None and model is not None  # a block with a network A
        owner = id(frozen.network_a().model_)
        if owner in seen:
            with random_state_kept(0):  # the copy's initial draws are overwritten
                copy = keras.models.clone_model(model)
            copy.set_weights(model.get_weights())
            model = copy
        seen.add(owner)
        networks[i] = model
    return networks


def serving_model(layout: Layout, final: Any) -> keras.Model:
    """The whole fitted chain as a ``keras.Model`` of its raw columns.

    One input per column, named :func:`~skchain.blocks.serving_name`
    (see ``Block.serving_inputs`` for shapes and dtypes); the output is what
    the final stage's ``serving_head`` makes of the raw outputs
    (predictions, or class probabilities).
    """
    graph = ChainGraph(layout, final, networks_a=_distinct_networks(layout))
    inputs: dict[str, Any] = {}
    seen: dict[str, tuple[Any, Any, Any]] = {}
    for block in layout:
        for name, column, shape, dtype in block.serving_inputs():
            if name in seen and seen[name] != (column, shape, dtype):
                if seen[name][0] == column:
                    raise ValueError(
                        f"column {column!r} is read by two blocks as different inputs"
                        f" ({seen[name][2]} of shape {seen[name][1]} and {dtype} of shape"
                        f" {shape}, block {block.name!r}): a served model takes one input per"
                        " column; give the second block a copy of the column under another name"
                    )
                raise ValueError(
                    f"columns {seen[name][0]!r} and {column!r} both become the input"
                    f" {name!r}; rename one of them"
                )
            if name not in seen:
                seen[name] = (column, shape, dtype)
                inputs[name] = keras.Input(shape, name=name, dtype=dtype)
    features = [graph.features(i, block.serving_entry(inputs)) for i, block in enumerate(layout)]
    outputs, output_name = final.serving_head(graph.outputs(features))
    outputs = keras.layers.Identity(name=output_name)(outputs)
    return keras.Model(inputs, outputs, name="chain")
