"""A fitted network A, frozen inside a chain.

:class:`FrozenTransformer` is :class:`sklearn.frozen.FrozenEstimator` for a
:class:`KerasTransformer` (``fit`` never trains network A, ``clone`` never copies it; a
block of rows' representation is computed once per search), with two parameters safe to
search: ``output_layer`` (another layer retrains nothing) and ``adapt`` (:mod:`skchain.adaptation`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from numbers import Integral
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._base import check_fitted
from ._cache import RepresentationCache, share_cache, shared_cache
from ._column_identity import check_network_inputs, rows_in_network_order, step_names_for_messages
from .adaptation import ADAPT_METHODS, adapt_network
from .preprocessor import KerasTransformer

if TYPE_CHECKING:
    import keras
    from sklearn.utils import Tags

__all__ = ["FrozenTransformer", "RepresentationCache"]

_STAGE = "FrozenTransformer (frozen network A)"


class FrozenTransformer(TransformerMixin, BaseEstimator):
    """Use a fitted :class:`KerasTransformer` in a chain without retraining it.

    ``fit`` only matches the incoming columns to network A's inputs (see
    *Column identity* below); it never touches network A's weights or its
    scaler. ``transform`` returns the activations
    of ``output_layer``. ``clone`` (and so ``GridSearchCV`` and
    ``cross_val_score``) and ``copy.deepcopy`` give a new wrapper around the
    *same* fitted network and representation cache, so a search neither
    copies network A nor computes the same rows' representation twice.

    The cache follows network A's ``fit``: after changing its weights another
    way (``pre.model_.fit``, ``set_weights``) call ``pre.network_changed()``.

    Parameters
    ----------
    estimator : KerasTransformer
        A fitted transformer (``KerasTransformer.fit`` or ``from_model``).
    output_layer : str, default=None
        Layer of network A to output; ``None`` uses the estimator's own
        choice. Searchable: another layer needs no retraining.
    cache_size : int, default=16
        Number of transformed arrays kept in the shared cache (at most 256 MiB
        together); 0 disables caching.
    rename : dict, default=None
        ``{B's column name: network A's input name}`` for columns of B named
        differently from network A's inputs (network A must know its input
        names). Columns not in the dict keep their name.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        The columns of ``X`` that feed network A, **in network A's input
        order** (B's own names), when ``fit`` got a DataFrame. Every path
        of a chain (the step-by-step ``Pipeline``, the compiled predict,
        ``to_keras``, the exported models, fine-tuning) reads these columns
        in this order.
    network_a_ : KerasTransformer
        With ``adapt``: the copy of network A adapted to the fit rows, which
        ``transform`` runs (see :meth:`network_a`); its ``adapt_method_`` says
        how.

    Notes
    -----
    *Column identity.* When network A knows its input names (fitted on a
    DataFrame, or wrapped by ``KerasTransformer.from_model`` with a scaler
    fitted on one) and ``fit`` gets a DataFrame, its columns are matched to
    network A's inputs **by name** (after ``rename``), whatever their
    order; a column network A never saw, or an input of network A that no
    column provides, is a ``ValueError`` naming both lists. When network A
    has no names, or ``X`` is an array, columns are matched by position.

    See Also
    --------
    sklearn.frozen.FrozenEstimator : The general-purpose frozen wrapper.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from skchain import FrozenTransformer, KerasTransformer
    >>> def build(meta):
    ...     inputs = keras.Input((meta["n_features_in_"],))
    ...     hidden = keras.layers.Dense(4, name="embedding")(inputs)
    ...     return keras.Model(inputs, keras.layers.Dense(1)(hidden))
    >>> rng = np.random.default_rng(0)
    >>> X_a, X_b = rng.normal(size=(2, 32, 3)).astype("float32")
    >>> pre = KerasTransformer(build, loss="mse", random_state=0).fit(X_a, X_a[:, 0])
    >>> frozen = FrozenTransformer(pre).fit(X_b)   # trains nothing
    >>> frozen.transform(X_b).shape
    (32, 4)

    Adapted to rows of another scale and offset, network A reads them as A's own:

    >>> adapted = FrozenTransformer(pre, adapt="standardize").fit(3 * X_a + 2)
    >>> bool(np.allclose(adapted.transform(3 * X_a + 2), pre.transform(X_a), atol=1e-4))
    True
    """

    #: The parameters and the values each takes, checked by ``fit`` and
    #: ``fit_transform`` (scikit-learn's ``_validate_params``).
    _parameter_constraints: dict = {
        "estimator": [HasMethods(["representation", "check_shift", "check_leakage", "layer"])],
        "output_layer": [str, None],
        "cache_size": [Interval(Integral, 0, None, closed="left")],
        "rename": [dict, None],
        "adapt": [StrOptions(set(ADAPT_METHODS)), None],
    }

    def __init__(
        self,
        estimator: KerasTransformer,
        *,
        output_layer: str | None = None,
        cache_size: int = 16,
        rename: dict[str, str] | None = None,
        adapt: Literal["standardize", "coral", "adabn"] | None = None,
    ) -> None:
        self.estimator = estimator
        self.output_layer = output_layer
        self.cache_size = cache_size
        self.rename = rename
        self.adapt = adapt

    # The frozen network is shared, never deep-copied: clones differ in their own parameters.
    def __sklearn_clone__(self) -> Self:
        clone = type(self)(**self.get_params(deep=False))
        share_cache(clone, self._shared_cache())
        # As sklearn.base.clone does: ``set_output`` survives cloning.
        if hasattr(self, "_sklearn_output_config"):
            clone._sklearn_output_config = dict(self._sklearn_output_config)
        return clone

    # As clone, a deep copy (as of a search's fitted features step, skchain._features_cache)
    # shares network A, an adapted copy of it and the representation cache.
    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        new = memo[id(self)] = type(self).__new__(type(self))
        for key, value in vars(self).items():
            shared = key in ("estimator", "network_a_")
            new.__dict__[key] = value if shared else copy.deepcopy(value, memo)
        share_cache(new, self._shared_cache())
        return new

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this wrapper (``deep`` is ignored: network A's are not searchable)."""
        return super().get_params(deep=False)

    def set_params(self, **params: Any) -> Self:
        """Set ``estimator``, ``output_layer``, ``cache_size``, ``rename`` or ``adapt``.

        Raises
        ------
        ValueError
            For ``estimator__*``: a frozen network cannot be changed through the chain.
        """
        nested = sorted(p for p in params if "__" in p)
        if nested:
            raise ValueError(
                f"{_STAGE}: cannot set {nested}: network A is frozen inside the"
                " chain. Refit the KerasTransformer on dataset A and build a new"
                " chain, or search 'output_layer' or 'adapt' here."
            )
        return super().set_params(**params)

    def _shared_cache(self) -> RepresentationCache:
        return shared_cache(self, self.cache_size, self.estimator)

    def cache_info(self) -> dict[str, int]:
        """Counters of the representation cache shared with this wrapper's clones.

        Returns
        -------
        dict
            ``hits``, ``misses``, ``rows_computed`` (rows through network A), ``entries``.
        """
        return self._shared_cache().info()

    def __sklearn_is_fitted__(self) -> bool:
        try:
            self.network_a()
        except Exception:
            return False
        return True

    def network_a(self) -> KerasTransformer:
        """The fitted network A this step runs: the estimator, or its copy adapted in ``fit``.

        Every reader of the frozen network (``transform``, the compiled
        predict, fine-tuning, export, the drift check) goes through it.

        Returns
        -------
        KerasTransformer

        Raises
        ------
        sklearn.exceptions.NotFittedError
            With ``adapt`` set, before ``fit`` (or after ``set_params`` changed ``adapt`` or
            ``estimator``); after network A was refitted on other inputs than at ``fit``.
        """
        check_fitted(self.estimator, _STAGE)
        check_network_inputs(self, _STAGE)
        if self.adapt is None:
            return self.estimator
        adapted = self.__dict__.get("network_a_")
        if (
            adapted is None
            or adapted.adapt_method_ != self.adapt
            or self.__dict__.get("_adapted_from") != self.estimator.fit_token
        ):
            raise NotFittedError(
                f"{_STAGE}: adapt={self.adapt!r} adapts network A to the rows given to fit;"
                " call fit (or fit_transform) first"
            )
        return adapted

    def _fit_rows(self, X: ArrayLike) -> np.ndarray:
        """``fit``'s work: the rows validated, the leakage check, the adaptation (``adapt``)."""
        self._validate_params()
        check_fitted(self.estimator, _STAGE)
        X = self._rows(X, reset=True)
        self.estimator.check_leakage(X, f"{_STAGE} fit")
        self.__dict__.pop("network_a_", None)
        if self.adapt is not None:
            adapted = adapt_network(self.estimator, self.adapt, X, f"{_STAGE} fit")
            adapted.adapt_method_ = self.adapt
            self.network_a_, self._adapted_from = adapted, self.estimator.fit_token
        return X

    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Check the columns against network A's inputs (and with ``adapt``, adapt a copy).

        Network A itself is never trained or changed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dataset B's columns that feed network A.
        y : None
            Ignored.

        Returns
        -------
        self : FrozenTransformer

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            For a parameter outside ``_parameter_constraints``.
        ValueError
            When the columns do not match network A's inputs (see *Column
            identity*), with ``leakage_check="raise"`` on the estimator
            when the rows hold too many of dataset A's training rows, or when
            ``adapt`` cannot be fitted (see :func:`skchain.adaptation.adapt_network`).
        """
        self._fit_rows(X)
        return self

    def fit_transform(self, X: ArrayLike, y: object = None) -> np.ndarray:
        """Same as ``fit(X).transform(X)`` (an ndarray of float32), validating ``X`` once."""
        return self.representation(self._fit_rows(X))

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Activations of ``output_layer`` of the frozen network A.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, width), dtype float32
            Read-only when it comes from the cache.
        """
        check_fitted(self.estimator, _STAGE)
        return self.representation(self._rows(X, reset=False))

    def shift_report(self, X: ArrayLike) -> pd.DataFrame:
        """Drift tests of ``X`` against network A's training inputs and outputs.

        See :meth:`KerasTransformer.shift_report`; columns are matched as in
        ``transform``, and the outputs are those of this step's layer. With
        ``adapt``, against the rows network A was adapted to.
        """
        network = self.network_a()
        return network.shift_report(
            self._as_network_input(X), step_names_for_messages(self), output_layer=self.layer().name
        )

    def leakage_report(self, X: ArrayLike) -> pd.DataFrame:
        """The rows of ``X`` that hold exactly the values of a row network A was trained on.

        See :meth:`KerasTransformer.leakage_report`; columns are matched as in
        ``transform`` (by name where network A knows its columns' names).
        """
        check_fitted(self.estimator, _STAGE)
        return self.estimator.leakage_report(self._as_network_input(X))

    def _as_network_input(self, X: ArrayLike) -> np.ndarray | pd.DataFrame:
        """Rows of ``X`` in network A's column order, under network A's own column names."""
        rows = self._rows(X, reset=False)
        names = getattr(self.estimator, "feature_names_in_", None)
        return rows if names is None else pd.DataFrame(rows, columns=list(names), copy=False)

    def _rows(self, X: ArrayLike, reset: bool) -> np.ndarray:
        """``X`` validated here, as float32 in network A's column order (see *Column identity*)."""
        return rows_in_network_order(self, X, reset, f"{_STAGE} {'fit' if reset else 'transform'}")

    def layer(self) -> keras.layers.Layer:
        """The Keras layer of network A this step outputs.

        Returns
        -------
        keras.layers.Layer
            ``output_layer`` when set (read at each call, so that
            ``set_params(output_layer=...)`` takes effect at once), else the
            layer the estimator chose at its fit (``output_layer_``).

        Raises
        ------
        ValueError
            When ``output_layer`` is not a layer of network A with a 2-D output.
        """
        return self.network_a().layer(self.output_layer)

    def representation(
        self, X: np.ndarray, compute: Callable[[np.ndarray, str], np.ndarray] | None = None
    ) -> np.ndarray:
        """Network A's outputs for validated rows, from the cache or computed.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ``n_features_in_``), dtype float32
            Rows already validated and in network A's column order.
        compute : callable, default=None
            ``compute(X, layer_name)`` computes the outputs instead of
            ``KerasTransformer.representation`` (the fused predictor runs
            them in its own graph); either way a cache miss runs the shift
            check and fills the cache.

        Returns
        -------
        ndarray of shape (n_samples, width), dtype float32
            Read-only when it comes from the cache.
        """
        inner = self.network_a()
        layer_name = inner.layer(self.output_layer).name
        compute = compute or inner.representation

        def on_miss() -> np.ndarray:
            # Checked on a cache miss only: the same rows get the same verdict.
            # Both levels: the rows, and network A's outputs for them.
            out = compute(X, layer_name)
            inner.check_shift(
                X, _STAGE, step_names_for_messages(self), outputs=out, layer=layer_name
            )
            return out

        return self._shared_cache().get_or_compute(X, (layer_name, inner.fit_token), on_miss)

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """Names of the output columns: ``"<layer>0"``, ``"<layer>1"``, ...

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored.

        Returns
        -------
        ndarray of str objects
        """
        check_fitted(self.estimator, _STAGE)
        return self.estimator.get_feature_names_out(output_layer=self.output_layer)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.requires_fit = self.adapt is not None
        return tags
