"""Behaviour shared by the Keras-backed estimators (no scikeras import here)."""

import itertools
import weakref

import numpy as np
from sklearn.base import BaseEstimator, check_is_fitted

from ._inference import CompiledForward

# Every (re)fit gets a new token, so caches keyed on it never serve outputs of
# an earlier fit of the same estimator object.
_fit_tokens = itertools.count()

# Traced functions per estimator. Kept outside the estimators so that they
# never reach a pickle, a deepcopy or a clone, and so that calling predict or
# transform does not change the estimator's ``__dict__``.
_compiled_functions = weakref.WeakKeyDictionary()


class CompiledModelMixin:
    """Gives a Keras-backed estimator traced inference functions.

    The functions are built on first use and kept in a weak registry keyed by
    the estimator, so they are rebuilt after unpickling, ``copy.deepcopy`` or
    ``joblib.load`` and never travel with the estimator.
    """

    def _forward(self, key, build_model, **options):
        """Return the cached :class:`CompiledForward` for ``key``.

        ``build_model`` is called once, on a cache miss, to produce the Keras
        model to compile; ``options`` go to :class:`CompiledForward`.
        """
        compiled = _compiled_functions.setdefault(self, {})
        if key not in compiled:
            compiled[key] = CompiledForward(build_model(), **options)
        return compiled[key]

    def _clear_compiled(self):
        """Forget compiled functions; called whenever the network changes."""
        _compiled_functions.pop(self, None)
        self._fit_token = next(_fit_tokens)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    # scikeras prints every parameter on its own line; scikit-learn's repr
    # (changed parameters only) is what users of pipelines expect.
    __repr__ = BaseEstimator.__repr__


def check_fitted(estimator, stage):
    """``check_is_fitted`` with a message that names the stage."""
    check_is_fitted(
        estimator,
        msg=(
            f"{stage}: this {type(estimator).__name__} is not fitted yet; call"
            " 'fit' with appropriate arguments before using this estimator."
        ),
    )


def as_float32_target(y):
    """Cast a numeric target to float32 once (Keras trains in float32)."""
    y = np.asarray(y)
    if y.dtype.kind in "fiub":
        return y.astype(np.float32, copy=False)
    return y
