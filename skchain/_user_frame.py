"""Warnings that point at the user's line, not at the library that issued them.

Python's default filter shows a warning once per *location*; a location
inside skchain or scikit-learn means one warning per process whatever the
user's code does, and a file name the user cannot act on. :func:`warn_at_user`
gives ``warnings.warn`` the stack level of the first frame outside skchain,
scikit-learn, scikeras, Keras, TensorFlow and joblib (Python 3.12's
``skip_file_prefixes``, by hand for 3.11). :func:`warnings_recorded` keeps what
it issued, to issue again.
"""

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType

# The list :func:`warnings_recorded` collects into, in this thread or task; None: none.
_record: ContextVar[list[tuple[str | Warning, type[Warning]]] | None] = ContextVar(
    "skchain_warnings_recorded", default=None
)


def _library_prefixes() -> tuple[str, ...]:
    prefixes = [os.path.dirname(os.path.abspath(__file__))]
    for name in ("sklearn", "scikeras", "keras", "tensorflow", "joblib"):
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            prefixes.append(os.path.dirname(os.path.abspath(path)))
    return tuple(p + os.sep for p in prefixes)


def user_stacklevel() -> int:
    """``stacklevel`` for a ``warnings.warn`` called by the caller of this function."""
    prefixes = _library_prefixes()
    frame: FrameType | None = sys._getframe(1)  # the function that will call warnings.warn
    level = 1
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(prefixes) and not filename.startswith("<frozen"):
            return level
        frame = frame.f_back
        level += 1
    return 1


def warn_at_user(message: str | Warning, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` located at the user's line (and recorded inside
    :func:`warnings_recorded`)."""
    record = _record.get()
    if record is not None:
        record.append((message, category))
    warnings.warn(message, category, stacklevel=user_stacklevel())


@contextmanager
def warnings_recorded() -> Iterator[list[tuple[str | Warning, type[Warning]]]]:
    """The ``(message, category)`` of each :func:`warn_at_user` inside, which still warns.

    Per thread and task (a context variable), without touching the warnings filters: a
    kept fitted features step says again what its checks said (``_features_cache``).
    """
    record: list[tuple[str | Warning, type[Warning]]] = []
    token = _record.set(record)
    try:
        yield record
    finally:
        _record.reset(token)
