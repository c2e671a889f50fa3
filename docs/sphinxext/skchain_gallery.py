"""Command-line arguments for the gallery's examples during the docs build.

Every script in ``examples/`` runs in its fast mode (``--fast``) while the
gallery is built; a script that writes a figure (``--output DIR``) writes it
to a temporary folder, since sphinx-gallery shows the figure from the open
matplotlib figures anyway.
"""

import atexit
import shutil
import tempfile
from pathlib import Path

_OUTPUT = None


def _output_dir():
    global _OUTPUT
    if _OUTPUT is None:
        _OUTPUT = tempfile.mkdtemp(prefix="skchain-docs-")
        atexit.register(shutil.rmtree, _OUTPUT, ignore_errors=True)
    return _OUTPUT


def reset_argv(gallery_conf, script_vars):
    """``sys.argv[1:]`` for one example: ``--fast``, and ``--output`` if it takes one."""
    argv = ["--fast"]
    if '"--output"' in Path(script_vars["src_file"]).read_text(encoding="utf-8"):
        argv += ["--output", _output_dir()]
    return argv
