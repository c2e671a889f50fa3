"""The whole chain as one scikit-learn ``Pipeline``: :class:`Chain` (built by :func:`skchain.make_chain`)."""

from __future__ import annotations

import weakref

import pandas as pd
from sklearn.base import is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline, _final_estimator_has
from sklearn.utils import check_array
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted

from ._blocks import ENCODING_OF_KIND, block_plan, check_block_columns, fitted_transformers, plan_state
from ._fused import FallBack, FusedPredictor, Unsupported
from ._network import BlockNetworkMixin, blocks_for_final_network
from ._validation import as_pandas, check_sample_weight_length
from ._weights import rows_of_positive_weight
from .encoders import MISSING
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
        stack.extend(fitted_transformers(current))
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
            X, y, params, sample_weight = rows_of_positive_weight(X, y, params, sample_weight)
        validation = self._validation_rows(X_val, y_val)
        saved = [(est, dict(est.__dict__)) for est in _estimators_in(self)]
        try:
            final = self._final_estimator
            if isinstance(final, BlockNetworkMixin) and isinstance(self.steps[0][1], ColumnTransformer):
                # Read by the final network's fit, after the features step is fitted:
                # its branches follow the block plan.
                final._blocks_from_chain = lambda: blocks_for_final_network(
                    block_plan(self.steps[0][1]), final.n_features_in_
                )
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
            self._final_estimator.__dict__.pop("_blocks_from_chain", None)
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
            state = (plan_state(features), getattr(regressor, "_fit_token", None))
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
        check_block_columns(self.steps[0][1], X, f"Chain {method}")

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
        regressor = self._final_estimator
        if not hasattr(regressor, "category_embeddings"):
            raise ValueError(
                "Chain.category_embeddings: the final stage is not a ChainRegressor"
            )
        tables = regressor.category_embeddings()
        out = {}
        for block in self._plan("category_embeddings"):
            if block.kind != "embedded":
                continue
            encoder = block.encoder
            for j, column in enumerate(block.columns):
                table = tables.get(f"{block.name}__{column}")
                if table is None:
                    continue
                labels = [MISSING, "<unknown>"] + _code_labels(encoder, j)
                labels += [f"<row {i}>" for i in range(len(labels), len(table))]
                out[column] = pd.DataFrame(
                    table, index=pd.Index(labels[: len(table)], name=column),
                    columns=[f"dim{d}" for d in range(table.shape[1])],
                )
        return out

    def _plan(self, method):
        """The block plan of the fitted features step (a named error without one)."""
        check_is_fitted(self)
        try:
            return block_plan(self.steps[0][1])
        except TypeError as exc:
            raise ValueError(f"Chain.{method}: {exc}; expected a chain built by make_chain") from None

    def to_keras(self):
        """The whole fitted chain as one ``keras.Model`` of the raw columns.

        One input per column of the features step (see
        :meth:`serving_inputs` for names, shapes and dtypes): network A's
        scaler and network A (the fine-tuned copy after fine-tuning), the
        numeric imputers and scalers, the categorical encoders as lookup
        layers with the fitted vocabularies, entity embeddings and the final
        network. It returns what ``predict`` returns for a regressor and
        what ``predict_proba`` returns for a classifier, equal to float32
        rounding. The model is an independent copy: training it changes
        nothing in the chain.

        Returns
        -------
        keras.Model

        Raises
        ------
        ValueError
            For a block with no served form (``"hash"`` columns, custom
            transformers), naming the block and what can be served.

        Examples
        --------
        >>> model = chain.to_keras()  # doctest: +SKIP
        >>> model(chain.serving_inputs(df_new))  # doctest: +SKIP

        Call the model: Keras' ``Model.predict`` does not take NumPy arrays
        of text (the categorical inputs).
        """
        from .serving import to_keras

        return to_keras(self)

    def export(self, path, format="tf_saved_model"):
        """Write the fitted chain as one servable model (see :meth:`to_keras`).

        Parameters
        ----------
        path : str or path-like
            A directory for ``"tf_saved_model"``, a file for ``"onnx"``.
        format : {"tf_saved_model", "onnx"}, default="tf_saved_model"
            ``"tf_saved_model"``: a TensorFlow SavedModel whose ``serve``
            endpoint (and ``serving_default`` signature) takes the dict of
            column tensors; it loads with ``tf.saved_model.load`` alone.
            ``"onnx"``: one ONNX file with the same named inputs, run by
            ``onnxruntime`` alone (needs ``pip install "skchain[serve]"``).

        Returns
        -------
        pathlib.Path
            Where it was written.
        """
        from .serving import export

        return export(self, path, format=format)

    def serving_inputs(self, X):
        """The served model's inputs for a DataFrame: ``{input name: ndarray}``.

        Network A's and numeric columns as float32 ``(n, 1)`` (NaN for a
        missing value where an imputer fills it), categorical columns as
        text ``(n, 1)``, spelled as :class:`~skchain.CategoricalLevels`
        spells levels, with ``"<missing>"`` for a missing value; sequence
        columns padded to ``(n, maxlen)`` float32. Input names are the
        column names with characters other than letters, digits, ``_``,
        ``.`` and ``-`` replaced by ``_``.

        Parameters
        ----------
        X : DataFrame (pandas, polars, ...)

        Returns
        -------
        dict of ndarray
        """
        from .serving import serving_inputs

        return serving_inputs(self, X)

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
    """``{column: encoding}`` of the categorical blocks of a fitted features step."""
    try:
        plan = block_plan(features)
    except TypeError:
        return {}
    return {
        column: ENCODING_OF_KIND[block.kind]
        for block in plan if block.kind in ENCODING_OF_KIND for column in block.columns
    }


def _code_labels(encoder, j):
    """Labels of column ``j``'s codes 0, 1, ... of a fitted ``OrdinalEncoder``."""
    categories = list(encoder.categories_[j])
    infrequent = getattr(encoder, "infrequent_categories_", [None] * (j + 1))[j]
    infrequent = set() if infrequent is None else {str(c) for c in infrequent}
    frequent = [c for c in categories if not pd.isna(c) and str(c) not in infrequent]
    return [str(c) for c in frequent] + (["<infrequent>"] if infrequent else [])
