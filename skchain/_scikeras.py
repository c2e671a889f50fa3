"""scikeras' wrappers, imported without changing how Keras objects pickle.

skchain's estimators subclass scikeras' wrappers (``scikeras.wrappers``;
`scikeras 0.13 <https://adriangb.com/scikeras/>`_). Importing the ``scikeras``
package replaces, for the whole process, ``keras.Model.__reduce__`` and adds
``keras.Model.__deepcopy__`` (and replaces ``__reduce__`` of
``keras.losses.Loss``, ``keras.metrics.Metric`` and
``keras.optimizers.Optimizer``) with its own functions, which also register
every pickled model's class in Keras' global custom objects
(``scikeras/__init__.py``, ``scikeras/_saving_utils.py``). Keras 3 pickles all
of these itself (``keras.src.saving.keras_saveable.KerasSaveable``), so those
replacements would only change how the user's own Keras objects pickle and
copy once skchain is imported.

This module is the one place skchain imports scikeras at run time. When it is
the first to import scikeras, it puts Keras' own methods back right after the
import; when the user imported scikeras before skchain, scikeras' methods are
the user's choice and stay. skchain's estimators do not depend on either:
their networks travel as ``.keras`` bytes (``skchain._base._PickledNetwork``).
"""

from __future__ import annotations

import sys
from typing import Any

import keras

# Where scikeras writes (scikeras/__init__.py): the class and the attribute.
_PATCHED: tuple[tuple[type, str], ...] = (
    (keras.Model, "__reduce__"),
    (keras.Model, "__deepcopy__"),
    (keras.losses.Loss, "__reduce__"),
    (keras.metrics.Metric, "__reduce__"),
    (keras.optimizers.Optimizer, "__reduce__"),
)

_MISSING = object()


def _own_attributes() -> list[Any]:
    """Each patched class's own attribute (``_MISSING`` where the class has none)."""
    return [kind.__dict__.get(name, _MISSING) for kind, name in _PATCHED]


def _put_back(saved: list[Any]) -> None:
    """Give each patched class its attribute as it was before scikeras was imported."""
    for (kind, name), value in zip(_PATCHED, saved, strict=True):
        if value is _MISSING:
            if name in kind.__dict__:
                delattr(kind, name)
        else:
            setattr(kind, name, value)


def _import_wrappers() -> Any:
    """``scikeras.wrappers``; Keras' own methods put back if this import loaded scikeras.

    The bare package is imported first (its ``__init__`` replaces the methods
    as its last statements) and the methods are put back as soon as it
    returns, before the wrappers' imports: another thread pickling a Keras
    object sees scikeras' methods only between those few statements.
    """
    first = "scikeras" not in sys.modules
    saved = _own_attributes()
    try:
        import scikeras  # noqa: F401
    finally:
        if first:
            _put_back(saved)
    import scikeras.wrappers as wrappers

    return wrappers


_wrappers = _import_wrappers()
BaseWrapper = _wrappers.BaseWrapper
KerasClassifier = _wrappers.KerasClassifier
KerasRegressor = _wrappers.KerasRegressor

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor"]
