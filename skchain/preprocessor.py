"""Network A as a scikit-learn transformer.

:class:`KerasTransformer` trains a Keras network on dataset A (with its own
head and loss) and then transforms rows into the activations of one of its
intermediate layers. The input scaler is fitted on A's training rows only and
travels with the fitted transformer (``scaler_``), so ``joblib.dump`` keeps the
two together.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
from scikeras.wrappers import BaseWrapper
from sklearn.base import TransformerMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted

from sklearn.callback import with_callbacks

from ._base import CompiledModelMixin, as_float32_target, check_fitted, standard_scaling
from ._callbacks import EpochCallbacksMixin
from ._early_stopping import EarlyStoppingMixin
from ._seeding import KeptRandomStateMixin
from ._target import fit_target_scaler, scaled_target, unscaled_outputs
from ._validation import (
    check_fit_arguments, check_sample_weight_length, check_training_params, validate_float32,
)
from .diagnostics import InputStatistics, check_shift, representation_statistics, shift_report
from .leakage import RowFingerprints, check_leakage, leakage_report

__all__ = ["KerasTransformer"]

_STAGE = "KerasTransformer (network A)"


def _never(_):
    return False


class KerasTransformer(TransformerMixin, EpochCallbacksMixin, KeptRandomStateMixin,
                       EarlyStoppingMixin, CompiledModelMixin, BaseWrapper):
    """Train a Keras network and use one of its layers as features.

    ``fit(X, y)`` fits the input scaler on ``X``, then trains the network built
    by ``model`` on the scaled rows with its own head and ``loss`` (scikeras
    does the building, compiling and parameter routing). ``transform(X)``
    returns the activations of ``output_layer`` for the scaled rows as float32,
    through a compiled direct call of the network rather than
    ``Model.predict``.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        Builds network A, as in scikeras: a function returning a (compiled or
        uncompiled) Keras model, which may accept ``meta``, ``compile_kwargs``
        and any routed ``model__*`` parameter; or a Keras model instance.
    output_layer : str, default=None
        Name of the layer whose activations ``transform`` returns. ``None``
        selects the layer before the last, i.e. the input of the head. The
        layer's output must be 2-D ``(n_samples, width)``.
    scaler : "standard", None or transformer, default="standard"
        Input scaler fitted on the training rows of dataset A only.
        ``"standard"`` is :class:`~sklearn.preprocessing.StandardScaler`;
        ``None`` feeds the network unscaled inputs; any scikit-learn
        transformer is cloned and fitted.
    target_scaler : "auto", "standard", None or transformer, default="auto"
        How dataset A's target is scaled for training network A (see
        :class:`ChainRegressor`'s parameter of the same name): ``"auto"``
        standardises the target per column, with A's training rows' mean and
        standard deviation, when ``loss`` is a regression loss (``"mse"``,
        ``"mae"``, Huber, log-cosh) or, with another loss, when the target is
        not whole numbers (scikit-learn's ``type_of_target``); class labels
        are left alone. :meth:`predict` inverts it; the
        representation does not depend on it beyond training.
    shift_check : {"warn", "raise", "off"}, default="warn"
        What ``transform`` does when its input is far from the training
        inputs (a :class:`~skchain.diagnostics.DataShiftWarning`, a
        ``ValueError``, or nothing). See :meth:`shift_report`.
    shift_alpha : float, default=0.01
        False-alarm rate of the shift check per batch: a batch drawn from
        dataset A's own distribution is reported at most this often (all
        features, both levels -- inputs and network A's outputs -- and all
        tests together). Smaller values report only stronger evidence.
    leakage_check : {"warn", "raise", "off"}, default="warn"
        What a chain's ``fit`` does when more rows of dataset B hold exactly
        the values of a row network A was trained on than chance explains (a
        :class:`~skchain.leakage.DataLeakageWarning`, a ``ValueError``, or
        nothing). See :mod:`skchain.leakage` and :meth:`leakage_report`.
    leakage_alpha : float, default=0.01
        False-alarm rate of the leakage test: a dataset B whose rows are new
        draws from dataset A's distribution is reported at most this often
        (one-sided Fisher exact test against A's own repeat rate).
    leakage_threshold : float, default=0.0
        Share of B's rows matched beyond chance that is tolerated even when
        the test rejects; the default reports any significant excess.
    early_stopping : bool, default=False
        Stop training network A when its loss on validation rows has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, keeping the best
        epoch's weights; the validation rows are drawn (shuffled, seeded by
        ``random_state``) from the rows passed to ``fit``.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before training stops.
    tol : float, default=1e-4
        The improvement of the validation loss that counts.
    optimizer, loss, metrics, epochs, batch_size, validation_split, \
callbacks, random_state, verbose, shuffle, warm_start, run_eagerly, \
validation_batch_size, build_fn
        As in :class:`scikeras.wrappers.BaseWrapper`. ``verbose`` defaults to
        0 here and ``optimizer`` to ``"adam"``.
    **kwargs
        Routed parameters (``model__*``, ``optimizer__*``, ``fit__*``, ...),
        as in scikeras.

    Attributes
    ----------
    model_ : keras.Model
        The trained network A.
    target_scaler_ : transformer or None
        The target scaler fitted on dataset A's target (None: not scaled).
    scaler_ : transformer or None
        The input scaler, fitted on dataset A's training rows.
    output_layer_ : str
        The name of the layer ``transform`` returns.
    n_features_in_ : int
        Number of input columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` had string column names.
    history_ : dict
        Loss and metrics per epoch of network A's training.
    n_iter_ : int
        Epochs run in the last ``fit``.
    best_epoch_, stopped_epoch_ : int
        With ``early_stopping``: the epoch whose weights were kept and the
        last epoch run (from 1).
    input_statistics_ : InputStatistics
        Per-feature summary of the training inputs for the shift check
        (distribution on a grid, moments, range: memory independent of the
        row count).
    representation_statistics_ : dict of str to InputStatistics
        The same summary of network A's outputs on its training rows, for
        each layer a transformer can output.
    training_fingerprints_ : RowFingerprints
        A 64-bit hash of each distinct training row: 8 bytes a row.

    See Also
    --------
    FrozenTransformer : Uses a fitted ``KerasTransformer`` inside a chain
        without ever retraining it.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from skchain import KerasTransformer
    >>> def build(meta):
    ...     inputs = keras.Input((meta["n_features_in_"],))
    ...     hidden = keras.layers.Dense(8, activation="relu", name="embedding")(inputs)
    ...     return keras.Model(inputs, keras.layers.Dense(1)(hidden))
    >>> X = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    >>> y = X.sum(axis=1)
    >>> pre = KerasTransformer(build, loss="mse", epochs=2, random_state=0).fit(X, y)
    >>> pre.transform(X).shape
    (64, 8)
    >>> pre.get_feature_names_out()[:2]
    array(['embedding0', 'embedding1'], dtype=object)
    """

    _STAGE = _STAGE
    _FIT_INSTEAD = {
        **dict.fromkeys(["validation_data", "X_val", "y_val"], "network A takes no validation"
                        " rows; set the constructor parameter validation_split= or early_stopping="),
        "class_weight": "set the constructor parameter fit__class_weight= (or pass sample_weight=)",
    }

    def __init__(
        self,
        model=None,
        *,
        output_layer: str | None = None,
        scaler="standard",
        target_scaler="auto",
        shift_check: str = "warn",
        shift_alpha: float = 0.01,
        leakage_check: str = "warn",
        leakage_alpha: float = 0.01,
        leakage_threshold: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        build_fn=None,
        warm_start=False,
        random_state=None,
        optimizer="adam",
        loss=None,
        metrics=None,
        batch_size=None,
        validation_batch_size=None,
        verbose=0,
        callbacks=None,
        validation_split=0.0,
        shuffle=True,
        run_eagerly=False,
        epochs=1,
        **kwargs,
    ):
        self.output_layer = output_layer
        self.scaler = scaler
        self.target_scaler = target_scaler
        self.shift_check = shift_check
        self.shift_alpha = shift_alpha
        self.leakage_check = leakage_check
        self.leakage_alpha = leakage_alpha
        self.leakage_threshold = leakage_threshold
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        super().__init__(
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            **kwargs,
        )

    # ------------------------------------------------------------------ fit
    @with_callbacks
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Fit the input scaler on ``X`` and train network A on ``(X, y)``.

        Callbacks set with ``set_callbacks`` (scikit-learn's callback API)
        see ``fit`` as a task and each epoch as a sub-task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dataset A's inputs. Cast to float32 once.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Dataset A's target, in the form network A's loss expects.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-row weights for network A's loss.
        **kwargs
            ``keras.Model.fit`` arguments for this call: ``callbacks`` (run
            with the constructor's), ``epochs``, ``batch_size``,
            ``validation_batch_size``, ``verbose``, ``shuffle``. Any other
            keyword is a ``TypeError`` that says which constructor parameter
            to set instead (``validation_data``, ``X_val``: ``validation_split``
            or ``early_stopping``; ``class_weight``: ``fit__class_weight``).

        Returns
        -------
        self : KerasTransformer
            The fitted transformer.
        """
        stage = f"{_STAGE} fit"
        kwargs = check_fit_arguments(self, kwargs, stage)
        self._check_diagnostic_params()
        check_training_params(self, _STAGE)
        X = validate_float32(self, X, reset=True, stage=stage)
        y = self._validate_target(X, y, stage)
        if sample_weight is not None:
            check_sample_weight_length(sample_weight, X, stage)
        names = getattr(self, "feature_names_in_", None)
        scaler = self._make_scaler()
        X_scaled = X if scaler is None else self._scale(scaler.fit(X), X)
        self.target_scaler_ = fit_target_scaler(self.target_scaler, y, sample_weight, stage,
                                                loss=self.loss)
        y_scaled = scaled_target(self.target_scaler_, y)
        self._clear_compiled()
        self._fit_with_callbacks(
            lambda: BaseWrapper.fit(self, X_scaled, y_scaled, sample_weight=sample_weight, **kwargs),
            X_scaled, y_scaled,
        )
        # scikeras records the width it was given; ours is the raw width.
        self.n_features_in_ = X.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        self.scaler_ = scaler
        self.output_layer_ = self._resolve_layer(self.output_layer).name
        self.input_statistics_ = InputStatistics(X)
        self.representation_statistics_ = representation_statistics(self, X)
        self.training_fingerprints_ = RowFingerprints(X)
        return self

    def _check_diagnostic_params(self):
        for name in ("shift_check", "leakage_check"):
            if getattr(self, name) not in ("warn", "raise", "off"):
                raise ValueError(
                    f"{_STAGE}: {name}={getattr(self, name)!r}; expected 'warn',"
                    " 'raise' or 'off'"
                )
        for name in ("shift_alpha", "leakage_alpha"):
            alpha = getattr(self, name)
            if (isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating))
                    or not 0 < alpha < 1):
                raise ValueError(f"{_STAGE}: {name}={alpha!r}; expected a float in (0, 1)")

    def _input_names(self):
        names = getattr(self, "feature_names_in_", None)
        return None if names is None else [str(n) for n in names]

    def check_shift(self, X, stage=_STAGE, feature_names=None, outputs=None, layer=None):
        """Apply ``shift_check`` to validated raw rows (used by ``transform``).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_in_), float32
        stage : str
            The stage to name in the warning.
        feature_names : list of str, default=None
            Names to quote; default: the names seen in ``fit``, else ``x<i>``.
        outputs : ndarray of shape (n_samples, width), default=None
            Network A's outputs for ``X`` at ``layer``: tested too against
            its outputs on the training rows, when those were recorded.
        layer : str, default=None
            The layer ``outputs`` come from.
        """
        check_shift(
            getattr(self, "input_statistics_", None), X, mode=self.shift_check,
            alpha=self.shift_alpha,
            feature_names=feature_names or self._input_names(), stage=stage,
            outputs=outputs, layer=layer,
            output_statistics=getattr(self, "representation_statistics_", {}).get(layer),
        )

    def check_leakage(self, X, stage=_STAGE):
        """Apply ``leakage_check`` to validated raw rows (used by a chain's ``fit``).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_in_), float32
        stage : str
            The stage to name in the warning.
        """
        check_leakage(
            getattr(self, "training_fingerprints_", None), X, mode=self.leakage_check,
            alpha=self.leakage_alpha, threshold=self.leakage_threshold, stage=stage,
        )

    def leakage_report(self, X):
        """The rows of ``X`` that hold exactly the values of a row network A was trained on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Rows with network A's input columns.

        Returns
        -------
        pandas.DataFrame
            ``row`` (position in ``X``, from 0) and ``rows_of_a`` (how many of
            A's training rows hold those values), one line per matching row;
            ``attrs["test"]`` holds :func:`skchain.leakage.leakage_test`'s
            result (matched, expected by chance, p-value).

        Raises
        ------
        ValueError
            When no training rows were recorded (``from_model`` without
            ``training_rows``), or ``X`` has the wrong columns.
        """
        X, fingerprints = self._against_dataset_a(
            X, "leakage_report", "training_fingerprints_", "no training rows recorded")
        return leakage_report(fingerprints, X)

    def _against_dataset_a(self, X, method, summary, missing):
        """``X`` validated for ``method``, and the fitted summary of dataset A it is compared with."""
        check_fitted(self, _STAGE)
        X = validate_float32(self, X, reset=False, stage=f"{_STAGE} {method}")
        found = getattr(self, summary, None)
        if found is None:
            raise ValueError(
                f"{_STAGE}: {missing}; wrap the network with"
                " from_model(..., training_rows=X_a) to compare with dataset A"
            )
        return X, found

    def shift_report(self, X, feature_names=None, output_layer=None):
        """Drift tests of ``X`` against network A's training data, per feature, worst first.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        feature_names : list of str, default=None
            Names for the report; default: the names seen in ``fit``, else
            ``x<i>``.
        output_layer : str, default=None
            Layer whose outputs are tested too; ``None`` means
            ``self.output_layer``'s choice.

        Returns
        -------
        pandas.DataFrame
            One row per input feature and per output of the layer, worst
            first: ``level``, ``feature``, ``test``, ``statistic``,
            ``p_value``, ``adjusted_p`` (the batch is reported when one is at
            most ``shift_alpha``), ``mean_shift``, ``scale_ratio``,
            ``out_of_range`` (see :func:`skchain.diagnostics.shift_report`).
        """
        X, statistics = self._against_dataset_a(
            X, "shift_report", "input_statistics_", "no training statistics")
        names = feature_names or self._input_names() or [f"x{i}" for i in range(X.shape[1])]
        layer = self._resolve_layer(self.output_layer if output_layer is None else output_layer).name
        output_statistics = getattr(self, "representation_statistics_", {}).get(layer)
        outputs = None if output_statistics is None else self.representation(X, layer)
        return shift_report(statistics, X, names, outputs=outputs,
                            output_statistics=output_statistics, layer=layer)

    def _validate_target(self, X, y, stage):
        if y is None:
            raise ValueError(
                f"{stage}: requires y to be passed, but the target y is None;"
                " network A is trained with its own head and loss on (X_a, y_a)"
            )
        try:
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            check_consistent_length(X, y)
        except ValueError as exc:
            raise ValueError(f"{stage}: {exc}") from exc
        if y.dtype.kind not in "fiub":
            try:
                y = y.astype(np.float32)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{stage}: Unknown label type: y has dtype {y.dtype}; network A"
                    " trains on numbers (encode class labels as integers first)"
                ) from None
        return as_float32_target(y)

    def _make_scaler(self):
        if self.scaler is None:
            return None
        if isinstance(self.scaler, str):
            if self.scaler == "standard":
                return StandardScaler()
            raise ValueError(
                f"{_STAGE}: scaler={self.scaler!r} is not supported; expected"
                " 'standard', None or a scikit-learn transformer"
            )
        if not hasattr(self.scaler, "fit") or not hasattr(self.scaler, "transform"):
            raise TypeError(
                f"{_STAGE}: scaler must be 'standard', None or a scikit-learn"
                f" transformer; got {type(self.scaler).__name__}"
            )
        return clone(self.scaler)

    @staticmethod
    def _scale(scaler, X):
        names = getattr(scaler, "feature_names_in_", None)
        if names is not None and not hasattr(X, "columns"):
            # A scaler fitted on a DataFrame (from_model): give it the names it knows.
            X = pd.DataFrame(X, columns=names, copy=False)
        return np.asarray(scaler.transform(X), dtype=np.float32)

    def scaled_inputs(self, X):
        """Rows as network A's first layer sees them: its input scaler applied, float32.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_in_), dtype float32
            Raw rows, validated, in network A's input order.

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_), dtype float32
        """
        check_fitted(self, _STAGE)
        return np.asarray(X, np.float32) if self.scaler_ is None else self._scale(self.scaler_, X)

    def _build_keras_model(self):
        # Check the layer choice as soon as network A exists, before training.
        model = super()._build_keras_model()
        self._resolve_layer(self.output_layer, model)
        return model

    def _resolve_layer(self, name, model=None):
        """Return the Keras layer called ``name`` (or the default layer)."""
        model = self.model_ if model is None else model
        if len(model.inputs) != 1:
            raise ValueError(
                f"{_STAGE}: network A has {len(model.inputs)} inputs; expected"
                " exactly one input tensor"
            )
        layers = [
            layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)
        ]
        if name is None:
            if len(layers) < 2:
                raise ValueError(
                    f"{_STAGE}: network A has {len(layers)} layer(s); the default"
                    " output_layer (the layer before the last) needs at least two."
                    " Name one with output_layer=."
                )
            layer = layers[-2]
        else:
            try:
                layer = model.get_layer(name)
            except ValueError:
                raise ValueError(
                    f"{_STAGE}: output_layer={name!r} is not a layer of network A;"
                    f" its layers are {[layer.name for layer in layers]}"
                ) from None
        if len(layer.output.shape) != 2:
            raise ValueError(
                f"{_STAGE}: output_layer={layer.name!r} outputs shape"
                f" {tuple(layer.output.shape)}; expected a 2-D output"
                " (n_samples, width); pick a later layer or add a Flatten or"
                " pooling layer"
            )
        return layer

    # ------------------------------------------------------------ transform
    def transform(self, X):
        """Activations of ``output_layer`` for the scaled rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the same kind as dataset A's inputs.

        Returns
        -------
        ndarray of shape (n_samples, width), dtype float32
        """
        check_fitted(self, _STAGE)
        stage = f"{_STAGE} transform"
        X = validate_float32(self, X, reset=False, stage=stage)
        layer = self._resolve_layer(self.output_layer).name
        out = self.representation(X, layer)
        self.check_shift(X, stage, outputs=out, layer=layer)
        return out

    def representation(self, X, output_layer=None):
        """Activations of ``output_layer`` for already validated float32 rows.

        This is the fast path used by :class:`FrozenTransformer`: it skips
        the feature-name bookkeeping of ``transform`` and can read any layer
        without changing this estimator's parameters.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_in_), dtype float32
            Raw (unscaled) rows.
        output_layer : str, default=None
            Layer name; ``None`` means ``self.output_layer``'s choice.

        Returns
        -------
        ndarray of shape (n_samples, width), dtype float32
        """
        layer = self._resolve_layer(
            self.output_layer if output_layer is None else output_layer
        )
        X, folded = self._scaled_or_folded(X)
        forward = self._forward(("layer", layer.name), lambda: self.layer_model(layer), **folded)
        return forward([X])

    def layer_model(self, layer):
        """Network A from its input to ``layer`` (a Keras layer of ``model_``), as a Keras model."""
        return keras.Model(self.model_.inputs[0], layer.output)

    def folded_scaling(self):
        """The input scaler as constants a compiled call can fold in.

        Returns
        -------
        dict or None
            ``{"input_shift": ..., "input_scale": ...}`` (float32) for a
            :class:`~sklearn.preprocessing.StandardScaler`, ``{}`` without a
            scaler, ``None`` for another scaler (it must run as it is).
        """
        scaler = self.scaler_
        if scaler is None:
            return {}
        if type(scaler) is StandardScaler:
            shift, scale = standard_scaling(scaler, self.n_features_in_)
            return {"input_shift": shift, "input_scale": scale}
        return None

    def _scaled_or_folded(self, X):
        """Apply the input scaler, or return it as constants for the compiled call.

        A :class:`~sklearn.preprocessing.StandardScaler` is folded into the
        compiled function (one pass over the data instead of two); any other
        scaler runs as it is.
        """
        folded = self.folded_scaling()
        if folded is None:
            return self._scale(self.scaler_, X), {}
        return X, folded

    def representation_width(self, output_layer=None):
        """Number of columns ``representation`` returns for ``output_layer``."""
        check_fitted(self, _STAGE)
        layer = self._resolve_layer(
            self.output_layer if output_layer is None else output_layer
        )
        return int(layer.output.shape[-1])

    def get_feature_names_out(self, input_features=None, output_layer=None):
        """Names of the output columns: the layer name and a running index.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored; present for API consistency.
        output_layer : str, default=None
            Layer to name; ``None`` means ``self.output_layer``'s choice.

        Returns
        -------
        ndarray of str objects
            ``["<layer>0", "<layer>1", ...]``.
        """
        check_fitted(self, _STAGE)
        layer = self._resolve_layer(
            self.output_layer if output_layer is None else output_layer
        )
        width = int(layer.output.shape[-1])
        return np.asarray([f"{layer.name}{i}" for i in range(width)], dtype=object)

    def predict(self, X):
        """Network A's own head output for ``X`` (e.g. to check it on A's test set).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray, dtype float32
            Shape ``(n_samples,)`` when network A was trained on a 1-D target
            and has one output unit, else ``(n_samples, n_outputs)``; in the
            target's own units (``target_scaler_`` inverted).
        """
        check_fitted(self, _STAGE)
        X = validate_float32(self, X, reset=False, stage=f"{_STAGE} predict")
        X, folded = self._scaled_or_folded(X)
        out = self._forward(("head",), lambda: self.model_, **folded)([X])
        out = unscaled_outputs(getattr(self, "target_scaler_", None), out)
        if out.ndim == 2 and out.shape[1] == 1 and getattr(self, "y_ndim_", 1) == 1:
            out = out[:, 0]
        return out

    # scikeras methods that would bypass the input scaler, or that have no
    # meaning without knowing network A's task, are not offered.
    @available_if(_never)
    def partial_fit(self, X, y, sample_weight=None, **kwargs):  # pragma: no cover
        """Not available: it would train network A without its scaler."""

    @available_if(_never)
    def initialize(self, X, y=None):  # pragma: no cover
        """Not available: use :meth:`from_model` to wrap a trained network."""

    @available_if(_never)
    def score(self, X, y, sample_weight=None):  # pragma: no cover
        """Not available: network A's task (and so its score) is the user's."""

    # ------------------------------------------------------------ from_model
    @classmethod
    def from_model(cls, model, *, output_layer=None, scaler=None, training_rows=None, **kwargs):
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
        """
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"{_STAGE}: from_model expects a keras.Model; got {type(model).__name__}"
            )
        if not model.built or not model.inputs:
            raise ValueError(
                f"{_STAGE}: from_model needs a built network with a known input"
                " shape (call it once or give it a keras.Input)"
            )
        width = model.inputs[0].shape[-1]
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
        est.output_layer_ = est._resolve_layer(output_layer).name
        if training_rows is not None:
            rows = validate_float32(
                est, training_rows, reset=False, stage=f"{_STAGE} from_model training_rows"
            )
            est.input_statistics_ = InputStatistics(rows)
            est.representation_statistics_ = representation_statistics(est, rows)
            est.training_fingerprints_ = RowFingerprints(rows)
        return est

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags
