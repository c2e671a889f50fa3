"""``python -m skchain`` and the ``skchain`` console script: see :mod:`skchain.demo`."""

import contextlib
import os
import sys


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to the null device for the block.

    TensorFlow's C++ start-up lines (``All log messages before
    absl::InitializeLog() ...``, ``oneDNN custom operations are on ...``,
    CPU-feature notes) are written before its logging reads
    ``TF_CPP_MIN_LOG_LEVEL``; only the command line silences them, the
    library never touches the user's streams or logging.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def main(argv=None):
    """Run the command line (``skchain demo [--fast] [--output DIR] [--bad-data]``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    from skchain.demo import main as demo_main

    return demo_main(argv)


if __name__ == "__main__":
    sys.exit(main())
