"""skchain: a chain of two neural networks as one scikit-learn estimator.

Network A (:class:`KerasTransformer`) is trained on dataset A and used,
frozen (:class:`FrozenTransformer`), as a feature block for dataset B next to
B's own categorical and numeric columns; a :class:`ChainRegressor` learns the
target from all blocks. :func:`make_chain` assembles the ``Pipeline``.
"""

import importlib
from typing import TYPE_CHECKING, Any

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
    from .chain import Chain as Chain
    from .classifier import ChainClassifier as ChainClassifier
    from .diagnostics import (
        DataLeakageWarning as DataLeakageWarning,
    )
    from .diagnostics import (
        DataShiftWarning as DataShiftWarning,
    )
    from .encoders import (
        CategoricalLevels as CategoricalLevels,
    )
    from .encoders import (
        HashingEncoder as HashingEncoder,
    )
    from .encoders import (
        make_categorical_encoder as make_categorical_encoder,
    )
    from .factory import make_chain as make_chain
    from .finetune import FineTune as FineTune
    from .frozen import FrozenTransformer as FrozenTransformer
    from .persistence import (
        SkchainVersionWarning as SkchainVersionWarning,
    )
    from .persistence import (
        load as load,
    )
    from .persistence import (
        save as save,
    )
    from .preprocessor import KerasTransformer as KerasTransformer
    from .regressor import ChainRegressor as ChainRegressor
    from .sequences import SequencePadder as SequencePadder


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skchain' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
