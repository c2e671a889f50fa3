"""Sphinx configuration of skchain's documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The build is offline: nothing is downloaded (no intersphinx), and the
gallery runs every script of ``examples/`` in its fast mode.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "agg")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "sphinxext"))

import skchain  # noqa: E402

# -- Project -----------------------------------------------------------------

project = "skchain"
author = "skchain developers"
copyright = "skchain developers"
version = release = skchain.__version__

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "sphinxext",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
]
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc, autosummary, numpydoc -------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"
autodoc_inherit_docstrings = True

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# -- MyST (the user guide) ----------------------------------------------------

myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# -- sphinx-gallery (examples/) ------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # run every script, not only those named plot_*
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"__init__\.py",
    "reset_argv": "skchain_gallery.reset_argv",
    "matplotlib_animations": False,
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
    "show_signature": False,
    "capture_repr": (),
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML ---------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skchain {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 5,
}
html_static_path = []
html_show_sourcelink = False


# -- Members inherited from scikit-learn and Keras -----------------------------
# Methods that scikit-learn's base classes and mixins give every estimator
# (get_params, set_output, set_fit_request, ...), those a Chain inherits from
# Pipeline and those a layer inherits from keras.Layer are documented by
# scikit-learn and Keras; their docstrings refer to those projects' own pages
# (which an offline build cannot link to) or are written in Markdown.


_DOCUMENTED_ELSEWHERE = ("sklearn.", "keras.", "tensorflow.", "builtins")


def _skip_member_documented_elsewhere(app, what, name, obj, skip, options):
    if what != "class":
        return None
    function = getattr(obj, "fget", None) or getattr(obj, "func", None) or obj
    module = getattr(function, "__module__", None) or ""
    return True if module.startswith(_DOCUMENTED_ELSEWHERE) else None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member_documented_elsewhere)
