"""The whole chain as one scikit-learn ``Pipeline``: :class:`Chain`.

Built by :func:`skchain.make_chain`.
"""

from __future__ import annotations

import weakref
from functools import partial
from typing import TYPE_CHECKING, Any, Self

import pandas as pd
from sklearn.base import _fit_context, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline, _final_estimator_has
from sklearn.utils._user_interface import _print_elapsed_time
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import check_is_fitted

from ._features_cache import features_cache, fit_or_reuse, share_features_cache
from ._fused import FallBack, FusedPredictor, forget_predictor, predictor_for
from ._network import BlockNetworkMixin
from ._restore import restore, snapshot
from ._sklearn_decorators import available_if
from ._validation import as_pandas, check_sample_weight_length, check_target
from ._validation_data import validation_rows
from ._weights import rows_of_positive_weight
from .blocks import Layout, check_numeric_columns, plan_state
from .finetune import FineTune, fine_tune_chain
from .serving import ServedChainMixin

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike

__all__ = ["Chain"]

# The layout of each fitted chain's features step, made once per fit (and
# again when the fitted features step changes).
_layouts: weakref.WeakKeyDictionary[Chain, Layout] = weakref.WeakKeyDictionary()


class Chain(ServedChainMixin, Pipeline):
    """A ``Pipeline`` of a features step and a final regressor or classifier, made for chains.

    It is a :class:`sklearn.pipeline.Pipeline` in every respect (parameters,
    ``clone``, ``set_params``, ``named_steps``, the HTML diagram, joblib) and
    adds:

    * ``predict``, ``predict_proba`` and ``score`` run the fitted chain as one compiled graph
      (network A's scaler, network A, the numeric scalers and the final
      network; other encoders are called as they are), with the same results
      as the step-by-step path to float32 rounding. Inputs the graph does not
      handle (for example with missing values) take the step-by-step path,
      which also gives the named error messages.
    * ``fit`` checks the target before any step is fitted, and a ``fit`` that
      fails in any step leaves an already fitted chain exactly as it was.
    * A search runs network A over each block of rows once (the frozen
      step's cache, which predictions fill too) and fits the features step
      once per split: a chain and its clones keep the fitted features step by
      its parameters and rows (``skchain._features_cache``; not with ``memory``).

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

    def __init__(
        self,
        steps: list,
        *,
        fine_tune: FineTune | None = None,
        transform_input: list[str] | None = None,
        memory: Any = None,
        verbose: bool = False,
    ) -> None:
        self.fine_tune = fine_tune
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,
        *,
        X_val: ArrayLike | None = None,
        y_val: ArrayLike | None = None,
        **params: Any,
    ) -> Self:
        """Fit every step, as ``Pipeline.fit``, or change nothing if a step fails.

        The fitted features step's :class:`~skchain.blocks.Layout` is made
        once and handed to the final network's ``fit`` (``layout=``) and to
        fine-tuning.

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
        check_target(self._final_estimator, X, y)
        check_numeric_columns(self.steps[0][1], X, "Chain fit")
        sample_weight = self._final_fit_params(params).get("sample_weight")
        if sample_weight is not None:
            check_sample_weight_length(sample_weight, X, "Chain fit (before any step is fitted)")
            X, y, params, sample_weight = rows_of_positive_weight(X, y, params, sample_weight)
        validation = validation_rows(self._final_estimator, self.steps[0][1], X_val, y_val)
        saved = snapshot(self)
        try:
            layout = self._fit_steps(X, y, validation, params)
            self.categorical_encodings_ = layout.encodings() if layout is not None else {}
            self.__dict__.pop("fine_tuned_", None)
            if self.fine_tune is not None:
                assert y is not None  # the final stage was just fitted on y
                self.fine_tuned_ = fine_tune_chain(
                    self.steps[0][1],
                    self._final_estimator,
                    self.fine_tune,
                    X,
                    y,
                    sample_weight=sample_weight,
                    validation=validation,
                    layout=layout,
                )
        except BaseException:
            restore(saved)
            raise
        forget_predictor(self)
        return self

    @_fit_context(prefer_skip_nested_validation=False)  # as Pipeline.fit
    def _fit_steps(
        self,
        X: pd.DataFrame,
        y: Any,
        validation: tuple[pd.DataFrame, Any] | None,
        params: dict[str, Any],
    ) -> Layout | None:
        """``Pipeline.fit``, handing the final network the features step's layout and the
        validation rows through the features step; returns the layout (None without one)."""
        callback_ctx = self._init_callback_context(max_subtasks=len(self.steps))
        callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
        if not _routing_enabled() and self.transform_input is not None:
            raise ValueError(
                "The `transform_input` parameter can only be set if metadata routing is"
                " enabled. You can enable metadata routing using"
                " `sklearn.set_config(enable_metadata_routing=True)`."
            )
        routed_params = self._check_method_params(method="fit", props=params)
        fit = partial(self._fit, X, y, routed_params, raw_params=params, callback_ctx=callback_ctx)
        name, features = self.steps[0]
        step_params = self._get_metadata_for_step(
            step_idx=0, step_params=routed_params[name], all_params=params
        )
        plain = len(self.steps) == 2 and self.memory is None and self.transform_input is None
        plain = plain and not self.verbose
        plain = (
            plain and not getattr(self, "_skl_callbacks", None) and not any(step_params.values())
        )
        # A search's candidates fit the same features step on each split's rows: fitted once.
        Xt = fit_or_reuse(features_cache(self), features, X, y, fit) if plain else fit()
        layout = self._fitted_layout()
        final = self._final_estimator
        with _print_elapsed_time("Pipeline", self._log_message(len(self.steps) - 1)):
            subcontext = callback_ctx.subcontext(task_name="fit-final-estimator")
            if final != "passthrough":
                with subcontext.propagate_callback_context(final):
                    subcontext.call_on_fit_task_begin(estimator=self, X=Xt, y=y)
                    fit_params = dict(
                        self._get_metadata_for_step(
                            step_idx=len(self) - 1,
                            step_params=routed_params[self.steps[-1][0]],
                            all_params=params,
                        )["fit"]
                    )
                    if isinstance(final, BlockNetworkMixin):
                        fit_params["layout"] = layout
                    if validation is not None:
                        fit_params.update(
                            X_val=self[:-1].transform(validation[0]), y_val=validation[1]
                        )
                    final.fit(Xt, y, **fit_params)
                    subcontext.call_on_fit_task_end(estimator=self, X=Xt, y=y)
            else:
                subcontext.call_on_fit_task_begin(estimator=self, X=Xt, y=y)
                subcontext.call_on_fit_task_end(estimator=self, X=Xt, y=y)
        callback_ctx.call_on_fit_task_end(estimator=self, X=Xt, y=y)
        return layout

    def __sklearn_clone__(self) -> Self:
        # Clones share the fitted features steps kept by their parameters and rows.
        clone = super().__sklearn_clone__()
        share_features_cache(clone, self)
        return clone

    def _fitted_layout(self) -> Layout | None:
        """The layout of the just fitted features step, made here once; None without one."""
        _layouts.pop(self, None)
        features = self.steps[0][1]
        if not isinstance(features, ColumnTransformer):
            return None
        try:
            layout = Layout.of(features)
        except (TypeError, ValueError):  # no layout (passthrough, positional columns...)
            return None
        _layouts[self] = layout
        return layout

    def features_layout(self) -> Layout:
        """The :class:`~skchain.blocks.Layout` of the fitted features step.

        Made once per ``fit`` (again only when the fitted features step
        changed since); the compiled predict and the export read it.

        Returns
        -------
        Layout

        Raises
        ------
        TypeError
            When the features step is not a fitted ``ColumnTransformer`` of
            named columns (as ``make_chain`` builds it).
        """
        check_is_fitted(self)
        features = self.steps[0][1]
        layout = _layouts.get(self)
        if layout is None or layout.state != plan_state(features):
            layout = Layout.of(features)
            _layouts[self] = layout
        return layout

    def _final_fit_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The ``fit`` parameters the final step receives (routed or ``<step>__`` ones)."""
        if self._final_estimator == "passthrough":
            return {}
        return dict(self._check_method_params(method="fit", props=params)[self.steps[-1][0]].fit)

    def _fused(self) -> FusedPredictor | None:
        """The fused predictor for the current fitted state, or None."""
        return predictor_for(self, self.steps, self.features_layout)

    def _fused_outputs(self, X: Any, params: dict[str, Any]) -> np.ndarray | None:
        """The final network's raw outputs through the compiled graph; None: go step by step."""
        predictor = None if params or not isinstance(X, pd.DataFrame) else self._fused()
        if predictor is None:
            return None
        try:
            return predictor.outputs(X)
        except FallBack:
            return None

    def predict(self, X: ArrayLike, **params: Any) -> np.ndarray:
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
            return self._final_estimator.outputs_to_predictions(outputs)
        check_numeric_columns(self.steps[0][1], X, "Chain predict")
        return super().predict(X, **params)

    @available_if(_final_estimator_has("predict_proba"))
    def predict_proba(self, X: ArrayLike, **params: Any) -> np.ndarray:
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
            return self._final_estimator.outputs_to_proba(outputs)
        check_numeric_columns(self.steps[0][1], X, "Chain predict_proba")
        return super().predict_proba(X, **params)

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
            raise ValueError("Chain.category_embeddings: the final stage is not a ChainRegressor")
        tables = regressor.category_embeddings()
        out: dict[str, pd.DataFrame] = {}
        try:
            layout = self.features_layout()
        except TypeError as exc:
            raise ValueError(
                f"Chain.category_embeddings: {exc}; expected a chain built by make_chain"
            ) from None
        for block in layout:
            out.update(block.embedding_tables(tables))
        return out

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, **params: Any
    ) -> float:
        """R² (regressor last) or accuracy (classifier last) of ``predict(X)``.

        As ``Pipeline.score``.

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
