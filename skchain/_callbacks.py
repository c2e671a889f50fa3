"""scikit-learn's callback API (``sklearn.callback``) for the Keras-backed estimators.

scikit-learn 1.9 lets a user attach callbacks (``ProgressBar``,
``ScoringMonitor`` or their own) to an estimator with ``set_callbacks``; an
iterative estimator reports each iteration as a sub-task of its ``fit``. Here
an iteration is a Keras epoch: a small Keras callback opens a sub-task when an
epoch begins and closes it when it ends, and stops training when a
scikit-learn callback asks for it.
"""

import keras
from sklearn.callback import CallbackSupportMixin


class _EpochTasks(keras.callbacks.Callback):
    """Reports each Keras epoch as a sub-task of the estimator's ``fit`` context."""

    # Only epoch hooks, called in order by Keras: batches may stay asynchronous
    # (a callback without this flag makes Keras wait on every batch, ~7% of a fit).
    async_safe = True

    def __init__(self, estimator, context, X, y):
        super().__init__()
        self.estimator, self.context, self.X, self.y = estimator, context, X, y
        self.task = None

    def on_epoch_begin(self, epoch, logs=None):
        self.task = self.context.subcontext(task_name=f"epoch {epoch + 1}")
        self.task.call_on_fit_task_begin(estimator=self.estimator, X=self.X, y=self.y)

    def on_epoch_end(self, epoch, logs=None):
        stop = self.task.call_on_fit_task_end(
            estimator=self.estimator, X=self.X, y=self.y,
            metadata={"epoch": epoch + 1, "logs": dict(logs or {})},
        )
        if stop:
            self.model.stop_training = True


class EpochCallbacksMixin(CallbackSupportMixin):
    """``set_callbacks`` for a scikeras wrapper: ``fit`` is the task, each epoch a sub-task."""

    def _fit_with_callbacks(self, fit, X, y):
        context = self._init_callback_context(task_name="fit", max_subtasks=int(self.epochs))
        context.call_on_fit_task_begin(estimator=self, X=X, y=y)
        # No Keras callback at all when no scikit-learn callback listens.
        if getattr(context, "_callbacks", True):
            self._epoch_tasks = _EpochTasks(self, context, X, y)
        try:
            fit()
        finally:
            self.__dict__.pop("_epoch_tasks", None)
            self._fit_callbacks = [
                c for c in getattr(self, "_fit_callbacks", []) if not isinstance(c, _EpochTasks)
            ]
        context.call_on_fit_task_end(estimator=self, X=X, y=y)

    def _initialize_callbacks(self):
        super()._initialize_callbacks()
        tasks = getattr(self, "_epoch_tasks", None)
        if tasks is not None:
            self._fit_callbacks = [*self._fit_callbacks, tasks]
