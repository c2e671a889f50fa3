"""Network A's raw inputs as a block of their own, beside its representation.

``make_chain(..., representation_passthrough=True)`` gives the final network
B's columns of A's kind, scaled with network A's own input scaler, next to
network A's output: the final network can then use what network A's
representation lost, and the chain can do no worse than ignoring network A.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike

from ._base import check_fitted
from .frozen import FrozenTransformer

__all__ = ["NetworkAInputs"]


class NetworkAInputs(FrozenTransformer):
    """B's columns of A's kind as network A's first layer sees them: scaled with A's own scaler.

    The block ``make_chain(..., representation_passthrough=True)`` puts next
    to network A's representation, so the final network can also use the
    raw inputs (and a chain can never do worse than ignoring network A).
    Columns are matched to network A's inputs as by :class:`FrozenTransformer`
    (by name when network A knows its input names, ``rename`` to map others);
    nothing is trained, nothing is checked for drift (the representation
    block checks the same rows).

    Parameters
    ----------
    estimator : KerasTransformer
        Fitted network A; only its input scaler is used.
    output_layer, cache_size
        Unused (kept so that both blocks are configured alike).
    rename : dict, default=None
        As in :class:`FrozenTransformer`.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from skchain import KerasTransformer
    >>> from skchain.passthrough import NetworkAInputs
    >>> def build(meta):
    ...     inputs = keras.Input((meta["n_features_in_"],))
    ...     return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(4)(inputs)))
    >>> X_a = np.random.default_rng(0).normal(5, 2, size=(32, 3)).astype("float32")
    >>> pre = KerasTransformer(build, loss="mse", random_state=0).fit(X_a, X_a[:, 0])
    >>> NetworkAInputs(pre).fit_transform(X_a).std(axis=0).round(2)
    array([1., 1., 1.], dtype=float32)
    """

    _STAGE: ClassVar[str] = "NetworkAInputs (network A's scaled inputs)"

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Match the columns to network A's inputs; train nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dataset B's columns of network A's kind.
        y : None
            Ignored.

        Returns
        -------
        self : NetworkAInputs
        """
        self._validate_params()
        check_fitted(self.estimator, self._STAGE)
        self._rows(X, reset=True)
        return self

    def fit_transform(self, X: ArrayLike, y: object = None) -> np.ndarray:
        """Same as ``fit(X).transform(X)``.

        Returns
        -------
        ndarray of shape (n_samples, ``n_features_in_``), dtype float32
        """
        self._validate_params()
        check_fitted(self.estimator, self._STAGE)
        return self.estimator.scaled_inputs(self._rows(X, reset=True))

    def representation(self, X: np.ndarray, compute: object = None) -> np.ndarray:
        """The rows scaled with network A's input scaler (``compute`` is ignored).

        Parameters
        ----------
        X : ndarray of shape (n_samples, ``n_features_in_``), dtype float32
            Rows already validated and in network A's column order.
        compute : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples, ``n_features_in_``), dtype float32
        """
        return self.estimator.scaled_inputs(X)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Network A's input names (``x0``, ``x1``, ... when it has none), in its order."""
        check_fitted(self.estimator, self._STAGE)
        names = getattr(self.estimator, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.estimator.n_features_in_)]
        return np.asarray([str(n) for n in names], dtype=object)
