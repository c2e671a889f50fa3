"""Keras callbacks, optimizers, losses and metrics held by estimators, for :func:`skchain.save`.

skops' format cannot hold these objects (a trained callback refers to the
network, a compiled optimizer or metric to its variables), so :func:`save`
replaces each one, also inside lists, tuples and dicts (``callbacks=[...]``,
``metrics=[...]``), by a :class:`KerasObjectReference`: JSON text in Keras'
serialization format (``module``, ``class_name``, ``config``,
``registered_name``):

* optimizers, losses, metrics (and learning-rate schedules, regularizers,
  initializers, constraints, Keras' loss and metric functions) by
  ``keras.saving.serialize_keras_object``, rebuilt by
  ``keras.saving.deserialize_keras_object`` in safe mode;
* callbacks, which Keras does not serialize, by their constructor arguments
  (plain data only), rebuilt by calling the class with them.

Only the configuration is kept, never the state of a training (a callback's
network, an optimizer's or metric's variables). :func:`save` rebuilds each
object once and raises a ``ValueError`` naming the parameter when the copy
would differ (a ``LambdaCallback``, a ``Huber(delta=2.0)`` whose ``delta``
Keras' config drops). :func:`load` accepts Keras' own classes and the
classes and functions named in ``trusted``; callbacks that write files or
send data (``ModelCheckpoint``, ``CSVLogger``, ``TensorBoard``, ...) and
``LambdaCallback`` only when named there too (``"keras.callbacks.CSVLogger"``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import keras

from ._seeding import nothing_drawn

#: Objects saved by their Keras config (callbacks: by constructor arguments).
_KERAS_TYPES = (
    keras.callbacks.Callback,
    keras.optimizers.Optimizer,
    keras.losses.Loss,
    keras.metrics.Metric,
    keras.optimizers.schedules.LearningRateSchedule,
    keras.regularizers.Regularizer,
    keras.initializers.Initializer,
    keras.constraints.Constraint,
)
#: Built-in callbacks that act outside the process (files, network) or hold code.
_NOT_BY_DEFAULT = tuple(
    getattr(keras.callbacks, name)
    for name in (
        "BackupAndRestore",
        "CSVLogger",
        "LambdaCallback",
        "ModelCheckpoint",
        "OrbaxCheckpoint",
        "RemoteMonitor",
        "TensorBoard",
    )
    if hasattr(keras.callbacks, name)
)
#: Keras' markers for plain values (tensors, arrays, bytes ...) in a config.
_VALUES = {"__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}


class KerasObjectReference:
    """Stands for a Keras object an estimator holds: its config as JSON text.

    ``callback``: the config holds a callback's constructor arguments (Keras
    does not serialize callbacks). ``where``: the estimator and parameter, for
    messages.
    """

    def __init__(self, config: str, callback: bool, where: str) -> None:
        self.config = config
        self.callback = callback
        self.where = where


class RefusedObject(Exception):
    """Raised by :class:`Decoder`: ``names`` are not trusted, or the config is unusable."""

    def __init__(self, message: str, names: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.names = list(names)


def _is_keras(value: object) -> bool:
    if isinstance(value, types.FunctionType):
        return value.__module__.startswith("keras.")
    return isinstance(value, _KERAS_TYPES) or (
        isinstance(value, keras.layers.Layer) and not isinstance(value, keras.Model)
    )


def _walk(value: Any, convert: Callable[[Any, str], Any], where: str) -> Any:
    """``value`` with ``convert`` applied to the leaves of its lists, tuples and dicts.

    ``value`` itself (not a copy) when nothing in it changed.
    """
    if isinstance(value, (list, tuple)):
        items = [_walk(v, convert, f"{where}[{i}]") for i, v in enumerate(value)]
        if all(a is b for a, b in zip(items, value, strict=False)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        entries = {k: _walk(v, convert, f"{where}[{k!r}]") for k, v in value.items()}
        return value if all(entries[k] is v for k, v in value.items()) else entries
    return convert(value, where)


def _json(value: Any) -> Any:
    """``value`` as JSON text reads it back (tuples become lists)."""
    return json.loads(json.dumps(value, default=repr))


class Encoder:
    """Replaces Keras objects by references (:func:`skchain.save`); the same object once."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple[Any, KerasObjectReference]] = {}

    def encode(self, value: Any, where: str) -> Any:
        """``value`` with its Keras objects replaced; raises ``ValueError`` naming ``where``."""
        return _walk(value, self._one, where)

    def _one(self, value: Any, where: str) -> Any:
        if not _is_keras(value):
            return value
        if id(value) not in self.memo:
            try:
                reference = self._reference(value, where)
            except _Unsaveable as exc:
                raise ValueError(
                    f"skchain.save: {where}: {type(value).__name__} cannot be saved by Keras'"
                    f" serialization: {exc}. Use joblib, or an object Keras rebuilds from its"
                    " config (get_config/from_config; for a callback, its constructor"
                    " arguments kept in attributes of the same names)."
                ) from None
            self.memo[id(value)] = (value, reference)
        return self.memo[id(value)][1]

    def _reference(self, obj: Any, where: str) -> KerasObjectReference:
        if isinstance(obj, keras.layers.Layer):
            raise _Unsaveable("a layer held as a parameter is not saved (only whole networks)")
        callback = isinstance(obj, keras.callbacks.Callback) and not (
            hasattr(obj, "get_config") and hasattr(type(obj), "from_config")
        )
        config = _callback_config(obj) if callback else _keras_config(obj)
        try:
            text = json.dumps(config)
        except (TypeError, ValueError) as exc:
            raise _Unsaveable(f"its config is not JSON data ({exc})") from None
        with nothing_drawn():
            try:
                rebuilt = Decoder(None).rebuild(json.loads(text), callback)
            except Exception as exc:  # noqa: BLE001 - any failure means it cannot round-trip
                raise _Unsaveable(
                    f"it cannot be rebuilt from its config ({type(exc).__name__}: {exc})"
                ) from None
            lost = _differences(obj, rebuilt, config, callback)
        if lost:
            raise _Unsaveable(f"a copy rebuilt from its config would differ in {', '.join(lost)}")
        return KerasObjectReference(text, callback, where)


class _Unsaveable(Exception):
    pass


def _keras_config(obj: Any) -> Any:
    try:
        return keras.saving.serialize_keras_object(obj)
    except Exception as exc:  # noqa: BLE001 - Keras raises TypeError, ValueError, NotImplementedError
        raise _Unsaveable(f"{type(exc).__name__}: {exc}") from None


def _plain(value: object) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, dict) and all(
        isinstance(k, str) and _plain(v) for k, v in value.items()
    )


def _callback_config(callback: Any) -> dict[str, Any]:
    """A callback as Keras' config layout, its ``config`` the constructor arguments."""
    cls = type(callback)
    arguments: dict[str, Any] = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name not in vars(callback):
            raise _Unsaveable(f"it keeps its argument {name!r} in no attribute {name!r}")
        value = vars(callback)[name]
        if (
            name == "min_delta"
            and "monitor_op" in vars(callback)
            and isinstance(value, (int, float))
        ):
            value = abs(value)  # Keras' MonitorCallback flips its sign when a training starts
        if not _plain(value):
            raise _Unsaveable(f"its argument {name!r} is a {type(value).__name__}, not plain data")
        arguments[name] = value
    builtin = getattr(keras.callbacks, cls.__name__, None) is cls
    return {
        "module": "keras.callbacks" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": arguments,
        "registered_name": None if builtin else keras.saving.get_registered_name(cls),
    }


def _differences(obj: Any, rebuilt: Any, config: Any, callback: bool) -> list[str]:
    """What a rebuilt copy lacks: the names of settings that differ."""
    if isinstance(obj, types.FunctionType):
        return [] if rebuilt is obj else ["the function"]
    if type(rebuilt) is not type(obj):
        return [f"its type ({type(rebuilt).__name__})"]
    if callback:
        again = _callback_config(rebuilt)["config"]
        return [n for n, v in config["config"].items() if _json(again.get(n)) != _json(v)]
    lost = [] if _json(_keras_config(rebuilt)) == _json(config) else ["its config"]
    # Keras' loss and metric wrappers (Huber, ...) may leave their arguments out of get_config.
    kwargs = [getattr(o, "_fn_kwargs", None) for o in (obj, rebuilt)]
    if kwargs[0] is not None and _json(_keras_config(kwargs[0])) != _json(_keras_config(kwargs[1])):
        lost.append(f"its arguments {sorted(kwargs[0])}")
    return lost


def _objects_named(config: Any) -> Iterator[dict[str, Any]]:
    """Every object a Keras config names (the dicts with ``class_name`` and ``config``)."""
    stack = [config]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, dict):
            if "class_name" in current and "config" in current:
                yield current
            stack.extend(current.values())


def _import(module: str, name: str) -> Any:
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


class Decoder:
    """Rebuilds referenced Keras objects (:func:`skchain.load`); ``trusted=None`` trusts all."""

    def __init__(self, trusted: Iterable[str] | None) -> None:
        self.trusted = None if trusted is None else set(trusted)
        self.memo: dict[int, tuple[KerasObjectReference, Any]] = {}

    def decode(self, value: Any, where: str = "") -> Any:
        """``value`` with its references replaced by rebuilt objects.

        Raises :class:`RefusedObject`.
        """
        return _walk(value, self._one, where)

    def _one(self, value: Any, where: str) -> Any:
        if not isinstance(value, KerasObjectReference):
            return value
        if id(value) not in self.memo:
            try:
                config = json.loads(value.config)
            except (TypeError, ValueError):
                raise RefusedObject(f"{value.where}: its Keras config is not JSON") from None
            if not isinstance(config, dict):
                raise RefusedObject(f"{value.where}: its Keras config is not a dict")
            try:
                with nothing_drawn():
                    rebuilt = self.rebuild(config, bool(value.callback), value.where)
            except RefusedObject:
                raise
            except Exception as exc:  # noqa: BLE001 - Keras raises many kinds
                raise RefusedObject(
                    f"{value.where}: Keras could not rebuild it ({type(exc).__name__}: {exc})"
                ) from None
            self.memo[id(value)] = (value, rebuilt)
        return self.memo[id(value)][1]

    def rebuild(self, config: dict[str, Any], callback: bool, where: str = "") -> Any:
        """The object ``config`` describes; names not trusted raise :class:`RefusedObject`."""
        custom: dict[str, Any] = {}
        untrusted: list[str] = []
        top: Any = None
        for named in _objects_named(config):
            found, own = self._resolve(named, untrusted, where)
            if found is not None and not own:
                custom[named.get("registered_name") or named["class_name"]] = found
            top = found if named is config else top
        if untrusted:
            raise RefusedObject(
                f"{where}: a Keras object names {sorted(set(untrusted))}", untrusted
            )
        if not callback:
            return keras.saving.deserialize_keras_object(
                config, custom_objects=custom, safe_mode=True
            )
        if not (isinstance(top, type) and issubclass(top, keras.callbacks.Callback)):
            raise RefusedObject(f"{where}: {config.get('class_name')!r} is not a Keras callback")
        if not isinstance(config["config"], dict) or not _plain(config["config"]):
            raise RefusedObject(f"{where}: the callback's arguments are not plain data")
        return top(**config["config"])

    def _resolve(self, named: dict[str, Any], untrusted: list[str], where: str) -> tuple[Any, bool]:
        """``(class or function, whether Keras' own)`` that ``named`` stands for; checks trust.

        ``None`` for what Keras looks up itself (its functions, plain values) or
        what is not trusted (then appended to ``untrusted``).
        """
        class_name, module = named["class_name"], named.get("module")
        if class_name in _VALUES:
            return None, True
        if not isinstance(class_name, str) or class_name.startswith("__"):
            raise RefusedObject(
                f"{where}: its Keras config holds {class_name!r} (code or an unknown value)"
            )
        name = named["config"] if class_name == "function" else class_name
        if not (isinstance(module, str) and isinstance(name, str)):
            raise RefusedObject(f"{where}: its Keras config names {class_name!r} without a module")
        full, registered = f"{module}.{name}", named.get("registered_name")
        trusted = self.trusted is None or full in self.trusted
        if (
            module == "builtins"
            and class_name == "function"
            and registered in (None, "function", name)
        ):
            return None, True  # Keras looks such names up among its own functions only
        if (module == "keras" or module.startswith("keras.")) and registered in (None, name):
            found = _import(module, name)
            if isinstance(found, type) and issubclass(found, _NOT_BY_DEFAULT) and not trusted:
                untrusted.append(full)
            return found, True
        if not trusted:
            untrusted.append(full)
            return None, False
        return _import(module, name), False
