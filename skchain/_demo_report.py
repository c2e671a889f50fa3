"""What the demo prints and draws: its search's progress, its verdicts, its figures.

:class:`SearchProgress` reports each fit of the demo's grid search,
:func:`shift_sentence` and :func:`leakage_sentence` put the drift and
leakage verdicts of dataset B against A in words, and :func:`write_figures`
draws the training curves and the drift picture. :mod:`skchain.demo` (the
data, network A and the runs) re-exports them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from .leakage import LeakageTestResult
    from .preprocessor import KerasTransformer


class SearchProgress:
    """A scorer (R², as the search's default) that also reports each finished fit.

    GridSearchCV calls its scorer once per candidate and fold, right after the
    fit (in this process: the demo runs the search with ``n_jobs=None``), so the
    demo can say how far the search is and about how long is left.
    """

    def __init__(self, candidates: int, folds: int, out: Callable[[str], object]) -> None:
        self.total = candidates * folds
        self.candidates, self.folds, self.out = candidates, folds, out
        self.done = 0
        self.start: float | None = None

    def announce(self) -> None:
        """Say what the search will do; the clock starts here."""
        self.start = time.perf_counter()
        self.out(
            f"grid search: {self.candidates} candidates x {self.folds} folds ="
            f" {self.total} fits of the chain, then the best one refitted ..."
        )

    def __call__(self, estimator: Any, X: Any, y: Any) -> float:
        from sklearn.metrics import r2_score

        assert self.start is not None  # announce() starts the clock before the search
        self.done += 1
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done)
        self.out(
            f"  search: fit {self.done} of {self.total} done after {elapsed:.0f} s"
            f" (about {left:.0f} s left)"
        )
        return r2_score(y, estimator.predict(X))


def shift_sentence(report: pd.DataFrame, alpha: float) -> str:
    """The drift verdict of a shift report as a sentence."""
    flagged = report[report["adjusted_p"] <= alpha]
    head = "shift check (B's pixels and network A's outputs against A's):"
    if flagged.empty:
        return (
            f"{head} clean: no feature differs from A (smallest adjusted p ="
            f" {report['adjusted_p'].min():.2g}; alarm at {alpha:g})"
        )
    names = ", ".join(flagged["feature"].astype(str).head(5))
    return (
        f"{head} SHIFTED: {len(flagged)} tests at or below {alpha:g} (adjusted p ="
        f" {flagged['adjusted_p'].iloc[0]:.2g}); worst: {names}"
    )


def leakage_sentence(test: LeakageTestResult, alpha: float) -> str:
    """The leakage verdict (:func:`skchain.leakage.leakage_test`'s result) as a sentence."""
    verdict = "LEAKED" if test["p_value"] <= alpha else "clean"
    return (
        f"leakage check: {test['matched']} of {test['n_rows']} rows of B hold exactly the"
        f" values of a row of A; about {test['expected']:.1f} would by chance"
        f" (p = {test['p_value']:.2g}; alarm at {alpha:g}): {verdict}"
    )


def write_figures(
    chain: Any, pre: KerasTransformer, X_b_pixels: np.ndarray, output_dir: Path
) -> list[Path]:
    """Training curves and the drift picture as PNG files; [] without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .demo import PIXELS  # demo imports this module
    from .plot import plot_history, plot_shift

    history = output_dir / "history.png"
    plot_history(chain).savefig(history, dpi=100)
    shift = output_dir / "shift.png"
    ax = plot_shift(pre, X_b_pixels, feature_names=PIXELS, top=15)
    figure = ax.get_figure(root=True)
    assert figure is not None  # plot_shift draws on a figure of its own
    figure.tight_layout()
    figure.savefig(shift, dpi=100)
    plt.close("all")
    return [history, shift]
