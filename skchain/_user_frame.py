"""Warnings that point at the user's line, not at the library that issued them.

Python's default filter shows a warning once per *location*; a location
inside skchain or scikit-learn means one warning per process whatever the
user's code does, and a file name the user cannot act on. :func:`warn_at_user`
gives ``warnings.warn`` the stack level of the first frame outside skchain,
scikit-learn, scikeras, Keras, TensorFlow and joblib (Python 3.12's
``skip_file_prefixes``, by hand for 3.11).
"""

import os
import sys
import warnings
from types import FrameType


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
    """``warnings.warn(message, category)`` located at the user's line."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
