"""The whole chain as one scikit-learn ``Pipeline``: :class:`Chain` (built by :func:`skchain.make_chain`)."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline, _final_estimator_has
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
from sklearn.utils import check_array
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted

from ._fused import FallBack, FusedPredictor, Unsupported
from ._validation import as_pandas, check_sample_weight_length
from .encoders import MISSING, EncodingColumns
from .finetune import FineTune, fine_tune_chain

__all__ = ["Chain"]

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
    """A ``Pipeline`` of a features step and a final regressor or classifier, made for chains.

    It is a :class:`sklearn.pipeline.Pipeline` in every respect (parameters,
    ``clone``, ``set_params``, ``named_steps``, the HTML diagram, joblib) and
    adds three things:

    * ``predict``, ``predict_proba`` and ``score`` run the fitted chain as one compiled graph
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
    categorical_encodings_ : dict
        ``{column: "onehot" | "hash" | "embed"}``: the encoding each
        categorical column got in ``fit`` (with ``"auto"``, the choice made
        from the training rows).
    fine_tuned_ : dict
        After a fit with ``fine_tune``: ``rows``, ``epochs``, ``layers``
        (those trained), ``output_layer`` and the joint training's
        ``history``.

    See Also
    --------
    make_chain : Builds a ``Chain`` from column lists.

    Examples
    --------
    >>> from sklearn.compose import ColumnTransformer
    >>> from skchain import Chain, ChainRegressor, FrozenTransformer
    >>> chain = Chain([
    ...     ("features", ColumnTransformer(
    ...         [("representation", FrozenTransformer(pre), pixel_columns)]
    ...     ).set_output(transform="pandas")),
    ...     ("regressor", ChainRegressor(epochs=20)),
    ... ])  # doctest: +SKIP
    >>> chain.fit(df_b, y_b).predict(df_new)  # doctest: +SKIP
    """

    def __init__(self, steps: list, *, fine_tune: FineTune | None = None, transform_input=None,
                 memory=None, verbose: bool = False) -> None:
        self.fine_tune = fine_tune
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)

    def fit(self, X, y=None, *, X_val=None, y_val=None, **params):
        """Fit every step, as ``Pipeline.fit``, or change nothing if a step fails.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        X_val, y_val : DataFrame and array-like, default=None
            Validation rows: once the features step is fitted, ``X_val`` goes
            through it and the final network gets ``(features, y_val)`` as
            validation data (``history_["val_loss"]``, watched by
            ``early_stopping``; the joint phase of ``FineTune`` watches them
            too). They are never trained on. Not routed metadata: they work
            the same with or without metadata routing.
        **params
            As in ``Pipeline.fit``.

        Returns
        -------
        self : Chain
        """
        X = as_pandas(X, "Chain fit")
        self._check_target(X, y)
        self._check_numeric_columns(X, "fit")
        sample_weight = self._final_fit_params(params).get("sample_weight")
        if sample_weight is not None:
            check_sample_weight_length(sample_weight, X, "Chain fit (before any step is fitted)")
        validation = self._validation_rows(X_val, y_val)
        saved = [(est, dict(est.__dict__)) for est in _estimators_in(self)]
        try:
            if validation is not None:
                # Read by the final network's fit, after the features step is fitted.
                self._final_estimator._validation_from_chain = lambda: (
                    self[:-1].transform(validation[0]), validation[1]
                )
            super().fit(X, y, **params)
            self.categorical_encodings_ = _encodings_of(self.steps[0][1])
            self.__dict__.pop("fine_tuned_", None)
            if self.fine_tune is not None:
                self.fine_tuned_ = fine_tune_chain(
                    self.steps[0][1], self._final_estimator, self.fine_tune, X, y,
                    sample_weight=sample_weight, validation=validation,
                )
        except BaseException:
            self._final_estimator.__dict__.pop("_validation_from_chain", None)
            for est, state in saved:
                est.__dict__.clear()
                est.__dict__.update(state)
            raise
        _fused_predictors.pop(self, None)
        return self

    def _validation_rows(self, X_val, y_val):
        if X_val is None and y_val is None:
            return None
        stage = "Chain fit (validation rows)"
        if X_val is None or y_val is None:
            raise ValueError(f"{stage}: pass both X_val and y_val, or neither")
        if not hasattr(self._final_estimator, "_fit_network"):
            raise ValueError(
                f"{stage}: X_val and y_val need a ChainRegressor or ChainClassifier as the"
                f" final step; got {type(self._final_estimator).__name__}"
            )
        X_val = as_pandas(X_val, stage)
        self._check_target(X_val, y_val)
        self._check_numeric_columns(X_val, "fit (X_val)")
        return X_val, y_val

    def _final_fit_params(self, params):
        """The ``fit`` parameters the final step receives (routed or ``<step>__`` ones)."""
        if self._final_estimator == "passthrough":
            return {}
        return dict(self._check_method_params(method="fit", props=params)[self.steps[-1][0]].fit)

    def _check_target(self, X, y):
        final = self._final_estimator
        if final == "passthrough" or y is None:
            return
        try:
            numeric = None if is_classifier(final) else "numeric"
            y = check_array(y, ensure_2d=False, dtype=numeric, input_name="y")
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

    def _fused_outputs(self, X, params):
        """The final network's raw outputs through the compiled graph; None: go step by step."""
        predictor = None if params or not isinstance(X, pd.DataFrame) else self._fused()
        if predictor is None:
            return None
        try:
            return predictor.outputs(X)
        except FallBack:
            return None

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
        X = as_pandas(X, "Chain predict")
        outputs = self._fused_outputs(X, params)
        if outputs is not None:
            return self._final_estimator._outputs_to_predictions(outputs)
        self._check_numeric_columns(X, "predict")
        return super().predict(X, **params)

    @available_if(_final_estimator_has("predict_proba"))
    def predict_proba(self, X, **params):
        """Class probabilities with the fitted chain (one compiled graph when possible).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        **params
            As in ``Pipeline.predict_proba``; any parameter selects the
            step-by-step path.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), dtype float32
            Columns in ``classes_`` order.
        """
        X = as_pandas(X, "Chain predict_proba")
        outputs = self._fused_outputs(X, params)
        if outputs is not None:
            return self._final_estimator._outputs_to_proba(outputs)
        self._check_numeric_columns(X, "predict_proba")
        return super().predict_proba(X, **params)

    def _check_numeric_columns(self, X, method):
        """Name the block and the column when a column is missing, or a numeric one holds
        text, infinity, or missing values without an imputer."""
        features = self.steps[0][1]
        if not hasattr(X, "dtypes") or not isinstance(features, ColumnTransformer):
            return
        for name, transformer, columns in features.transformers:
            if isinstance(columns, EncodingColumns):
                columns = [*columns.columns, *columns.auto_columns]
            if not isinstance(columns, list):
                continue
            missing = [c for c in columns if c not in X.columns]
            if missing:
                raise ValueError(
                    f"Chain {method} (features step, {name!r} block): column(s) {missing}"
                    f" missing from X; this block reads the columns {columns}"
                )
            scaler_only = isinstance(transformer, StandardScaler)
            imputed = isinstance(transformer, Pipeline) and isinstance(
                transformer.steps[-1][1], StandardScaler
            )
            if not (scaler_only or imputed):
                continue
            for column in columns:
                values = X[column]
                if values.dtype.kind not in "iufb":
                    values = pd.to_numeric(X[column], errors="coerce")
                    bad = X[column][values.isna() & X[column].notna()]
                    if len(bad):
                        raise TypeError(
                            f"Chain {method} ({name} columns): column {column!r} holds"
                            f" non-numeric values such as {bad.iloc[0]!r}; expected numbers"
                        )
                if values.dtype.kind == "f" and np.isinf(values.to_numpy()).any():
                    raise ValueError(
                        f"Chain {method} ({name} columns): column {column!r} holds"
                        f" {int(np.isinf(values.to_numpy()).sum())} infinite value(s);"
                        " expected finite numbers"
                    )
                if scaler_only and values.isna().any():
                    raise ValueError(
                        f"Chain {method} ({name} columns): column {column!r} has"
                        f" {int(values.isna().sum())} missing value(s); expected numbers."
                        " Pass numeric_imputer= to make_chain (e.g. 'median') to fill them"
                    )

    def category_embeddings(self) -> dict[str, pd.DataFrame]:
        """The learned entity embedding of each ``"embed"`` column, with level labels.

        Returns
        -------
        dict of pandas.DataFrame
            ``{column: frame}``; each frame has one row per level, indexed by
            the level (``"<missing>"``, ``"<unknown>"`` for a level not seen
            in ``fit``, ``"<infrequent>"`` for grouped rare levels, then the
            levels), and one column per embedding dimension.

        Examples
        --------
        >>> chain.category_embeddings()["city"].loc[["Oslo", "Rome"]]  # doctest: +SKIP
        """
        check_is_fitted(self)
        features, regressor = self.steps[0][1], self._final_estimator
        if not hasattr(regressor, "category_embeddings"):
            raise ValueError(
                "Chain.category_embeddings: the final stage is not a ChainRegressor"
            )
        tables = regressor.category_embeddings()
        out = {}
        for name, transformer, columns in getattr(features, "transformers_", []):
            if not isinstance(transformer, Pipeline) or not len(columns):
                continue
            encoder = transformer.steps[-1][1]
            if not isinstance(encoder, OrdinalEncoder):
                continue
            for j, column in enumerate(columns):
                table = tables.get(f"{name}__{column}")
                if table is None:
                    continue
                labels = [MISSING, "<unknown>"] + _code_labels(encoder, j)
                labels += [f"<row {i}>" for i in range(len(labels), len(table))]
                out[column] = pd.DataFrame(
                    table, index=pd.Index(labels[: len(table)], name=column),
                    columns=[f"dim{d}" for d in range(table.shape[1])],
                )
        return out

    def score(self, X, y, sample_weight=None, **params):
        """R² (regressor last) or accuracy (classifier last) of ``predict(X)``, as ``Pipeline.score``.

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
        X = as_pandas(X, "Chain score")
        if params or not hasattr(self._final_estimator, "input_blocks_"):
            return super().score(X, y, sample_weight=sample_weight, **params)
        metric = accuracy_score if is_classifier(self) else r2_score
        return metric(y, self.predict(X), sample_weight=sample_weight)

ENCODER_NAMES = {"onehot": "onehot", "hash": "hashed", "embed": "embedded"}


def _encodings_of(features):
    """``{column: encoding}`` from a fitted ``ColumnTransformer`` built by ``make_chain``."""
    by_name = {name: encoding for encoding, name in ENCODER_NAMES.items()}
    found = {}
    for name, _, columns in getattr(features, "transformers_", []):
        if name in by_name:
            found.update({column: by_name[name] for column in columns})
    return found


def _code_labels(encoder, j):
    """Labels of column ``j``'s codes 0, 1, ... of a fitted ``OrdinalEncoder``."""
    categories = list(encoder.categories_[j])
    infrequent = getattr(encoder, "infrequent_categories_", [None] * (j + 1))[j]
    infrequent = set() if infrequent is None else {str(c) for c in infrequent}
    frequent = [c for c in categories if not pd.isna(c) and str(c) not in infrequent]
    return [str(c) for c in frequent] + (["<infrequent>"] if infrequent else [])
