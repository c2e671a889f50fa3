"""Network A as a scikit-learn transformer.

:class:`KerasTransformer` trains a Keras network on dataset A (with its own
head and loss) and then transforms rows into the activations of one of its
intermediate layers. The input scaler is fitted on A's training rows only and
travels with the fitted transformer (``scaler_``), so ``joblib.dump`` keeps the
two together.

The class is composed of one mixin per concern, each in its own module:
training (``_network_a_training``), layer outputs (``_network_a_outputs``),
the checks against dataset A it records at fit (``_network_a_checks``) and
:meth:`~KerasTransformer.from_model` (``_network_a_from_model``). This module
is the class's home (pickles, joblib and skops files refer to
``skchain.preprocessor.KerasTransformer``) and the one of them that imports
scikeras.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any, ClassVar, Literal

# Names the public signatures' annotations use are imported at run time (keras is loaded by
# scikeras anyway), so that typing.get_type_hints resolves them.
import keras  # noqa: E402
import numpy as np
from numpy.typing import ArrayLike  # noqa: E402
from sklearn.base import TransformerMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._base import CompiledModelMixin
from ._callbacks import EpochCallbacksMixin
from ._constraints import BATCH_SIZE, POSITIVE_COUNT
from ._early_stopping import EarlyStoppingMixin
from ._network_a_checks import DatasetAChecksMixin
from ._network_a_from_model import FromModelMixin
from ._network_a_outputs import LayerOutputsMixin
from ._network_a_training import NetworkATrainingMixin
from ._scikeras import BaseWrapper
from ._seeding import KeptRandomStateMixin
from ._sklearn_decorators import available_if

__all__ = ["KerasTransformer"]

_STAGE = "KerasTransformer (network A)"

_CHECK_MODES = [StrOptions({"warn", "raise", "off"})]


def _never(_: object) -> bool:
    return False


class KerasTransformer(
    TransformerMixin,
    NetworkATrainingMixin,
    LayerOutputsMixin,
    DatasetAChecksMixin,
    FromModelMixin,
    EpochCallbacksMixin,
    KeptRandomStateMixin,
    EarlyStoppingMixin,
    CompiledModelMixin,
    BaseWrapper,
):
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
        layer's output must be 2-D ``(n_samples, width)``. Resolved once per
        ``fit`` into ``output_layer_``, which the other methods read.
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
        An optimizer instance is a template: each fit trains a new optimizer of
        its class and configuration, and the instance is never trained.
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
    input_moments_ : skchain.adaptation.InputMoments
        Mean, standard deviation and covariance of the scaled training
        inputs (low rank above 1,024 features), for
        ``FrozenTransformer(adapt="standardize" | "coral")``.

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
    _FIT_INSTEAD: ClassVar[dict[str, str]] = {
        **dict.fromkeys(
            ["validation_data", "X_val", "y_val"],
            "network A takes no validation"
            " rows; set the constructor parameter validation_split= or early_stopping=",
        ),
        "class_weight": "set the constructor parameter fit__class_weight= (or pass sample_weight=)",
    }

    #: Every constructor parameter and the values it takes, checked by
    #: ``fit`` (scikit-learn's ``_validate_params``). Routed parameters
    #: (``model__*``, ``fit__*``, ...) are scikeras' to check.
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "model": [callable, None],
        "output_layer": [str, None],
        "scaler": [StrOptions({"standard"}), None, HasMethods(["fit", "transform"])],
        "target_scaler": [
            StrOptions({"auto", "standard"}),
            None,
            HasMethods(["fit", "transform", "inverse_transform"]),
        ],
        "shift_check": _CHECK_MODES,
        "shift_alpha": [Interval(Real, 0, 1, closed="neither")],
        "leakage_check": _CHECK_MODES,
        "leakage_alpha": [Interval(Real, 0, 1, closed="neither")],
        "leakage_threshold": [Interval(Real, 0, 1, closed="both")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [POSITIVE_COUNT],
        "tol": [Interval(Real, 0, None, closed="left")],
        "build_fn": [callable, None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "optimizer": "no_validation",
        "loss": "no_validation",
        "metrics": "no_validation",
        "batch_size": BATCH_SIZE,
        "validation_batch_size": BATCH_SIZE,
        "verbose": ["verbose", StrOptions({"auto"})],
        "callbacks": "no_validation",
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "run_eagerly": ["boolean"],
        "epochs": [POSITIVE_COUNT],
    }

    def __init__(
        self,
        model: keras.Model | Callable[..., keras.Model] | None = None,
        *,
        output_layer: str | None = None,
        scaler: Literal["standard"] | TransformerMixin | None = "standard",
        target_scaler: Literal["auto", "standard"] | TransformerMixin | None = "auto",
        shift_check: Literal["warn", "raise", "off"] = "warn",
        shift_alpha: float = 0.01,
        leakage_check: Literal["warn", "raise", "off"] = "warn",
        leakage_alpha: float = 0.01,
        leakage_threshold: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        build_fn: Callable[..., keras.Model] | None = None,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        optimizer: str | keras.optimizers.Optimizer | type[keras.optimizers.Optimizer] = "adam",
        loss: str | keras.losses.Loss | Callable[..., Any] | None = None,
        metrics: Any = None,
        batch_size: int | None = None,
        validation_batch_size: int | None = None,
        verbose: int | Literal["auto"] = 0,
        callbacks: keras.callbacks.Callback | Sequence[keras.callbacks.Callback] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        run_eagerly: bool = False,
        epochs: int = 1,
        **kwargs: Any,
    ) -> None:
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

    # Defined in this class so that scikit-learn's ``set_output`` wraps it
    # (``__init_subclass__`` wraps a class's own ``transform`` only).
    transform = LayerOutputsMixin.transform

    # scikeras methods that would bypass the input scaler, or that have no
    # meaning without knowing network A's task, are not offered.
    @available_if(_never)
    def partial_fit(  # pragma: no cover
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, **kwargs: Any
    ) -> None:
        """Not available: it would train network A without its scaler."""

    @available_if(_never)
    def initialize(self, X: ArrayLike, y: ArrayLike | None = None) -> None:  # pragma: no cover
        """Not available: use :meth:`from_model` to wrap a trained network."""

    @available_if(_never)
    def score(  # pragma: no cover
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> None:
        """Not available: network A's task (and so its score) is the user's."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags
