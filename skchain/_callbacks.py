"""scikit-learn's callback API (``sklearn.callback``) for the Keras-backed estimators.

scikit-learn 1.9 lets a user attach callbacks (``ProgressBar``,
``ScoringMonitor`` or their own) to an estimator with ``set_callbacks``; an
iterative estimator reports each iteration as a sub-task of its ``fit``. Here
an iteration is a Keras epoch: a small Keras callback opens a sub-task when an
epoch begins and closes it when it ends, and stops training when a
scikit-learn callback asks for it.
"""

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
from sklearn.callback import CallbackSupportMixin


@contextlib.contextmanager
def fit_callbacks_added(estimator: Any, callbacks: Sequence[Any]) -> Iterator[None]:
    """scikeras' ``_fit_callbacks`` (what its fit hands ``keras.Model.fit``) with
    ``callbacks`` appended, for the block; put back as they were after it."""
    kept = getattr(estimator, "_fit_callbacks", [])
    estimator._fit_callbacks = [*kept, *callbacks]
    try:
        yield
    finally:
        estimator._fit_callbacks = kept


class _EpochTasks(keras.callbacks.Callback):
    """Reports each Keras epoch as a sub-task of the estimator's ``fit`` context."""

    # Only epoch hooks, called in order by Keras: batches may stay asynchronous
    # (a callback without this flag makes Keras wait on every batch, ~7% of a fit).
    async_safe = True

    def __init__(self, estimator: Any, context: Any, X: Any, y: Any) -> None:
        super().__init__()
        self.estimator, self.context, self.X, self.y = estimator, context, X, y
        self.task: Any = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.task = self.context.subcontext(task_name=f"epoch {epoch + 1}")
        self.task.call_on_fit_task_begin(estimator=self.estimator, X=self.X, y=self.y)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        stop = self.task.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata={"epoch": epoch + 1, "logs": dict(logs or {})},
        )
        if stop:
            self.model.stop_training = True


class EpochCallbacksMixin(CallbackSupportMixin):
    """``set_callbacks`` for a scikeras wrapper: ``fit`` is the task, each epoch a sub-task.

    It also runs the Keras callbacks a ``fit`` call is given (``fit(X, y,
    callbacks=[...])``, which scikeras would drop) with the constructor's.
    """

    def _fit_with_callbacks(self, fit: Callable[[], object], X: Any, y: Any) -> None:
        # The task begins in _fit_keras_model, where the number of epochs of
        # this call (a fit argument, fit__epochs or epochs) is known.
        self._epoch_tasks = (X, y)
        try:
            fit()
        finally:
            self.__dict__.pop("_epoch_tasks", None)
        context = self.__dict__.get("_callback_fit_ctx")
        if context is not None:
            context.call_on_fit_task_end(estimator=self, X=X, y=y)

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
        added = list(kwargs.pop("callbacks", None) or [])
        pending = self.__dict__.pop("_epoch_tasks", None)
        if pending is not None:
            context = self._init_callback_context(task_name="fit", max_subtasks=int(epochs))
            context.call_on_fit_task_begin(estimator=self, X=pending[0], y=pending[1])
            # No Keras callback at all when no scikit-learn callback listens.
            if getattr(context, "_callbacks", True):
                added.append(_EpochTasks(self, context, *pending))
        with fit_callbacks_added(self, added):
            return super()._fit_keras_model(
                X,
                y,
                sample_weight=sample_weight,
                warm_start=warm_start,
                epochs=epochs,
                initial_epoch=initial_epoch,
                **kwargs,
            )
