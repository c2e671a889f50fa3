"""The output heads of the final network: how its raw outputs become predictions.

:class:`RegressionHead` (:class:`~skchain.ChainRegressor`) and
:class:`ClassificationHead` (:class:`~skchain.ChainClassifier`) own the
output layer of the default network, the turning of the network's raw
outputs into predictions or class probabilities (in NumPy for ``predict``
and the compiled chain, in the graph for the served model), and the target
fine-tuning trains on.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from ._target import scaled_target, target_affine, unscaled_outputs
from ._weights import class_sample_weight

__all__ = ["ClassificationHead", "RegressionHead"]

_REGRESSOR = "ChainRegressor (final network)"


class RegressionHead:
    """A continuous target: linear outputs in the scaled units, unscaled for predictions."""

    # Fitted by the estimator.
    n_outputs_: int
    target_scaler_: Any

    def _output_layer(self) -> tuple[int, str | None]:
        return self.n_outputs_, None

    def joint_training_data(
        self, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> tuple[np.ndarray, ArrayLike | None]:
        """The target and weights the network trains on, for training outside scikeras.

        Fine-tuning trains this network together with network A.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        (ndarray of shape (n_samples, n_outputs), ndarray or None)
        """
        target = scaled_target(self.target_scaler_, np.asarray(y, dtype=np.float32))
        return (target[:, None] if target.ndim == 1 else target), sample_weight

    def outputs_to_predictions(self, out: np.ndarray) -> np.ndarray:
        """The network's raw outputs (``Chain``'s compiled graph) as ``predict`` returns them.

        Parameters
        ----------
        out : ndarray of shape (n_samples, n_outputs)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            In the target's units.
        """
        out = unscaled_outputs(getattr(self, "target_scaler_", None), out)
        if self._one_dimensional(out.shape):
            return out[:, 0]
        return out

    def _one_dimensional(self, shape: tuple[int | None, ...]) -> bool:
        return getattr(self, "y_ndim_", 2) == 1 and len(shape) == 2 and shape[1] == 1

    def serving_head(self, out: keras.KerasTensor) -> tuple[keras.KerasTensor, str]:
        """:meth:`outputs_to_predictions` in the served model's graph.

        Parameters
        ----------
        out : keras tensor
            The network's raw outputs.

        Returns
        -------
        (keras tensor, str)
            The predictions and the served output's name.
        """
        scaler = getattr(self, "target_scaler_", None)
        if scaler is not None:
            affine = target_affine(scaler)
            if affine is None:
                raise ValueError(
                    f"{_REGRESSOR}: target_scaler={type(scaler).__name__} cannot be served (no"
                    " graph form of its inverse_transform); use target_scaler='standard' or None"
                )
            out = out * affine[0] + affine[1]
        if self._one_dimensional(out.shape):
            out = keras.ops.reshape(out, (-1,))
        return out, "predictions"


def _is_sparse_categorical(loss: Any) -> bool:
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", type(loss).__name__)
    return "sparse_categorical" in str(name).lower()


class ClassificationHead:
    """Class labels: sigmoid or softmax outputs, probabilities in ``classes_`` order."""

    # The estimator's parameters, and what it fits.
    loss: Any
    class_weight: Any
    target_type_: str
    n_classes_: int
    target_encoder_: Any

    def _output_layer(self) -> tuple[int, str | None]:
        target = self.target_type_
        if target == "binary":
            return (2, "softmax") if _is_sparse_categorical(self.loss) else (1, "sigmoid")
        if target == "multilabel-indicator":
            return self.n_classes_, "sigmoid"
        return self.n_classes_, "softmax"

    def _strata(self, y: Any) -> np.ndarray | None:
        if self.target_type_ == "multilabel-indicator":
            return None
        y = np.asarray(y)
        return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)

    def joint_training_data(
        self, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The target and weights the network trains on, for training outside scikeras.

        Fine-tuning trains this network together with network A: it needs
        the encoded target and ``class_weight`` folded into the weights.

        Parameters
        ----------
        y : array-like
            Labels, as given to ``fit``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        (ndarray, ndarray or None)
        """
        y = np.asarray(y)
        target = np.asarray(self.target_encoder_.transform(y), dtype=np.float32)
        return target, class_sample_weight(self.class_weight, y, sample_weight)

    def outputs_to_proba(self, out: np.ndarray) -> np.ndarray:
        """Class probabilities (one column per class) from the network's raw outputs.

        Parameters
        ----------
        out : ndarray of shape (n_samples, n_units)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        out = np.asarray(out, dtype=np.float32)
        if self.target_type_ == "binary" and out.shape[1] == 1:
            return np.column_stack([1 - out[:, 0], out[:, 0]])
        return out

    def serving_head(self, out: keras.KerasTensor) -> tuple[keras.KerasTensor, str]:
        """:meth:`outputs_to_proba` in the served model's graph.

        Parameters
        ----------
        out : keras tensor
            The network's raw outputs.

        Returns
        -------
        (keras tensor, str)
            The probabilities and the served output's name.
        """
        if self.target_type_ == "binary" and out.shape[1] == 1:
            out = keras.ops.concatenate([1 - out, out], axis=1)
        return out, "probabilities"

    def outputs_to_predictions(self, out: np.ndarray) -> np.ndarray:
        """Class labels, as ``predict`` returns them, from the network's raw outputs.

        Parameters
        ----------
        out : ndarray of shape (n_samples, n_units)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        return self.target_encoder_.inverse_transform(self.outputs_to_proba(out))
