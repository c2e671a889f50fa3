"""Seeded training that leaves the process's random state as it found it.

scikeras seeds a fit with ``random_state`` through
``scikeras.utils.random_state.tensorflow_random_state``, which sets
``TF_DETERMINISTIC_OPS=1`` *before* asking TensorFlow whether op determinism
is enabled. TensorFlow reads that variable on its first such question only,
so when the first seeded fit of a process is TensorFlow's first work, it
answers "already enabled" and scikeras never switches determinism off again:
from then on every unseeded random op in the process (an unseeded
``Dropout``, the user's own Keras models) raises ``RuntimeError: Random ops
require a seed to be set when determinism is enabled``.

:func:`random_state_kept` wraps every place where skchain trains or builds a
network: it asks TensorFlow first (so the user's own environment decides),
seeds Python, NumPy and TensorFlow for the block when a seed is given, and on
the way out restores op determinism, TensorFlow's global seed, Keras' global
seed generator and Python's and NumPy's global random state. scikeras' own
context nested inside then finds determinism enabled by us and leaves the
restoring to us.

Unseeded work (``seed=None``) draws from the global generators, as
scikit-learn's estimators with ``random_state=None`` do (so
``keras.utils.set_random_seed`` before an unseeded fit makes it repeatable);
it changes no setting.

These settings belong to the process, not to a thread, so every such block
holds one process-wide lock (re-entrant) from the moment it saves them until
it has put them back: under joblib's threading backend (or any threads of
the user's) two fits would otherwise switch each other's op determinism off
mid-fit, reseed each other's generators, or both make scikeras remove
``TF_DETERMINISTIC_OPS`` (``KeyError``). Networks are then built and trained
one at a time across threads, each seeded fit exactly as it would be alone;
predictions and transforms take no lock.
"""

import contextlib
import os
import random
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    # What the mixin is mixed into (scikeras is untyped: Any to mypy).
    from ._scikeras import BaseWrapper as _WrapperBase
else:
    _WrapperBase = object

__all__ = ["KeptRandomStateMixin", "global_random_state", "nothing_drawn", "random_state_kept"]

# Held by every random_state_kept block (see the module docstring); re-entrant,
# as such blocks nest (a fine-tuning fit around the final network's own).
_GLOBAL_STATE_LOCK = threading.RLock()


def _tf_parts() -> tuple[Any, Any, Any]:
    from keras.src.backend.common import global_state
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config

    return config, context, global_state


def global_random_state() -> dict[str, Any]:
    """A comparable snapshot of every process-wide random setting skchain could touch.

    Returns
    -------
    dict
        Op determinism, ``TF_DETERMINISTIC_OPS``, TensorFlow's global seed,
        the identity and state of Keras' global seed generator, and Python's
        and NumPy's global random states (as bytes, so two snapshots compare
        with ``==``).

    Examples
    --------
    >>> from skchain._seeding import global_random_state
    >>> global_random_state() == global_random_state()
    True
    """
    config, context, global_state = _tf_parts()
    generator = global_state.get_global_attribute("global_seed_generator")
    generator_state = None
    if generator is not None:
        generator_state = np.asarray(generator.state.numpy()).tobytes()
    np_state = np.random.get_state()
    assert isinstance(np_state, tuple)  # the legacy MT19937 tuple (legacy=True)
    return {
        "op_determinism": bool(config.is_op_determinism_enabled()),
        "TF_DETERMINISTIC_OPS": os.environ.get("TF_DETERMINISTIC_OPS"),
        "tf_global_seed": context.global_seed(),
        "keras_seed_generator": (id(generator), generator_state),
        "python_random": hash(random.getstate()),
        "numpy_random": (np_state[0], np_state[1].tobytes(), *np_state[2:]),
    }


def nothing_drawn() -> contextlib.AbstractContextManager[None]:
    """A block after which the global generators are exactly as before (loading networks).

    Keras draws a seed from Python's ``random`` for every layer it creates
    without one, also when a saved network is loaded; loading is not meant
    to consume randomness. Op determinism and ``TF_DETERMINISTIC_OPS`` are
    left alone: loading does not change them, and a Dask worker unpickles
    tasks in one thread while a (seeded) fit in another has them switched on.
    """
    return random_state_kept(None, restore_generators=True, determinism=False)


@contextlib.contextmanager
def random_state_kept(
    seed: int | None = None,
    *,
    restore_generators: bool | None = None,
    determinism: bool = True,
) -> Iterator[None]:
    """Run a block seeded with ``seed`` (or unseeded) and restore global random state after.

    Parameters
    ----------
    seed : int or None
        ``None``: nothing is seeded, nothing is switched on, and the global
        generators advance as the block draws from them; op determinism is
        put back if a library underneath changed it. An int: Python's,
        NumPy's and TensorFlow's global generators are seeded and op
        determinism is enabled for the block.
    restore_generators : bool, default=None
        Put the global generators back after the block; ``None``: when seeded.
    determinism : bool, default=True
        Put op determinism and ``TF_DETERMINISTIC_OPS`` back after the block.

    Examples
    --------
    >>> import random
    >>> from skchain._seeding import random_state_kept
    >>> before = random.getstate()
    >>> with random_state_kept(0):
    ...     first = random.random()
    >>> with random_state_kept(0):
    ...     second = random.random()
    >>> first == second, random.getstate() == before
    (True, True)
    """
    with _GLOBAL_STATE_LOCK:
        yield from _kept(seed, restore_generators, determinism)


def _kept(seed: int | None, restore_generators: bool | None, determinism: bool) -> Iterator[None]:
    """The body of :func:`random_state_kept` (run under the process-wide lock)."""
    import tensorflow as tf

    config, context, global_state = _tf_parts()
    # First, before anything sets TF_DETERMINISTIC_OPS: TensorFlow latches
    # that variable on the first call of this function in a process.
    keep_determinism = determinism
    determinism_on = config.is_op_determinism_enabled()
    env = os.environ.get("TF_DETERMINISTIC_OPS")
    tf_seed = context.global_seed()
    generator = global_state.get_global_attribute("global_seed_generator")
    generator_state = None if generator is None else generator.state.numpy()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    if restore_generators is None:
        restore_generators = seed is not None
    try:
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
            tf.random.set_seed(seed)
            if not determinism_on:
                config.enable_op_determinism()
        yield
    finally:
        if keep_determinism:
            if config.is_op_determinism_enabled() != determinism_on:
                (
                    config.enable_op_determinism
                    if determinism_on
                    else config.disable_op_determinism
                )()
            if env is None:
                os.environ.pop("TF_DETERMINISTIC_OPS", None)
            else:
                os.environ["TF_DETERMINISTIC_OPS"] = env
        if restore_generators:
            tf.random.set_seed(tf_seed)
            random.setstate(python_state)
            np.random.set_state(numpy_state)
            global_state.set_global_attribute("global_seed_generator", generator)
            if generator is not None:
                generator.state.assign(generator_state)


class KeptRandomStateMixin(_WrapperBase):
    """Builds and trains a scikeras network inside :func:`random_state_kept`.

    scikeras seeds both steps itself when ``random_state`` is set; this puts
    a correct save-and-restore around its (see the module docstring).
    """

    def _build_keras_model(self) -> Any:
        with random_state_kept(self._random_state):
            return super()._build_keras_model()

    def _fit_keras_model(self, *args: Any, **kwargs: Any) -> Any:
        with random_state_kept(self._random_state):
            return super()._fit_keras_model(*args, **kwargs)
