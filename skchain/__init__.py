"""skchain: a chain of two neural networks as one scikit-learn estimator.

Network A (:class:`KerasTransformer`) is trained on dataset A and used,
frozen (:class:`FrozenTransformer`), as a feature block for dataset B next to
B's own categorical and numeric columns; a :class:`ChainRegressor` learns the
target from all blocks. :func:`make_chain` assembles the ``Pipeline``.
"""

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Public names and the module that defines each. They are imported on first
# use, so that ``python -m skchain`` can configure TensorFlow's logging before
# TensorFlow is loaded.
_PUBLIC = {
    "Chain": "chain",
    "ChainClassifier": "classifier",
    "ChainRegressor": "regressor",
    "DataLeakageWarning": "diagnostics",
    "DataShiftWarning": "diagnostics",
    "FineTune": "finetune",
    "FrozenTransformer": "frozen",
    "CategoricalLevels": "encoders",
    "HashingEncoder": "encoders",
    "KerasTransformer": "preprocessor",
    "make_categorical_encoder": "encoders",
    "make_chain": "factory",
    "load": "persistence",
    "SequencePadder": "sequences",
    "save": "persistence",
    "SkchainVersionWarning": "persistence",
}

__all__ = [*_PUBLIC, "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .chain import Chain
    from .factory import make_chain
    from .diagnostics import DataLeakageWarning, DataShiftWarning
    from .encoders import CategoricalLevels, HashingEncoder, make_categorical_encoder
    from .sequences import SequencePadder
    from .finetune import FineTune
    from .frozen import FrozenTransformer
    from .persistence import SkchainVersionWarning, load, save
    from .preprocessor import KerasTransformer
    from .classifier import ChainClassifier
    from .regressor import ChainRegressor


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skchain' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
