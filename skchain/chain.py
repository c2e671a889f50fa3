"""The whole chain as one scikit-learn ``Pipeline``: :class:`Chain` and :func:`make_chain`."""

import weakref

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.metrics import r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ._fused import FallBack, FusedPredictor, Unsupported
from .finetune import fine_tune_chain

from .encoders import HashingEncoder
from .frozen import FrozenTransformer
from .preprocessor import KerasTransformer
from .regressor import ChainRegressor

__all__ = ["Chain", "make_chain", "make_categorical_encoder"]

# The fused predictor of each fitted chain, with the state it was built from;
# outside the chains so that it never reaches a pickle or a clone.
_fused_predictors = weakref.WeakKeyDictionary()


def _estimators_in(estimator):
    """The estimator and every estimator nested in it (parameters and fitted parts).

    Follows parameters (also inside lists and tuples, as in ``steps`` and
    ``transformers``) and a ``ColumnTransformer``'s fitted ``transformers_``.
    """
    found, stack = {}, [estimator]
    while stack:
        current = stack.pop()
        if isinstance(current, (list, tuple)):
            stack.extend(current)
            continue
        if id(current) in found or not hasattr(current, "get_params") or isinstance(current, type):
            continue
        found[id(current)] = current
        stack.extend(
            v for v in current.get_params(deep=False).values()
            if isinstance(v, (list, tuple)) or hasattr(v, "get_params")
        )
        stack.extend(getattr(current, "transformers_", []))
    return list(found.values())


class Chain(Pipeline):
    """A ``Pipeline`` of a features step and a final regressor, made for chains.

    It is a :class:`sklearn.pipeline.Pipeline` in every respect (parameters,
    ``clone``, ``set_params``, ``named_steps``, the HTML diagram, joblib) and
    adds three things:

    * ``predict`` and ``score`` run the fitted chain as one compiled graph
      (network A's scaler, network A, the numeric scalers and the final
      network; other encoders are called as they are), with the same results
      as the step-by-step path to float32 rounding. Inputs the graph does not
      handle (for example with missing values) take the step-by-step path,
      which also gives the named error messages.
    * ``fit`` checks the target before any step is fitted, and a ``fit`` that
      fails in any step leaves an already fitted chain exactly as it was.
    * Network A's outputs computed while predicting are shared with the
      frozen step's cache, so a search scoring several candidates on the same
      rows runs network A over them once.

    Parameters
    ----------
    steps, transform_input, memory, verbose
        As in :class:`sklearn.pipeline.Pipeline`.
    fine_tune : FineTune or None, default=None
        ``None`` keeps network A frozen (features extracted, the final
        network trained from scratch on them). A :class:`FineTune` trains a
        copy of network A's layers with the final network, end to end with
        the final loss, after that first fit; the chain then uses the
        fine-tuned copy. Searchable as ``fine_tune__<parameter>``.

    Attributes
    ----------
    fine_tuned_ : dict
        After a fit with ``fine_tune``: ``rows``, ``epochs``, ``layers``
        (those trained), ``output_layer`` and the joint training's
        ``history``.

    See Also
    --------
    make_chain : Builds a ``Chain`` from column lists.
    """

    def __init__(self, steps, *, fine_tune=None, transform_input=None, memory=None, verbose=False):
        self.fine_tune = fine_tune
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)

    def fit(self, X, y=None, **params):
        """Fit every step, as ``Pipeline.fit``, or change nothing if a step fails.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        **params
            As in ``Pipeline.fit``.

        Returns
        -------
        self : Chain
        """
        self._check_target(X, y)
        self._check_numeric_columns(X, "fit")
        saved = [(est, dict(est.__dict__)) for est in _estimators_in(self)]
        try:
            super().fit(X, y, **params)
            self.__dict__.pop("fine_tuned_", None)
            if self.fine_tune is not None:
                self.fine_tuned_ = fine_tune_chain(
                    self.steps[0][1], self._final_estimator, self.fine_tune, X, y
                )
        except BaseException:
            for est, state in saved:
                est.__dict__.clear()
                est.__dict__.update(state)
            raise
        _fused_predictors.pop(self, None)
        return self

    def _check_target(self, X, y):
        final = self._final_estimator
        if final == "passthrough" or y is None:
            return
        try:
            y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
            if hasattr(X, "shape") and len(y) != X.shape[0]:
                raise ValueError(
                    f"Found input variables with inconsistent numbers of samples:"
                    f" [{X.shape[0]}, {len(y)}]"
                )
        except ValueError as exc:
            raise ValueError(f"Chain fit (target y, before any step is fitted): {exc}") from exc

    def _fused(self):
        """The fused predictor for the current fitted state, or None."""
        if len(self.steps) != 2:
            return None
        features, regressor = self.steps[0][1], self.steps[1][1]
        try:
            check_is_fitted(regressor)
            state = (
                id(getattr(features, "transformers_", None)),
                getattr(regressor, "_fit_token", None),
                tuple(
                    (id(t), getattr(t, "output_layer", None), id(getattr(t, "estimator", None)))
                    for _, t, _ in getattr(features, "transformers_", [])
                ),
            )
        except Exception:
            return None
        cached = _fused_predictors.get(self)
        if cached is not None and cached[0] == state:
            return cached[1]
        try:
            predictor = FusedPredictor(features, regressor)
        except Unsupported:
            predictor = None
        _fused_predictors[self] = (state, predictor)
        return predictor

    def predict(self, X, **params):
        """Predict with the fitted chain (one compiled graph when possible).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        **params
            As in ``Pipeline.predict``; any parameter selects the step-by-step
            path.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs), dtype float32
        """
        if not params and isinstance(X, pd.DataFrame):
            predictor = self._fused()
            if predictor is not None:
                try:
                    return predictor.predict(X)
                except FallBack:
                    pass
        self._check_numeric_columns(X, "predict")
        return super().predict(X, **params)

    def _check_numeric_columns(self, X, method):
        """Name the column when a scaled (numeric) block holds something else."""
        features = self.steps[0][1]
        if not hasattr(X, "dtypes") or not isinstance(features, ColumnTransformer):
            return
        for name, transformer, columns in features.transformers:
            if not isinstance(transformer, StandardScaler) or not isinstance(columns, list):
                continue
            for column in columns:
                if column not in X.columns or X[column].dtype.kind in "iufb":
                    continue
                values = pd.to_numeric(X[column], errors="coerce")
                bad = X[column][values.isna() & X[column].notna()]
                if len(bad):
                    raise TypeError(
                        f"Chain {method} ({name} columns): column {column!r} holds"
                        f" non-numeric values such as {bad.iloc[0]!r}; expected numbers"
                    )

    def score(self, X, y, sample_weight=None, **params):
        """R² of ``predict(X)``, as ``Pipeline.score`` with a regressor last.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        **params
            As in ``Pipeline.score``; any parameter selects ``Pipeline.score``.

        Returns
        -------
        float
        """
        if params or not hasattr(self._final_estimator, "input_blocks_"):
            return super().score(X, y, sample_weight=sample_weight, **params)
        return r2_score(y, self.predict(X), sample_weight=sample_weight)

CATEGORICAL_ENCODINGS = ("onehot", "hash")


def make_categorical_encoder(encoding="onehot", *, hash_features=64):
    """The encoder ``make_chain`` uses for ``categorical_encoding``.

    Parameters
    ----------
    encoding : {"onehot", "hash"}, default="onehot"
        ``"onehot"``: :class:`~sklearn.preprocessing.OneHotEncoder` with
        unknown levels ignored at predict time (all-zero row) and dense
        float32 output. ``"hash"``: :class:`HashingEncoder` with
        ``hash_features`` columns.
    hash_features : int, default=64
        Width of the hashed block.

    Returns
    -------
    transformer
    """
    if encoding == "onehot":
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
    if encoding == "hash":
        return HashingEncoder(n_features=hash_features)
    raise ValueError(
        f"make_chain: categorical_encoding={encoding!r} is not supported; expected"
        f" one of {list(CATEGORICAL_ENCODINGS)}"
    )


def make_chain(
    preprocessor,
    *,
    representation_columns=None,
    categorical_columns=(),
    numeric_columns=(),
    categorical_encoding="onehot",
    hash_features=64,
    regressor=None,
    fine_tune=None,
):
    """Build the chain: frozen network A and B's own columns, then a regressor.

    Parameters
    ----------
    preprocessor : KerasTransformer or FrozenTransformer
        Network A, fitted on dataset A. A ``KerasTransformer`` is wrapped in a
        :class:`FrozenTransformer`, so fitting the chain never retrains it.
    representation_columns : list of str or int, default=None
        Dataset B's columns that feed network A, in network A's input order.
        ``None`` uses the column names network A was fitted with.
    categorical_columns : list of str or int, default=()
        B's categorical columns.
    numeric_columns : list of str or int, default=()
        B's numeric columns, standardised.
    categorical_encoding : {"onehot", "hash"}, default="onehot"
        How categorical columns are encoded (see
        :func:`make_categorical_encoder`).
    hash_features : int, default=64
        Width of the hashed block when ``categorical_encoding="hash"``.
    regressor : estimator, default=None
        The final stage; ``None`` means ``ChainRegressor()``.
    fine_tune : FineTune, default=None
        ``None`` keeps network A frozen; a :class:`FineTune` fine-tunes a copy
        of it with the final loss after each fit (see :class:`Chain`).

    Returns
    -------
    Chain
        A :class:`sklearn.pipeline.Pipeline` subclass. Steps ``"features"``
        (a ``ColumnTransformer`` with the transformers
        ``"representation"``, ``"categorical"`` and ``"numeric"``, those with
        no columns left out, and pandas output so that the regressor sees the
        block of each column) and ``"regressor"``.

    Examples
    --------
    >>> from skchain import ChainRegressor, make_chain
    >>> chain = make_chain(pre, representation_columns=["px0", "px1"],
    ...                    categorical_columns=["store"], numeric_columns=["age"],
    ...                    regressor=ChainRegressor(epochs=5))  # doctest: +SKIP
    >>> chain.fit(df_b, y_b).predict(df_new)  # doctest: +SKIP
    """
    if isinstance(preprocessor, KerasTransformer):
        preprocessor = FrozenTransformer(preprocessor)
    if not isinstance(preprocessor, FrozenTransformer):
        raise TypeError(
            "make_chain: preprocessor must be a fitted KerasTransformer or a"
            f" FrozenTransformer; got {type(preprocessor).__name__}"
        )
    if representation_columns is None:
        names = getattr(preprocessor.estimator, "feature_names_in_", None)
        if names is None:
            raise ValueError(
                "make_chain: representation_columns is required when network A"
                " was fitted without column names; pass B's columns that feed"
                " network A, in network A's input order"
            )
        representation_columns = list(names)
    blocks = [("representation", preprocessor, list(representation_columns))]
    if len(categorical_columns):
        encoder = make_categorical_encoder(categorical_encoding, hash_features=hash_features)
        blocks.append(("categorical", encoder, list(categorical_columns)))
    if len(numeric_columns):
        blocks.append(("numeric", StandardScaler(), list(numeric_columns)))
    features = ColumnTransformer(
        blocks, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=True
    ).set_output(transform="pandas")
    return Chain(
        [("features", features), ("regressor", regressor if regressor is not None else ChainRegressor())],
        fine_tune=fine_tune,
    )
