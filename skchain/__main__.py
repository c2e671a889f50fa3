"""``python -m skchain demo``: see :mod:`skchain.demo`."""

import os
import sys

if __name__ == "__main__":
    # TensorFlow's C++ start-up chatter would bury the demo's report.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from skchain.demo import main

    sys.exit(main())
