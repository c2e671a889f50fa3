"""Network A's layer outputs: which layer, and its activations for given rows.

The one place that resolves a layer name of network A (:func:`resolve_output_layer`,
checked once per ``fit`` into ``output_layer_``), names a layer's output
columns (:func:`layer_feature_names`) and lists the layers a transformer can
output (:func:`output_layers`); and :class:`LayerOutputsMixin`, the part of
:class:`~skchain.KerasTransformer` that computes those outputs through
compiled forward passes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from ._base import check_fitted, graph_inputs
from ._target import unscaled_outputs
from ._validation import validate_float32

__all__ = [
    "LayerOutputsMixin",
    "layer_feature_names",
    "network_layers",
    "output_layers",
    "resolve_output_layer",
]

_STAGE = "KerasTransformer (network A)"


def network_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of ``model`` other than its ``InputLayer``\\ s, in order.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    list of keras.layers.Layer
    """
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def resolve_output_layer(
    model: keras.Model, name: str | None = None, stage: str = _STAGE
) -> keras.layers.Layer:
    """The layer of network A called ``name`` (``None``: the layer before the last).

    Parameters
    ----------
    model : keras.Model
        Network A, with exactly one input.
    name : str, default=None
        The layer's name; ``None`` selects the input of the head.
    stage : str, default="KerasTransformer (network A)"
        The stage to name in errors.

    Returns
    -------
    keras.layers.Layer
        A layer whose output is 2-D ``(n_samples, width)``.

    Raises
    ------
    TypeError
        When the network has no graph of layers to read an output from (a
        subclassed ``keras.Model``, or a ``Sequential`` without a
        ``keras.Input``).
    ValueError
        When the network has several inputs, fewer than two layers (with
        ``name=None``), no layer called ``name``, or the layer's output is
        not 2-D. The message lists the network's layers.
    """
    inputs = graph_inputs(model, stage)
    if len(inputs) != 1:
        raise ValueError(
            f"{stage}: network A has {len(inputs)} inputs; expected exactly one input tensor"
        )
    layers = network_layers(model)
    if name is None:
        if len(layers) < 2:
            raise ValueError(
                f"{stage}: network A has {len(layers)} layer(s); the default"
                " output_layer (the layer before the last) needs at least two."
                " Name one with output_layer=."
            )
        layer = layers[-2]
    else:
        try:
            layer = model.get_layer(name)
        except ValueError:
            raise ValueError(
                f"{stage}: output_layer={name!r} is not a layer of network A;"
                f" its layers are {[layer.name for layer in layers]}"
            ) from None
    if len(layer.output.shape) != 2:
        raise ValueError(
            f"{stage}: output_layer={layer.name!r} outputs shape"
            f" {tuple(layer.output.shape)}; expected a 2-D output"
            " (n_samples, width); pick a later layer or add a Flatten or"
            " pooling layer"
        )
    return layer


def output_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer of ``model`` a transformer can output (2-D outputs), in order.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    list of keras.layers.Layer
        Empty for a network with several inputs.
    """
    found = []
    for layer in network_layers(model):
        try:
            found.append(resolve_output_layer(model, layer.name))
        except (ValueError, AttributeError):
            continue
    return found


def layer_feature_names(layer_name: str, width: int) -> list[str]:
    """``["<layer>0", "<layer>1", ...]``: the names of a layer's output columns.

    Parameters
    ----------
    layer_name : str
    width : int

    Returns
    -------
    list of str

    Examples
    --------
    >>> from skchain._network_a_outputs import layer_feature_names
    >>> layer_feature_names("embedding", 3)
    ['embedding0', 'embedding1', 'embedding2']
    """
    return [f"{layer_name}{i}" for i in range(width)]


class LayerOutputsMixin:
    """Activations of network A's layers (and of its head) for raw rows.

    Part of :class:`~skchain.KerasTransformer`; needs ``model_``,
    ``output_layer_``, ``scaler_`` and the input scaling of
    ``NetworkATrainingMixin`` (``folded_scaling``, ``scaled_inputs``).
    """

    # What the estimator this mixin is part of provides.
    model_: Any
    output_layer_: str

    if TYPE_CHECKING:

        def _forward(
            self, key: Hashable, build_model: Callable[[], keras.Model], **options: Any
        ) -> Any: ...

        def check_shift(self, *args: Any, **kwargs: Any) -> Any: ...

        def folded_scaling(self, *args: Any, **kwargs: Any) -> Any: ...

        def scaled_inputs(self, *args: Any, **kwargs: Any) -> Any: ...

    def layer(self, output_layer: str | None = None) -> keras.layers.Layer:
        """The Keras layer of ``model_`` whose activations are returned.

        Parameters
        ----------
        output_layer : str, default=None
            A layer's name; ``None`` means the layer chosen at fit
            (``output_layer_``).

        Returns
        -------
        keras.layers.Layer

        Raises
        ------
        ValueError
            When ``output_layer`` is not a layer of network A with a 2-D output.
        """
        check_fitted(self, _STAGE)
        if output_layer is None:
            return self.model_.get_layer(self.output_layer_)
        return resolve_output_layer(self.model_, output_layer)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Activations of ``output_layer_`` for the scaled rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the same kind as dataset A's inputs.

        Returns
        -------
        ndarray of shape (n_samples, width), dtype float32
        """
        check_fitted(self, _STAGE)
        stage = f"{_STAGE} transform"
        rows = validate_float32(self, X, reset=False, stage=stage)
        out = self.representation(rows)
        self.check_shift(rows, stage, outputs=out, layer=self.output_layer_)
        return out

    def representation(self, X: np.ndarray, output_layer: str | None = None) -> np.ndarray:
        """Activations of ``output_layer`` for already validated float32 rows.

        This is the fast path used by :class:`FrozenTransformer`: it skips
        the feature-name bookkeeping of ``transform`` and can read any layer
        without changing this estimator's parameters.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ``n_features_in_``), dtype float32
            Raw (unscaled) rows.
        output_layer : str, default=None
            Layer name; ``None`` means ``output_layer_``.

        Returns
        -------
        ndarray of shape (n_samples, width), dtype float32
        """
        layer = self.layer(output_layer)
        X, folded = self._scaled_or_folded(X)
        forward = self._forward(("layer", layer.name), lambda: self.layer_model(layer), **folded)
        return forward([X])

    def layer_model(self, layer: keras.layers.Layer) -> keras.Model:
        """Network A from its input to ``layer``, as a Keras model.

        Parameters
        ----------
        layer : keras.layers.Layer
            A layer of ``model_`` (see :meth:`layer`).

        Returns
        -------
        keras.Model
            Takes the scaled inputs ``(n_samples, n_features_in_)``.
        """
        return keras.Model(self.model_.inputs[0], layer.output)

    def _scaled_or_folded(self, X: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Apply the input scaler, or return it as constants for the compiled call.

        A :class:`~sklearn.preprocessing.StandardScaler` is folded into the
        compiled function (one pass over the data instead of two); any other
        scaler runs as it is.
        """
        folded = self.folded_scaling()
        if folded is None:
            return self.scaled_inputs(X), {}
        return X, folded

    def representation_width(self, output_layer: str | None = None) -> int:
        """Number of columns ``representation`` returns for ``output_layer``.

        Parameters
        ----------
        output_layer : str, default=None
            Layer name; ``None`` means ``output_layer_``.

        Returns
        -------
        int
        """
        return int(self.layer(output_layer).output.shape[-1])

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None, output_layer: str | None = None
    ) -> np.ndarray:
        """Names of the output columns: the layer name and a running index.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored; present for API consistency.
        output_layer : str, default=None
            Layer to name; ``None`` means ``output_layer_``.

        Returns
        -------
        ndarray of str objects
            ``["<layer>0", "<layer>1", ...]``.
        """
        layer = self.layer(output_layer)
        return np.asarray(
            layer_feature_names(layer.name, int(layer.output.shape[-1])), dtype=object
        )

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Network A's own head output for ``X`` (e.g. to check it on A's test set).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray, dtype float32
            Shape ``(n_samples,)`` when network A was trained on a 1-D target
            and has one output unit, else ``(n_samples, n_outputs)``; in the
            target's own units (``target_scaler_`` inverted).
        """
        check_fitted(self, _STAGE)
        rows = validate_float32(self, X, reset=False, stage=f"{_STAGE} predict")
        rows, folded = self._scaled_or_folded(rows)
        out = self._forward(("head",), lambda: self.model_, **folded)([rows])
        out = unscaled_outputs(getattr(self, "target_scaler_", None), out)
        if out.ndim == 2 and out.shape[1] == 1 and getattr(self, "y_ndim_", 1) == 1:
            out = out[:, 0]
        return out
