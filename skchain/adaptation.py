"""Unsupervised domain adaptation of a frozen network A to dataset B's rows.

When B's columns of A's kind come from another distribution (a scanner that
reads darker, a recalibrated sensor, another year's prices), network A's
representation of them can be off. ``FrozenTransformer(pre, adapt=...)``
(and ``make_chain(..., adapt=...)``) adapts a *copy* of network A to the rows
the chain is fitted on, without B's labels:

``"standardize"``
    Per feature, B's inputs are moved to dataset A's mean and standard
    deviation.
``"coral"``
    Correlation alignment (Sun, Feng & Saenko, "Return of Frustratingly Easy
    Domain Adaptation", AAAI 2016): B's inputs are whitened with B's
    covariance, regularised by Ledoit-Wolf shrinkage of its correlations
    (:func:`sklearn.covariance.ledoit_wolf`), and recoloured with A's; the
    means are aligned too.
``"adabn"``
    Adaptive batch normalisation (Li, Wang, Shi, Liu & Hou, "Revisiting
    Batch Normalization For Practical Domain Adaptation", 2016): the moving
    mean and variance of every ``BatchNormalization`` layer of network A are
    re-estimated on B's rows (padded steps of masked sequences left out).

``"standardize"`` and ``"coral"`` work on network A's *scaled* inputs (after
its own input scaler), against the moments of A's scaled training inputs
that :class:`InputMoments` keeps from ``KerasTransformer.fit``; for a
``StandardScaler`` (or any per-feature affine scaler) this is the same as
aligning the raw columns and then scaling them. The alignment becomes a
fixed :class:`~skchain.layers.InputAlignment` layer at the start of the
copy, so the compiled predict, fine-tuning, ``to_keras``, SavedModel, ONNX
and the saved chain all run it. Sequence inputs (a network A with a
``Masking`` or ``Embedding`` layer) take ``"adabn"`` only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from sklearn.covariance import ledoit_wolf
from sklearn.utils.extmath import randomized_svd

from ._seeding import nothing_drawn
from .diagnostics import InputStatistics, representation_statistics
from .layers import InputAlignment

if TYPE_CHECKING:
    from .preprocessor import KerasTransformer

__all__ = ["ADAPT_METHODS", "InputMoments", "adapt_network", "adapted_inputs"]

#: The values ``adapt`` takes besides None.
ADAPT_METHODS = ("standardize", "coral", "adabn")

_CHUNK = 8192


def _chunks(n: int, size: int = _CHUNK) -> list[slice]:
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


class InputMoments:
    """Mean, standard deviation and covariance of network A's scaled training inputs.

    Recorded by ``KerasTransformer.fit`` (and ``from_model`` with
    ``training_rows``) for ``adapt="standardize"`` and ``"coral"``. The size
    does not grow with the rows: for at most :attr:`FULL_WIDTH` features the
    covariance is kept whole (float32, at most 4 MiB), for wider inputs as
    its :attr:`RANK` leading eigenpairs (a seeded randomized SVD,
    :func:`sklearn.utils.extmath.randomized_svd`) plus the mean of the other
    eigenvalues.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
        Network A's training inputs after its input scaler.

    Attributes
    ----------
    n_samples : int
    mean, std : ndarray of shape (n_features,), float64
    covariance : ndarray of shape (n_features, n_features), float32, or None
        None when kept in low rank (``components``, ``variances``, ``residual``).

    Examples
    --------
    >>> import numpy as np
    >>> from skchain.adaptation import InputMoments
    >>> Z = np.random.default_rng(0).normal(size=(2000, 3)) * [1, 2, 3]
    >>> moments = InputMoments(Z)
    >>> moments.std.round(1), moments.covariance.shape
    (array([1., 2., 3.]), (3, 3))
    """

    FULL_WIDTH = 1024
    RANK = 256

    n_samples: int
    mean: np.ndarray
    std: np.ndarray
    covariance: np.ndarray | None
    components: np.ndarray | None
    variances: np.ndarray | None
    residual: float

    def __init__(self, Z: np.ndarray) -> None:
        n, width = Z.shape
        self.n_samples = int(n)
        total = np.zeros(width)
        for part in _chunks(n):
            total += Z[part].sum(axis=0, dtype=np.float64)
        mean = total / max(n, 1)
        self.mean = mean
        self.covariance = self.components = self.variances = None
        self.residual = 0.0
        if width <= self.FULL_WIDTH:
            cov = np.zeros((width, width))
            for part in _chunks(n):
                centred = np.asarray(Z[part], np.float64) - mean
                cov += centred.T @ centred
            cov /= max(n, 1)
            self.covariance = cov.astype(np.float32)
            self.std = np.sqrt(np.clip(np.diag(cov), 0, None))
            return
        centred = np.asarray(Z, np.float32) - mean.astype(np.float32)
        variance = np.einsum("ij,ij->j", centred, centred, dtype=np.float64) / max(n, 1)
        self.std = np.sqrt(variance)
        _, singular, vt = randomized_svd(centred, min(self.RANK, n), random_state=0)
        self.variances = singular.astype(np.float64) ** 2 / max(n, 1)
        self.components = vt.T.astype(np.float32)
        rest = width - len(singular)
        left = max(variance.sum() - self.variances.sum(), 0.0)
        self.residual = float(left / rest) if rest else 0.0

    def covariance_matrix(self) -> np.ndarray:
        """The covariance as a full ``(n_features, n_features)`` float64 matrix."""
        if self.covariance is not None:
            return np.asarray(self.covariance, np.float64)
        assert self.variances is not None  # kept in low rank: components and variances
        V = np.asarray(self.components, np.float64)
        return (V * self.variances) @ V.T + self.residual * (np.eye(len(V)) - V @ V.T)


def _psd_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """``matrix ** power`` (power 1/2 or -1/2) of a symmetric positive semi-definite matrix.

    Eigenvalues below 1e-6 of the largest (at least 1e-12) are raised to that
    floor, so a singular matrix (a constant feature) stays finite.
    """
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    floor = max(1e-6 * float(values.max(initial=0.0)), 1e-12)
    values = np.clip(values, floor, None) if power < 0 else np.clip(values, 0, None)
    return (vectors * values**power) @ vectors.T


def _alignment(method: str, moments: InputMoments, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(kernel, bias)`` mapping B's scaled inputs ``Z`` onto A's moments."""
    mean = Z.mean(axis=0, dtype=np.float64)
    if method == "standardize":
        std = Z.std(axis=0, dtype=np.float64)
        kernel = np.where(std > 1e-12, moments.std / np.where(std > 1e-12, std, 1.0), 1.0)
        return kernel, moments.mean - mean * kernel
    # Ledoit-Wolf shrinkage of B's correlations (towards the diagonal of B's own
    # variances): well conditioned with few rows, close to B's covariance with many.
    std = Z.std(axis=0, dtype=np.float64)
    std = np.where(std > 1e-12, std, 1.0)
    correlation = ledoit_wolf((Z - mean) / std, assume_centered=True)[0]
    covariance = correlation * std[:, None] * std[None, :]
    kernel = _psd_power(covariance, -0.5) @ _psd_power(moments.covariance_matrix(), 0.5)
    return kernel, moments.mean - mean @ kernel


def _all_layers(model: keras.Model) -> Iterator[keras.layers.Layer]:
    """Every layer of ``model``, those of the models nested in it included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def batch_norm_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The ``BatchNormalization`` layers of ``model`` that ``adapt="adabn"`` re-estimates."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def reads_sequences(model: keras.Model) -> bool:
    """Whether network A reads padded sequences or token ids (a ``Masking``/``Embedding`` layer)."""
    kinds = (keras.layers.Masking, keras.layers.Embedding)
    return any(isinstance(layer, kinds) for layer in _all_layers(model))


def _with_alignment(
    model: keras.Model, kernel: np.ndarray, bias: np.ndarray, method: str
) -> keras.Model:
    """A copy of ``model`` with an :class:`InputAlignment` layer before its first layer.

    The copy's layers are new (same names and weights), so that each layer's
    ``output`` belongs to the copy's graph; nothing is drawn from the global
    generators.
    """
    names = {layer.name for layer in _all_layers(model)}
    name = f"adapt_{method}"
    while name in names:
        name += "_"
    old = model.inputs[0]
    with nothing_drawn():
        inputs = keras.Input(tuple(old.shape[1:]), dtype=old.dtype, name=f"{name}_inputs")
        align = InputAlignment(diagonal=kernel.ndim == 1, name=name)
        aligned = align(inputs)
        if isinstance(model, keras.Sequential):
            x = aligned
            for layer in model.layers:
                x = layer.__class__.from_config(layer.get_config())(x)
            network = keras.Model(inputs, x, name=model.name)
        else:

            def call(layer: keras.layers.Layer, *args: Any, **kwargs: Any) -> Any:
                given = [aligned if arg is inputs else arg for arg in args]
                return layer(*given, **kwargs)

            structure = [inputs] if isinstance(model.input, (list, tuple)) else inputs
            network = keras.models.clone_model(model, input_tensors=structure, call_function=call)
    align.kernel.assign(kernel.astype(np.float32))
    align.bias.assign(bias.astype(np.float32))
    for layer in model.layers:
        if layer.weights and not isinstance(layer, keras.layers.InputLayer):
            network.get_layer(layer.name).set_weights(layer.get_weights())
    return network


def _copy(model: keras.Model) -> keras.Model:
    """A copy of ``model`` with the same weights (new layers, nothing drawn, nothing saved)."""
    with nothing_drawn():
        network = keras.models.clone_model(model)
    network.set_weights(model.get_weights())
    return network


def _batch_norm_statistics(network: keras.Model, Z: np.ndarray, stage: str) -> keras.Model:
    """Re-estimate every ``BatchNormalization`` layer's moving statistics on ``Z``, in order."""
    layers = batch_norm_layers(network)
    if not layers:
        raise ValueError(
            f"{stage}: adapt='adabn' re-estimates network A's BatchNormalization statistics,"
            f" but network A has no BatchNormalization layer (its layers:"
            f" {[layer.name for layer in network.layers]}); use adapt='standardize' or 'coral'"
        )
    for layer in layers:
        # A layer called with a mask (padded steps) takes it as its second input.
        inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        upto = keras.Model(network.inputs[0], [t for t in inputs[:2] if t is not None])
        axes = None
        total = square = count = 0.0
        for part in _chunks(len(Z)):
            result = upto(Z[part], training=False)
            out, *masks = result if isinstance(result, (list, tuple)) else [result]
            mask = masks[0] if masks else None
            out = np.asarray(keras.ops.convert_to_numpy(out), np.float64)
            if axes is None:
                axis = [a % out.ndim for a in np.atleast_1d(layer.axis)]
                axes = tuple(a for a in range(out.ndim) if a not in axis)
                shape = [out.shape[a] for a in axis]
            weight = (
                np.ones(out.shape[:-1] + (1,))
                if mask is None
                else np.asarray(keras.ops.convert_to_numpy(mask), np.float64)[..., None]
            )
            weight = np.broadcast_to(weight, out.shape)
            total = total + (out * weight).sum(axis=axes)
            square = square + (out**2 * weight).sum(axis=axes)
            count = count + weight.sum(axis=axes)
        count = np.maximum(count, 1.0)
        mean = total / count
        variance = np.clip(square / count - mean**2, 0, None)
        layer.moving_mean.assign(mean.reshape(shape).astype(np.float32))
        layer.moving_variance.assign(variance.reshape(shape).astype(np.float32))
    return network


def adapt_network(
    transformer: KerasTransformer, method: str, X: np.ndarray, stage: str
) -> KerasTransformer:
    """A copy of the fitted ``transformer`` (network A) adapted to the rows ``X``.

    Parameters
    ----------
    transformer : KerasTransformer
        Fitted network A; never changed.
    method : {"standardize", "coral", "adabn"}
    X : ndarray of shape (n_samples, ``n_features_in_``), dtype float32
        Dataset B's raw rows of A's kind (validated, in network A's column order);
        at least two.
    stage : str
        The stage to name in errors.

    Returns
    -------
    KerasTransformer
        A shallow copy sharing the scaler, with its own network (``model_``), a new
        ``fit_token``, ``input_alignment_`` (``(kernel, bias)`` for
        ``"standardize"``/``"coral"``, None for ``"adabn"``), ``adapted_to_`` (the
        number of rows) and the drift check's summaries of ``X``
        (``input_statistics_``, ``representation_statistics_``).

    Raises
    ------
    ValueError
        With fewer than two rows; ``"standardize"``/``"coral"`` for a network A
        that reads sequences or keeps no :class:`InputMoments` (wrapped by
        ``from_model`` without ``training_rows``); ``"adabn"`` for a network A
        without ``BatchNormalization``.
    """
    if len(X) < 2:
        raise ValueError(
            f"{stage}: adapt={method!r} needs at least 2 rows to adapt to; got {len(X)}"
        )
    model = transformer.model_
    Z = transformer.scaled_inputs(X)
    alignment: tuple[np.ndarray, np.ndarray] | None
    if method == "adabn":
        network, alignment = _batch_norm_statistics(_copy(model), Z, stage), None
    else:
        if reads_sequences(model):
            raise ValueError(
                f"{stage}: adapt={method!r} aligns the moments of network A's input features,"
                " but network A reads sequences (it has a Masking or Embedding layer); use"
                " adapt='adabn' (with BatchNormalization layers) or fine-tuning"
            )
        moments = getattr(transformer, "input_moments_", None)
        if moments is None:
            raise ValueError(
                f"{stage}: adapt={method!r} needs the moments of dataset A's inputs, which"
                " network A keeps from KerasTransformer.fit; wrap a network trained"
                " elsewhere with KerasTransformer.from_model(..., training_rows=X_a)"
            )
        alignment = _alignment(method, moments, np.asarray(Z, np.float64))
        network = _with_alignment(model, *alignment, method)
    adapted = copy.copy(transformer)
    adapted.network_changed()
    adapted.model_ = network
    adapted.input_alignment_ = alignment
    # The drift check of the adapted network compares new rows with the rows it was
    # adapted to (the same tests, calibrated the same way), not with dataset A:
    # mapped onto A's moments, B's rows lose what the tests on A's summary rely on
    # (exact values such as blank pixels), and the mapping's own sampling error
    # would be counted as drift.
    adapted.input_statistics_ = InputStatistics(X)
    adapted.representation_statistics_ = representation_statistics(adapted, X)
    adapted.adapted_to_ = len(X)
    return adapted


def adapted_inputs(transformer: KerasTransformer, X: np.ndarray) -> np.ndarray:
    """Raw rows as an adapted network A reads them, in dataset A's units.

    Parameters
    ----------
    transformer : KerasTransformer
    X : ndarray of shape (n_samples, ``n_features_in_``), dtype float32
        Raw rows.

    Returns
    -------
    ndarray of shape (n_samples, ``n_features_in_``), dtype float32
        ``X`` itself when ``transformer`` has no input alignment (not adapted,
        or ``"adabn"``) or its scaler cannot be inverted; else the aligned
        scaled rows mapped back through the scaler's ``inverse_transform``.
    """
    alignment = getattr(transformer, "input_alignment_", None)
    scaler = transformer.scaler_
    if alignment is None or (scaler is not None and not hasattr(scaler, "inverse_transform")):
        return X
    kernel, bias = alignment
    Z = transformer.scaled_inputs(X).astype(np.float64)
    Z = (Z * kernel if kernel.ndim == 1 else Z @ kernel) + bias
    if scaler is None:
        return Z.astype(np.float32)
    return np.asarray(scaler.inverse_transform(Z), np.float32)
