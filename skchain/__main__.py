"""``python -m skchain`` and the ``skchain`` console script.

``skchain demo [--fast] [--output DIR] [--bad-data]`` runs :mod:`skchain.demo`;
``skchain export MODEL OUT [--format tf_saved_model|onnx] [--trusted NAME ...]``
loads a fitted chain (``joblib.dump``'s file, or ``skchain.save``'s ``.skchain``
file) and writes it as a servable model (see :meth:`skchain.Chain.export`).
"""

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
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


def export_main(argv: Sequence[str]) -> int:
    """``skchain export MODEL OUT [--format ...] [--trusted NAME ...]``."""
    import argparse

    from skchain.serving import FORMATS

    parser = argparse.ArgumentParser(
        prog="skchain export", description="Write a fitted chain as one servable model."
    )
    parser.add_argument("model", help="a fitted chain: joblib file, or a .skchain file")
    parser.add_argument("out", help="SavedModel directory, or .onnx file")
    parser.add_argument("--format", choices=FORMATS, default="tf_saved_model")
    parser.add_argument(
        "--trusted",
        nargs="*",
        default=[],
        help="import paths skchain.load may trust (for .skchain files)",
    )
    args = parser.parse_args(argv)
    if args.model.endswith(".skchain"):
        import skchain

        chain = skchain.load(args.model, trusted=args.trusted)
    else:
        import joblib

        chain = joblib.load(args.model)
    path = chain.export(args.out, format=args.format)
    print(f"wrote {path} ({args.format})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``skchain demo ...`` or ``skchain export ...``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "export":
        return export_main(argv[1:])
    from skchain.demo import main as demo_main

    return demo_main(argv)


if __name__ == "__main__":
    sys.exit(main())
