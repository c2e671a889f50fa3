"""A network trained elsewhere as a fitted :class:`~skchain.KerasTransformer`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import graph_inputs
from ._network_a_outputs import resolve_output_layer
from ._validation import validate_float32

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    # What the mixin is mixed into (scikeras is untyped: Any to mypy).
    from ._scikeras import BaseWrapper as _WrapperBase
else:
    _WrapperBase = object

__all__ = ["FromModelMixin"]

_STAGE = "KerasTransformer (network A)"


class FromModelMixin(_WrapperBase):
    """:meth:`from_model`: part of :class:`~skchain.KerasTransformer`."""

    @classmethod
    def from_model(
        cls,
        model: keras.Model,
        *,
        output_layer: str | None = None,
        scaler: Any = None,
        training_rows: ArrayLike | None = None,
        **kwargs: Any,
    ) -> Self:
        """Wrap a network that is already trained, without training it.

        Parameters
        ----------
        model : keras.Model
            A built, trained Keras model with one input.
        output_layer : str, default=None
            As in the constructor.
        scaler : fitted transformer, default=None
            The scaler the network was trained with, already fitted; ``None``
            when the network takes raw inputs. It is used as it is (not
            refitted).
        training_rows : array-like of shape (n_samples, n_features), default=None
            The rows the network was trained on (raw, unscaled), if known.
            They give the shift check its statistics and the leakage check
            its fingerprints; without them both checks are skipped.
        **kwargs
            Other constructor parameters (used if the returned transformer is
            refitted, e.g. after ``clone``).

        Returns
        -------
        KerasTransformer
            A fitted transformer: ``transform`` works at once.

        Raises
        ------
        TypeError
            When ``model`` is not a ``keras.Model``, or has no graph of layers
            (a subclassed ``keras.Model``).
        ValueError
            When the network is not built, or ``output_layer`` is not one of
            its layers with a 2-D output.
        sklearn.exceptions.NotFittedError
            When ``scaler`` is not fitted.

        Examples
        --------
        >>> import keras
        >>> import numpy as np
        >>> from skchain import KerasTransformer
        >>> inputs = keras.Input((3,))
        >>> hidden = keras.layers.Dense(4, name="embedding")(inputs)
        >>> network = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        >>> pre = KerasTransformer.from_model(network)
        >>> pre.output_layer_, pre.transform(np.zeros((2, 3))).shape
        ('embedding', (2, 4))
        """
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"{_STAGE}: from_model expects a keras.Model; got {type(model).__name__}"
            )
        inputs = graph_inputs(model, _STAGE) if model.built else []
        if not inputs:
            raise ValueError(
                f"{_STAGE}: from_model needs a built network with a known input"
                " shape (call it once or give it a keras.Input)"
            )
        width = inputs[0].shape[-1]
        if scaler is not None:
            check_is_fitted(
                scaler,
                msg=f"{_STAGE}: from_model needs the scaler already fitted on dataset A",
            )
        est = cls(model=model, output_layer=output_layer, scaler=scaler, **kwargs)
        est._clear_compiled()
        est.model_ = model
        est.scaler_ = scaler
        est.target_scaler_ = None  # trained elsewhere: its outputs are in its own units
        est.n_features_in_ = int(getattr(scaler, "n_features_in_", width))
        names = getattr(scaler, "feature_names_in_", None)
        if names is not None:
            est.feature_names_in_ = names
        est.X_dtype_ = np.dtype(np.float32)
        est.output_layer_ = resolve_output_layer(model, output_layer).name
        if training_rows is not None:
            rows = validate_float32(
                est, training_rows, reset=False, stage=f"{_STAGE} from_model training_rows"
            )
            est.record_dataset_a(rows)
        return est
