"""Target scaling: a regression target standardised on the training rows, inverted at predict.

Networks train best on a target of unit scale: a price in dollars (mean
4,000, sd 4,000) under the default initialisation and learning rate takes
hundreds of epochs to reach, where the same target in standard units takes a
few. :class:`~skchain.ChainRegressor` and :class:`~skchain.KerasTransformer`
fit a scaler on the training rows' target (weighted by ``sample_weight``, per
output column), train on the scaled target, and invert the scaling in every
path that predicts (the compiled predict, ``to_keras``, the exported models),
so predictions are in the target's own units. This module is the one place
that makes, fits, applies and inverts it.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._base import standard_scaling

__all__ = ["fit_target_scaler", "scaled_target", "unscaled_outputs", "target_affine"]

CONTINUOUS = ("continuous", "continuous-multioutput")


#: Losses of a continuous target that standard units suit (by name or class name).
REGRESSION_LOSSES = {
    "mse",
    "mean_squared_error",
    "meansquarederror",
    "mae",
    "mean_absolute_error",
    "meanabsoluteerror",
    "huber",
    "huber_loss",
    "log_cosh",
    "logcosh",
}


def _is_regression_loss(loss: Any) -> bool:
    if loss is None:
        return False
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", type(loss).__name__)
    return str(name).lower() in REGRESSION_LOSSES


def _make(spec: Any, y: Any, stage: str, loss: Any = None) -> Any:
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec == "auto":
            # Network A's target may be class labels (then left alone): scaled for a
            # regression loss, or (another loss) when its values are not whole numbers.
            continuous = _is_regression_loss(loss) or type_of_target(y) in CONTINUOUS
            return StandardScaler() if continuous else None
        if spec == "standard":
            return StandardScaler()
        raise ValueError(
            f"{stage}: target_scaler={spec!r}; expected 'standard', None or a scikit-learn"
            " transformer with inverse_transform"
        )
    if hasattr(spec, "fit") and hasattr(spec, "transform") and hasattr(spec, "inverse_transform"):
        return clone(spec)
    raise TypeError(
        f"{stage}: target_scaler must be 'standard', None or a scikit-learn transformer with"
        f" inverse_transform; got {type(spec).__name__}"
    )


def fit_target_scaler(spec: Any, y: Any, sample_weight: Any, stage: str, loss: Any = None) -> Any:
    """The target scaler ``spec`` asks for, fitted on ``y``; None for no scaling.

    Parameters
    ----------
    spec : {"standard", "auto"}, None or transformer
        ``"standard"``: a ``StandardScaler`` per output column. ``"auto"``:
        the same when ``loss`` is a regression loss (``"mse"``, ``"mae"``,
        Huber, log-cosh, by name or class) or, for another loss, when ``y``
        is continuous (scikit-learn's ``type_of_target``: not whole numbers),
        else none. A transformer with ``inverse_transform`` is cloned.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,) or None
        Passed to the scaler's ``fit`` when it takes them; otherwise the
        scaler is fitted on the rows of positive weight.
    stage : str
        The stage to name in error messages.
    loss : str, callable or keras.losses.Loss, default=None
        The loss the network trains with (for ``"auto"``).

    Returns
    -------
    fitted transformer or None
    """
    scaler = _make(spec, y, stage, loss)
    if scaler is None:
        return None
    rows = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if sample_weight is None:
        return scaler.fit(rows)
    weights = np.asarray(sample_weight, dtype=np.float64)
    if "sample_weight" in inspect.signature(scaler.fit).parameters:
        return scaler.fit(rows, sample_weight=weights)
    return scaler.fit(rows[weights > 0])


def scaled_target(scaler: Any, y: Any) -> Any:
    """``y`` in the scaler's units, float32, with ``y``'s shape (``y`` itself without one)."""
    if scaler is None:
        return y
    y = np.asarray(y)
    out = np.asarray(scaler.transform(y.astype(np.float64).reshape(len(y), -1)), dtype=np.float32)
    return out.reshape(y.shape) if y.ndim == 1 else out


def target_affine(scaler: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(scale, shift)`` float32 arrays with ``target = scale * output + shift``, or None.

    Only for a ``StandardScaler`` (or no scaler: ``None`` too, check the
    scaler first); other transformers are inverted by their own
    ``inverse_transform``.
    """
    if type(scaler) is not StandardScaler:
        return None
    shift, scale = standard_scaling(scaler, scaler.n_features_in_)
    return scale, shift


def unscaled_outputs(scaler: Any, out: Any) -> Any:
    """A network's raw outputs ``(n_samples, n_outputs)`` back in the target's units, float32."""
    if scaler is None:
        return out
    affine = target_affine(scaler)
    if affine is not None:
        scale, shift = affine
        return np.asarray(out, np.float32) * scale + shift
    return np.asarray(scaler.inverse_transform(np.asarray(out, np.float64)), dtype=np.float32)
