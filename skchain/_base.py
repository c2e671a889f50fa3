"""Behaviour shared by the Keras-backed estimators (no scikeras import here)."""

import copy
import io
import uuid
import weakref
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, Self

import keras
import numpy as np
from keras.src.saving import saving_lib
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, check_is_fitted
from sklearn.pipeline import Pipeline

from ._callbacks import fit_callbacks_added
from ._inference import CompiledForward
from ._input_pipeline import dataset_fit_arguments
from ._optimizer_build import BuildOptimizer
from ._seeding import nothing_drawn


# Every (re)fit gets a new token, so caches keyed on it never serve outputs of
# an earlier fit of the same estimator object. Random (``uuid4``, from the
# operating system, not the global generators), so that a network loaded from
# a file never shares a token with one fitted in this process.
def _new_fit_token() -> str:
    return uuid.uuid4().hex


# Traced functions per estimator. Kept outside the estimators so that they
# never reach a pickle, a deepcopy or a clone, and so that calling predict or
# transform does not change the estimator's ``__dict__``.
_compiled_functions: weakref.WeakKeyDictionary[Any, dict[Hashable, CompiledForward]] = (
    weakref.WeakKeyDictionary()
)


class CompiledModelMixin:
    """Gives a Keras-backed estimator traced inference functions.

    The functions are built on first use and kept in a weak registry keyed by
    the estimator, so they are rebuilt after unpickling, ``copy.deepcopy`` or
    ``joblib.load`` and never travel with the estimator.
    """

    # Set by the estimator (scikeras' parameter, the fitted network, ``fit``).
    model: Any
    model_: Any
    _fit_token: str

    def _forward(
        self, key: Hashable, build_model: Callable[[], keras.Model], **options: Any
    ) -> CompiledForward:
        """Return the cached :class:`CompiledForward` for ``key``.

        ``build_model`` is called once, on a cache miss, to produce the Keras
        model to compile; ``options`` go to :class:`CompiledForward`.
        """
        compiled = _compiled_functions.setdefault(self, {})
        if key not in compiled:
            compiled[key] = CompiledForward(build_model(), **options)
        return compiled[key]

    def __sklearn_clone__(self) -> Self:
        """``sklearn.base.clone``, copying a ``keras.Model`` parameter with :func:`copy_network`.

        scikit-learn deep-copies parameters that are not estimators; a Keras
        network deep-copies through Keras' saving, which seeds the copy's layers
        from Python's global ``random`` (a process-wide change) and, for a
        compiled network that never trained, warns that it skips the
        optimizer's state.
        """
        params = self.get_params(deep=False)  # type: ignore[attr-defined]  # mixin: BaseEstimator's
        networks = {k: v for k, v in params.items() if isinstance(v, keras.Model)}
        if not networks:
            return BaseEstimator.__sklearn_clone__(self)
        stand_in = copy.copy(self)  # shares everything; only its network parameters change
        for name, network in networks.items():
            setattr(stand_in, name, _NetworkParameter(network, _stage_of(self)))
        return BaseEstimator.__sklearn_clone__(stand_in)

    def _get_compile_kwargs(self) -> dict[str, Any]:
        kwargs = super()._get_compile_kwargs()  # type: ignore[misc]  # mixin: scikeras' method
        optimizer: Any = kwargs.get("optimizer")
        users_own = optimizer is getattr(self, "optimizer", None)
        if users_own and isinstance(optimizer, keras.optimizers.Optimizer):
            # The user's optimizer instance: scikeras would compile with it, so that fit
            # trained it in place (its state, built for this fit's network, then refused
            # the next fit's: Keras' "Unknown variable" ValueError). Each fit gets a new
            # optimizer of the same class and configuration.
            kwargs["optimizer"] = type(optimizer).from_config(optimizer.get_config())
        return dict(kwargs)

    def _clear_compiled(self) -> None:
        """Forget compiled functions; called whenever the network changes."""
        _compiled_functions.pop(self, None)
        self._fit_token = _new_fit_token()

    def network_changed(self) -> None:
        """Forget the compiled functions after the fitted network was changed outside ``fit``.

        Fine-tuning calls it once it has trained the network in place; the
        next ``predict`` compiles the network anew, and :attr:`fit_token`
        changes.
        """
        self._clear_compiled()

    @property
    def fit_token(self) -> str | None:
        """A token that changes with every fit and every :meth:`network_changed` (None unfitted).

        Caches of a fitted network's outputs key on it.
        """
        return getattr(self, "_fit_token", None)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def __copy__(self) -> Self:
        # A shallow copy shares the networks; only pickling (and deepcopy)
        # goes through __getstate__ below.
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self) -> dict[str, Any]:
        # Keras networks travel as their ``.keras`` bytes (_PickledNetwork),
        # loaded back without drawing from the global generators.
        state = dict(
            # A mixin: super() is scikeras' BaseWrapper, whose __getstate__ returns a dict.
            super().__getstate__()  # type: ignore[call-overload]
            if hasattr(super(), "__getstate__")
            else self.__dict__
        )
        for name, value in state.items():
            if isinstance(value, keras.Model):
                state[name] = _PickledNetwork(value)
        return state

    def _check_model_param(self) -> Any:
        build = super()._check_model_param()  # type: ignore[misc]  # mixin: scikeras' method
        if isinstance(self.model, keras.Model):
            # scikeras would train (and compile) the user's own network: train a copy.
            network, stage = self.model, _stage_of(self)
            graph_inputs(network, stage)
            return lambda: copy_user_network(network, stage)
        return build

    def _fit_keras_model(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        warm_start: bool,
        epochs: int,
        initial_epoch: int,
        **kwargs: Any,
    ) -> Any:
        # scikeras resolves ``batch_size=-1`` (all rows in one batch) from
        # ``X.shape``, which a multi-input network's list of arrays lacks.
        # The value in force: a fit argument, else a routed fit__ one, else the parameter.
        rows = len(X[0]) if isinstance(X, (list, tuple)) else len(X)
        for name in ("batch_size", "validation_batch_size"):
            value = kwargs.get(name, getattr(self, f"fit__{name}", getattr(self, name, None)))
            if value is not None and not isinstance(value, bool) and value == -1:
                kwargs[name] = rows
        # Keras' own pipeline for arrays makes TensorFlow log a NodeDef error
        # under op determinism, makes two iterators an epoch and, seeded, visits
        # the rows in the same order every epoch (see _input_pipeline); the same
        # batches, fed as one dataset for the whole fit, do none of these.
        setting: dict[str, Any] = {
            name: kwargs.get(name, getattr(self, f"fit__{name}", getattr(self, name, default)))
            for name, default in (
                ("batch_size", None),
                ("validation_batch_size", None),
                ("shuffle", True),
                ("validation_split", 0.0),
                ("steps_per_epoch", None),
                ("validation_steps", None),
            )
        }
        arguments = dataset_fit_arguments(
            X, y, sample_weight, validation_data=kwargs.get("validation_data"), **setting
        )
        if arguments is not None:
            X, y, sample_weight = (arguments.pop(name) for name in ("x", "y", "sample_weight"))
            kwargs.update(arguments)
        # The optimizer built as the first batch begins, after every other callback,
        # not inside the train function's first trace (see _optimizer_build).
        with fit_callbacks_added(self, [BuildOptimizer()]):
            return super()._fit_keras_model(  # type: ignore[misc]  # mixin: scikeras' method
                X,
                y,
                sample_weight=sample_weight,
                warm_start=warm_start,
                epochs=epochs,
                initial_epoch=initial_epoch,
                **kwargs,
            )

    # scikeras prints every parameter on its own line; scikit-learn's repr
    # (changed parameters only) is what users of pipelines expect.
    __repr__ = BaseEstimator.__repr__


class _NetworkParameter:
    """A ``keras.Model`` parameter inside ``clone``: cloned by :func:`copy_user_network`."""

    def __init__(self, network: keras.Model, stage: str) -> None:
        self.network = network
        self.stage = stage

    def __sklearn_clone__(self) -> keras.Model:
        return copy_user_network(self.network, self.stage)


class _PickledNetwork:
    """A Keras network inside a pickle: its ``.keras`` bytes, loaded by :func:`load_network`.

    Loaded without drawing from Python's global ``random`` (Keras seeds every
    layer it creates without a seed from it). A network of a ``keras.Model``
    subclass that is not registered with Keras travels with its class
    (pickled by reference, as pickle does for any class) and loads with it as
    a custom object; one whose optimizer never trained is compiled from its
    compile settings. Nothing is added to Keras' global registry of custom
    objects (scikeras' pickling registers every pickled model's class there,
    Keras' own ``Functional`` included, after which every model the user
    saves carries that ``registered_name``).
    """

    def __init__(self, network: keras.Model) -> None:
        self.network = network

    def __reduce__(self) -> tuple[Callable[..., keras.Model], tuple[bytes]]:
        network_bytes, how = _saved(self.network)
        return (partial(_load_network, **how) if how else _load_network), (network_bytes,)


def _saved(network: keras.Model) -> tuple[bytes, dict[str, Any]]:
    """The network's ``.keras`` bytes and the keyword arguments of :func:`_load_network`
    that load them as they were: the class when Keras cannot find it by itself (a
    ``keras.Model`` subclass neither Keras' nor registered), the compile settings when
    the optimizer never trained (it has no state to load: Keras would warn that it
    skips loading it, and silencing a warning is not thread-safe)."""
    buffer = io.BytesIO()
    saving_lib.save_model(network, buffer)
    how: dict[str, Any] = {}
    kind = type(network)
    name = keras.saving.get_registered_name(kind)
    if kind.__module__.partition(".")[0] != "keras" and (
        keras.saving.get_registered_object(name) is not kind
    ):
        how["custom_objects"] = {name: kind}
    if not getattr(getattr(network, "optimizer", None), "built", True):
        how["compile_config"] = network.get_compile_config()
    return buffer.getvalue(), how


def _load_network(
    network_bytes: bytes,
    custom_objects: dict[str, type] | None = None,
    compile_config: dict[str, Any] | None = None,
) -> keras.Model:
    # The name pickles refer to: keep it (and its first argument alone), so that
    # files load in every version.
    with nothing_drawn():
        network = saving_lib.load_model(
            io.BytesIO(network_bytes),
            custom_objects=custom_objects,
            compile=compile_config is None,  # else: no optimizer state to load
        )
        if compile_config is not None:
            network.compile_from_config(compile_config)
        return network


def load_network(network_bytes: bytes) -> keras.Model:
    """A Keras network from its ``.keras`` bytes, loaded without drawing from global generators."""
    return _load_network(network_bytes)


def copy_network(network: keras.Model) -> keras.Model:
    """A copy of a Keras network (weights, compile settings, optimizer state), nothing drawn."""
    network_bytes, how = _saved(network)
    return _load_network(network_bytes, **how)


def copy_user_network(network: keras.Model, stage: str) -> keras.Model:
    """:func:`copy_network` of the user's ``model=``; a failure names ``stage``."""
    try:
        return copy_network(network)
    except (TypeError, ValueError) as exc:  # Keras could not load what it saved
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(
            f"{stage}: model= could not be copied (the estimator trains a copy; Keras"
            " copies a network by saving and loading it, and the loading failed:"
            " register the network's own layers and classes with"
            f" keras.saving.register_keras_serializable). Keras said: {exc}"
        ) from exc


def _stage_of(estimator: Any) -> str:
    """The stage an estimator's errors name."""
    return str(getattr(estimator, "_STAGE", type(estimator).__name__))


def graph_inputs(network: keras.Model, stage: str) -> list[Any]:
    """The network's input tensors; a TypeError naming ``stage`` when it has none.

    skchain reads networks as graphs of layers (a layer's output, each
    input's width), which a subclassed ``keras.Model`` and a ``Sequential``
    without a ``keras.Input`` do not have.
    """
    try:
        return list(network.inputs)
    except AttributeError:  # Keras keeps no graph of layers for this network
        raise TypeError(
            f"{stage}: the network must be a functional or Sequential keras.Model"
            f" built on a keras.Input, whose layers skchain reads; got"
            f" {type(network).__name__}, which has no defined inputs (a subclassed"
            " keras.Model, or a Sequential without a keras.Input first)"
        ) from None


def check_fitted(estimator: Any, stage: str) -> None:
    """``check_is_fitted`` with a message that names the stage."""
    check_is_fitted(
        estimator,
        msg=(
            f"{stage}: this {type(estimator).__name__} is not fitted yet; call"
            " 'fit' with appropriate arguments before using this estimator."
        ),
    )


def standard_scaling(scaler: Any, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` of a fitted standard scaler, honouring ``with_mean``/``with_std``.

    The arithmetic of ``StandardScaler.transform`` as constants, for folding
    the scaler into a compiled Keras call.
    """
    mean = scaler.mean_ if scaler.with_mean else np.zeros(width)
    scale = scaler.scale_ if scaler.with_std else np.ones(width)
    return np.asarray(mean, np.float32), np.asarray(scale, np.float32)


def without_pandas_output(transformer: Any) -> Any:
    """A shallow copy of a fitted transformer whose ``transform`` returns arrays.

    In a ``Pipeline`` only the last step changes (a copy of it: ``set_output``
    on the pipeline would reconfigure the original's steps); the others keep
    the output their successors were fitted with.
    """
    transformer = copy.copy(transformer)
    if isinstance(transformer, Pipeline):
        name, last = transformer.steps[-1]
        transformer.steps = [*transformer.steps[:-1], (name, without_pandas_output(last))]
        return transformer
    if hasattr(transformer, "set_output"):
        # A copy of its own: ``set_output`` edits this dict in place.
        transformer._sklearn_output_config = dict(
            getattr(transformer, "_sklearn_output_config", {})
        )
        transformer.set_output(transform="default")
    return transformer


def dense_float32(out: Any) -> np.ndarray:
    """A transformer's output as a dense, row-major float32 array."""
    if hasattr(out, "toarray"):
        out = out.toarray()
    return np.ascontiguousarray(out, dtype=np.float32)


def as_float32_target(y: ArrayLike) -> np.ndarray:
    """Cast a numeric target to float32 once (Keras trains in float32)."""
    y = np.asarray(y)
    if y.dtype.kind in "fiub":
        return y.astype(np.float32, copy=False)
    return y
