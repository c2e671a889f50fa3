"""Network A's trainable copies for fine-tuning: which to train, and the swap back.

:func:`skchain.finetune.fine_tune_chain` trains copies, never the user's
networks A: ``_networks_to_tune`` picks the chain's networks A named by
``FineTune.networks``, ``_trainable_copy`` copies one with the layers named
by ``FineTune.layers`` trainable (``_trainable_layers``), and
``_replace_with_copy`` puts a fine-tuned copy into the fitted features step
in place of the frozen network A, with its summaries of dataset A.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from ._seeding import random_state_kept
from .blocks import Layout, replace_network
from .layers import InputAlignment
from .preprocessor import KerasTransformer

if TYPE_CHECKING:
    import pandas as pd

    from .blocks import Block

_STAGE = "FineTune (joint training of network A and the final network)"


def _trainable_layers(
    submodel: keras.Model, spec: str | Sequence[str], network: str = "network A"
) -> list[str]:
    # An adapted network A's input alignment stays as it was fitted.
    layers = [
        layer
        for layer in submodel.layers
        if layer.weights and not isinstance(layer, InputAlignment)
    ]
    names = [layer.name for layer in layers]
    if spec == "all":
        return names
    if isinstance(spec, str) and spec.startswith("top:"):
        try:
            n = int(spec[4:])
        except ValueError:
            n = -1
        if n < 0:
            raise ValueError(f"{_STAGE}: layers={spec!r}; expected 'top:N' with N >= 0")
        return names[len(names) - n :] if n else []
    if isinstance(spec, (list, tuple)):
        unknown = [name for name in spec if name not in names]
        if unknown:
            raise ValueError(
                f"{_STAGE}: layers {unknown} are not trainable layers of {network} up to"
                f" the output layer; they are {names}"
            )
        return list(spec)
    raise ValueError(f"{_STAGE}: layers={spec!r}; expected 'all', 'top:N' or a list of names")


def _networks_to_tune(plan: Layout, names: Iterable[str] | None) -> list[int]:
    """The plan indices of the networks A to fine-tune (``FineTune.networks``)."""
    frozen = {block.name: i for i, block in enumerate(plan) if block.network is not None}
    if not frozen:
        raise ValueError(f"{_STAGE}: needs a frozen network A in the features step; found none")
    if names is None:
        return list(frozen.values())
    unknown = [name for name in names if name not in frozen]
    if unknown or not names:
        raise ValueError(
            f"{_STAGE}: networks={list(names)!r}; expected names of the chain's networks A:"
            f" {list(frozen)}"
        )
    return [frozen[name] for name in dict.fromkeys(names)]


def _trainable_copy(
    block: Block, layers: str | Sequence[str], random_state: int | None
) -> tuple[tuple[keras.Model, keras.Model], list[str]]:
    """A copy of ``block``'s network A (the user's stays as it is) with the layers to
    train marked trainable: ``(copy, copy up to the chain's output layer)``, and the
    names of the trained layers."""
    frozen = block.network
    assert frozen is not None  # a block with a network A
    inner = frozen.network_a()
    if not block.in_graph:
        raise ValueError(
            f"{_STAGE}: network A {block.name!r}: its scaler must be a StandardScaler (or None)"
            f" to be part of the joint graph; got {type(inner.scaler_).__name__}"
        )
    with random_state_kept(random_state):  # new layers draw seeds
        network_a = keras.models.clone_model(inner.model_)
    network_a.set_weights(inner.model_.get_weights())
    upto = keras.Model(network_a.inputs[0], network_a.get_layer(frozen.layer().name).output)
    trained = _trainable_layers(upto, layers, f"network A {block.name!r}")
    for layer in network_a.layers:
        layer.trainable = layer.name in trained
    return (network_a, upto), trained


def _replace_with_copy(
    features: Any,
    block: Block,
    network_a: keras.Model,
    X: pd.DataFrame,
    rows: np.ndarray,
) -> None:
    """Put the fine-tuned copy of ``block``'s network A into the fitted features step."""
    frozen = block.network
    assert frozen is not None  # a block with a network A
    inner = frozen.network_a()
    tuned = KerasTransformer.from_model(
        network_a,
        output_layer=frozen.layer().name,
        scaler=inner.scaler_,
        shift_check=inner.shift_check,
        shift_alpha=inner.shift_alpha,
        leakage_check=inner.leakage_check,
        leakage_alpha=inner.leakage_alpha,
        leakage_threshold=inner.leakage_threshold,
    )
    # Drift and leakage keep referring to network A's own training data. The
    # representation level is left out: the tuned network's outputs are not
    # those its statistics describe, and A's rows are not kept to recompute them.
    # Its training curves on dataset A stay too (fine-tuning's own are in the
    # chain's ``fine_tuned_``).
    # An adapted network A's input alignment is inside the tuned copy; its drift
    # check keeps comparing with the rows it was adapted to.
    for name in (
        "input_statistics_",
        "training_fingerprints_",
        "feature_names_in_",
        "target_scaler_",
        "history_",
        "input_alignment_",
        "input_moments_",
        "adapted_to_",
    ):
        if hasattr(inner, name):
            setattr(tuned, name, getattr(inner, name))
    # The tuned copy started from the adapted network A (adaptation included):
    # it is used as it is, not adapted again.
    step = type(frozen)(**{**frozen.get_params(), "estimator": tuned, "adapt": None})
    step.fit(X[block.columns] if block.padder is None else rows)
    replace_network(features, block, step)
