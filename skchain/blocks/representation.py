"""Network A's representation: a frozen network inside the features step."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._base import dense_float32
from ..frozen import FrozenTransformer
from ..layers import Standardize
from ..passthrough import NetworkAInputs
from ..sequences import SequencePadder
from ._base import Block, layer_name, serving_name
from .registry import register_block
from .sequence import one_column_padder

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from ..preprocessor import KerasTransformer

__all__ = ["RepresentationBlock", "unserved_scaler"]


def unserved_scaler(name: str, network_a: KerasTransformer) -> str | None:
    """Why block ``name`` cannot be served for network A's input scaler, or None."""
    if network_a.folded_scaling() is not None:
        return None
    return (
        f"block {name!r}: network A's scaler must be a StandardScaler (or None) to be"
        f" served; got {type(network_a.scaler_).__name__}"
    )


@register_block
class RepresentationBlock(Block):
    """A :class:`~skchain.FrozenTransformer` (network A), alone or after a
    :class:`~skchain.SequencePadder`: network A's outputs at its output layer.

    ``network`` is the frozen step (fine-tuning trains a copy of its network);
    the compiled graph computes the block from network A's raw inputs
    (scaled in the graph when network A's scaler is a ``StandardScaler``).
    """

    kind = "representation"
    #: Set by :meth:`read_constants` (blocks are made by :meth:`from_fitted`).
    network: FrozenTransformer

    @classmethod
    def matches(cls, steps: Sequence[Any]) -> bool:
        last, before = steps[-1], steps[:-1]
        return (
            isinstance(last, FrozenTransformer)
            and not isinstance(last, NetworkAInputs)
            and len(before) <= 1
            and all(isinstance(s, SequencePadder) for s in before)
        )

    def read_constants(self, steps: Sequence[Any]) -> None:
        self.network = steps[-1]
        self.padder = steps[0] if len(steps) > 1 else None
        if self.padder is None and getattr(self.network, "feature_names_in_", None) is not None:
            # The one rule for column identity: the frozen step matched B's columns
            # to network A's inputs in fit; every path reads them in its order.
            self.columns = [str(c) for c in self.network.feature_names_in_]
        self.why_not_served = unserved_scaler(self.name, self.network.network_a())

    @property
    def in_graph(self) -> bool:
        return self.network.network_a().folded_scaling() is not None

    @property
    def entry_width(self) -> int:
        return int(self.network.network_a().n_features_in_)

    @property
    def fused_width(self) -> int:
        # The compiled predict takes network A's outputs (from its cache).
        return self.width

    def entry(self, frame: pd.DataFrame) -> np.ndarray:
        """Network A's input rows (padded when it reads sequences), as float32."""
        if self.padder is not None:
            return dense_float32(self.padder.transform(frame[self.columns]))
        rows = self.float32_rows(frame)
        if not np.isfinite(rows.sum()):
            raise ValueError(f"{self.name}: values the graph does not take")
        return rows

    def scaling_layers(self) -> list[keras.layers.Layer]:
        folded = self.network.network_a().folded_scaling()
        if not folded:
            return []
        return [
            Standardize(
                folded["input_shift"],
                folded["input_scale"],
                name=f"{layer_name(self.name)}_network_a_scaler",
            )
        ]

    def network_a(self) -> keras.Model:
        return self.network.network_a().layer_model(self.network.layer())

    def features(
        self,
        x: Any,
        layers: Sequence[keras.layers.Layer],
        network: keras.Model | None = None,
        from_rows: bool = True,
    ) -> Any:
        if not from_rows:
            return x
        for layer in layers:
            x = layer(x)
        assert network is not None  # the graph passes network A with the block's rows
        return network(x, training=False)

    def cached_outputs(
        self, rows: np.ndarray, compute: Callable[[np.ndarray, str], np.ndarray] | None = None
    ) -> np.ndarray:
        """Network A's outputs for its entry rows, through the frozen step's cache and
        shift check; ``compute(rows, layer_name)`` computes them on a miss."""
        # The frozen step has no public form of its cached call yet.
        return self.network.representation(rows, compute)

    def serving_inputs(self) -> list[tuple[str, Hashable, tuple[int, ...], str]]:
        if self.why_not_served:
            raise ValueError(self.why_not_served)
        if self.padder is not None:
            return [(serving_name(c), c, (self.padder.maxlen_,), "float32") for c in self.columns]
        return super().serving_inputs()

    def serving_values(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        if self.padder is None:
            return super().serving_values(frame)
        return {
            name: dense_float32(one_column_padder(self.padder, column).transform(frame[[column]]))
            for name, column, _, _ in self.serving_inputs()
        }

    def histories(self) -> list[tuple[str, dict[str, list[float]]]]:
        title = "network A" if self.name == "representation" else f"network A {self.name!r}"
        history = getattr(self.network.network_a(), "history_", None) or {}
        return [(f"{title} (dataset A)", history)]
