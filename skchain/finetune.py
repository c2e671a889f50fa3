"""Fine-tuning network A through the final loss.

After a chain is fitted with network A frozen, :func:`fine_tune_chain` trains
a copy of network A's layers together with the final network, end to end, as
one Keras model built by the chain's own graph code
(:class:`~skchain._graph.ChainGraph`): dataset B's A-like columns go through
A's own input scaling, the copied layers of network A up to the chosen layer,
and the final network, which also takes the chain's other blocks (numeric
columns scaled in the graph, categorical ones as their encoders write them).
The user's network A is never changed: each fit (each fold of a
cross-validation) fine-tunes its own copy, and the chain then uses that copy
for ``transform`` and ``predict``. This module holds the settings
(:class:`FineTune`) and the joint training; the copies of network A (which
networks and layers to train, and the fine-tuned copy put back into the
chain) are made in ``skchain._finetune_copies``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, Options

from ._early_stopping import (
    early_stopper,
    hold_out_validation,
    kept_epoch,
    take_rows,
)
from ._finetune_copies import _STAGE, _networks_to_tune, _replace_with_copy, _trainable_copy
from ._graph import ChainGraph
from ._input_pipeline import dataset_fit_arguments
from ._network import BlockNetworkMixin
from ._optimizer_build import BuildOptimizer
from ._seeding import random_state_kept
from .blocks import Layout, layer_name

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

    from .classifier import ChainClassifier
    from .regressor import ChainRegressor

__all__ = ["FineTune", "fine_tune_chain"]


class FineTune(BaseEstimator):
    """Settings of end-to-end fine-tuning of network A inside a chain.

    Pass it as ``make_chain(..., fine_tune=FineTune(...))``. Its parameters are
    searchable as ``fine_tune__epochs``, ``fine_tune__learning_rate`` and
    ``fine_tune__layers`` (and ``fine_tune`` itself may be searched over
    ``[None, FineTune(...)]`` to compare with frozen features).

    Parameters
    ----------
    epochs : int, default=5
        Epochs of joint training, after the final network was trained with
        network A frozen.
    learning_rate : float, default=1e-4
        Learning rate of the joint training (Adam), for network A's layers
        and the final network alike; keep it well below the final network's
        own, so that fine-tuning adjusts rather than overwrites.
    layers : "all", "top:N" or list of str, default="all"
        Which of network A's layers (up to the chain's output layer) are
        trained: all of them, the last ``N``, or those named.
    batch_size : int, default=None
        Batch size of the joint training; ``None`` uses the final network's,
        ``-1`` all rows in one batch.
    early_stopping : bool, default=False
        Stop the joint training when the loss on validation rows has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, keeping the best
        epoch's weights. The validation rows are the chain's ``X_val`` when
        given, else drawn (seeded by the final network's ``random_state``,
        stratified for classifiers) from the rows passed to ``fit``.
    validation_fraction : float, default=0.1
        Share of the rows held out when they are drawn.
    n_iter_no_change : int, default=10
        Epochs without improvement before the joint training stops.
    tol : float, default=1e-4
        The improvement of the validation loss that counts.
    networks : list of str, default=None
        In a chain with several networks A (``make_chain(representations=...)``),
        the names of those fine-tuned; ``None`` fine-tunes every network A.
        ``layers`` applies to each of them. The others stay frozen.

    Examples
    --------
    >>> from skchain import FineTune
    >>> FineTune(epochs=3, layers="top:1")
    FineTune(epochs=3, layers='top:1')
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "layers": [str, list, tuple],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Options(numbers.Integral, {-1}),
            None,
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "networks": [list, tuple, None],
    }

    def __init__(
        self,
        epochs: int = 5,
        learning_rate: float = 1e-4,
        layers: str | Sequence[str] = "all",
        batch_size: int | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        networks: Sequence[str] | None = None,
    ) -> None:
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.layers = layers
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.networks = networks


def _check(settings: object) -> None:
    if not isinstance(settings, FineTune):
        raise TypeError(
            f"{_STAGE}: fine_tune must be a FineTune or None; got {type(settings).__name__}"
        )
    settings._validate_params()


def fine_tune_chain(
    features: Any,
    regressor: ChainRegressor | ChainClassifier,
    settings: FineTune,
    X: pd.DataFrame,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    validation: tuple[pd.DataFrame, ArrayLike] | None = None,
    layout: Layout | None = None,
) -> dict[str, Any]:
    """Fine-tune a fitted chain's networks A with the final loss, in place.

    Parameters
    ----------
    features : ColumnTransformer
        The chain's fitted features step, with one or several frozen networks A.
    regressor : ChainRegressor
        The chain's fitted final stage (its default network, one branch per
        block).
    settings : FineTune
    X : DataFrame
        The rows the chain was just fitted on.
    y : array-like
        Their target.
    sample_weight : array-like of shape (n_samples,), default=None
        The weights the final network was trained with; the joint training
        uses them too.
    validation : (DataFrame, array-like), default=None
        The chain's validation rows ``(X_val, y_val)``: their loss is
        recorded, and watched with ``early_stopping``.
    layout : Layout, default=None
        The blocks of ``features`` (:class:`skchain.blocks.Layout`), as the
        chain made them in its fit; ``None`` reads them off ``features``.

    Returns
    -------
    dict
        What was done: ``rows``, ``epochs`` (run), ``networks`` (``{block
        name: {"layers": trained layers, "output_layer": ...}}`` of each
        network A tuned), ``history``, and with early stopping ``best_epoch``;
        when one network A was tuned, also its ``layers`` and ``output_layer``.

    Raises
    ------
    ValueError
        For settings out of range, a name in ``settings.networks`` that is no
        network A of the chain, a layer name not in a tuned network A, or a
        final stage without one branch per block.
    """
    _check(settings)
    if not isinstance(regressor, BlockNetworkMixin):
        raise ValueError(f"{_STAGE}: needs a ChainRegressor or ChainClassifier as the final stage")
    try:
        plan = Layout.of(features) if layout is None else layout
    except TypeError as exc:
        raise ValueError(f"{_STAGE}: {exc}; needs a chain built by make_chain") from None
    tuned = _networks_to_tune(plan, settings.networks)
    if [name for name, _, _ in regressor.input_blocks_] != [block.name for block in plan]:
        raise ValueError(
            f"{_STAGE}: needs the final stage's default network with one branch per block"
            f" (input blocks {regressor.input_blocks_})"
        )
    # Copies of every network A: the user's networks (and other folds') stay as
    # they are; those not tuned are copied too, frozen, or the joint training
    # would move their weights.
    copies: dict[int, tuple[keras.Model, keras.Model]] = {}
    trained: dict[str, list[str]] = {}
    for index, block in enumerate(plan):
        if block.network is not None:
            layers = settings.layers if index in tuned else []
            copies[index], trained[block.name] = _trainable_copy(
                block, layers, regressor.random_seed()
            )

    # The chain's own graph (scaling, each network A, final network) with the
    # copies in it: the blocks enter as the compiled predict feeds them.
    graph = ChainGraph(plan, regressor, networks_a={i: upto for i, (_, upto) in copies.items()})
    entries = arrays = [b.entry(X) for b in plan]
    inputs = [
        keras.Input((a.shape[1],), name=f"{layer_name(b.name)}_in")
        for a, b in zip(arrays, plan, strict=False)
    ]
    joint = keras.Model(inputs, graph.outputs([graph.features(i, x) for i, x in enumerate(inputs)]))
    joint.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate), loss=regressor.model_.loss
    )

    target, sample_weight = regressor.joint_training_data(y, sample_weight)
    if sample_weight is not None:
        # As the final network's own fit (scikeras) does: a row of weight 0 is
        # dropped first (before early stopping draws its validation rows), so it
        # changes nothing (not even how the batches fall).
        sample_weight = np.asarray(sample_weight, dtype=np.float32)
        keep = sample_weight != 0
        (arrays, target, sample_weight) = (
            take_rows(part, keep) for part in (arrays, target, sample_weight)
        )
    fit_options: dict[str, Any] = {}
    if validation is not None:
        X_val, y_val = validation
        fit_options["validation_data"] = (
            [b.entry(X_val) for b in plan],
            regressor.joint_training_data(y_val)[0],
        )
    elif settings.early_stopping:
        (arrays, target, sample_weight), fit_options["validation_data"] = hold_out_validation(
            arrays,
            target,
            None if sample_weight is None else np.asarray(sample_weight),
            settings.validation_fraction,
            regressor.random_seed(),
            regressor.validation_strata(target),
            _STAGE,
        )
    stopper = None
    if settings.early_stopping:
        stopper = early_stopper(settings)
        fit_options["callbacks"] = [stopper]
    batch_size = settings.batch_size or regressor.batch_size or 32
    if settings.epochs:
        with random_state_kept(regressor.random_seed()):
            data = {
                "x": arrays,
                "y": target,
                "sample_weight": sample_weight,
                "batch_size": len(target) if batch_size == -1 else batch_size,
                "shuffle": True,
                "validation_data": fit_options.pop("validation_data", None),
            }
            # The same first epoch as Keras' own pipeline, reshuffled epochs after it, one
            # iterator for the whole fit, no NodeDef error line (see _input_pipeline).
            data.update(dataset_fit_arguments(**data) or {})
            # Last: built as the first batch begins, not in the first trace (_optimizer_build).
            fit_options["callbacks"] = [*fit_options.get("callbacks", []), BuildOptimizer()]
            history = joint.fit(
                **data,
                **fit_options,
                epochs=settings.epochs,
                verbose=regressor.verbose,
            ).history
    else:
        history = {}
    for index in tuned:
        network_a = copies[index][0]
        for layer in network_a.layers:
            layer.trainable = True
        _replace_with_copy(features, plan[index], network_a, X, entries[index])
    regressor.network_changed()
    networks: dict[str, dict[str, Any]] = {}
    for i in tuned:
        frozen = plan[i].network
        assert frozen is not None  # tuned: blocks with a network A
        networks[plan[i].name] = {
            "layers": trained[plan[i].name],
            "output_layer": frozen.layer().name,
        }
    done: dict[str, Any] = {
        "rows": int(len(X)),
        "epochs": len(history.get("loss", [])),
        "networks": networks,
        "history": {k: list(v) for k, v in history.items()},
    }
    if len(networks) == 1:
        done.update(next(iter(networks.values())))
    if stopper is not None and kept_epoch(stopper) is not None:
        done["best_epoch"] = kept_epoch(stopper)
    return done
