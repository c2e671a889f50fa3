"""The one format in which every benchmark script reports its targets.

Each script states its targets in a module-level ``TARGETS`` dict literal,
``{name: (op, bound, unit)}``, used both for the check and for the printed
line; ``tests/test_benchmark_targets.py`` compares these literals with the
table in ``benchmarks/README.md`` and ``benchmarks/run_all.py`` collects the
printed lines into the README's summary. A line reads::

    target: <name>: <measured><unit> (target <op> <bound><unit>): met
    target: <name>: <measured><unit> (target <op> <bound><unit>): NOT met

This module imports nothing heavy, so the scripts import it before TensorFlow
and the tests without it.
"""

import operator
import re

OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}
PREFIX = "target: "
LINE = re.compile(
    r"^target: (?P<name>.+?): (?P<measured>\S+?) \(target (?P<op><=|>=|<|>|==) (?P<bound>\S+?)\):"
    r" (?P<verdict>met|NOT met)(?P<note>.*)$"
)


def met(measured, op, bound):
    """Whether ``measured <op> bound`` holds."""
    return bool(OPS[op](measured, bound))


def format_value(value, unit):
    """``value`` with its unit: ``1.23x``, ``4.0%`` (``value`` a fraction), ``250ms``."""
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "x":
        return f"{value:.3f}x" if abs(value) < 0.1 else f"{value:.2f}x"
    if unit == "+x":
        return f"{value:+.2f}x"
    # four significant digits, never in exponent form (1.235e+04 would not parse back)
    text = f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return f"{text}{unit or ''}"


def format_bound(bound, unit):
    """The bound as the README's table writes it: ``2x``, ``5%``, ``300ms``."""
    if unit == "%":
        return f"{bound * 100:g}%"
    if unit == "+x":
        return f"{bound:+g}x"
    return f"{bound:g}{unit or ''}"


def line(name, measured, op, bound, unit="x", note=""):
    """The target line for ``name`` (see the module docstring)."""
    verdict = "met" if met(measured, op, bound) else "NOT met"
    text = (
        f"{PREFIX}{name}: {format_value(measured, unit)}"
        f" (target {op} {format_bound(bound, unit)}): {verdict}"
    )
    return f"{text} {note}".rstrip() if note else text


def report(name, measured, op, bound, unit="x", note=""):
    """Print the target line for ``name`` and return whether the target is met."""
    print(line(name, measured, op, bound, unit, note), flush=True)
    return met(measured, op, bound)


def report_target(targets, name, measured, note=""):
    """``report`` for the entry ``name`` of a script's ``TARGETS`` dict."""
    op, bound, unit = targets[name]
    return report(name, measured, op, bound, unit, note)


def parse(text):
    """The target lines in ``text``: a list of dicts (name, measured, op, bound, verdict, note)."""
    found = []
    for raw in text.splitlines():
        match = LINE.match(raw.strip())
        if match:
            found.append({key: value.strip() for key, value in match.groupdict().items()})
    return found


def script_targets(path):
    """The ``TARGETS`` dict of the script at ``path``, read with ``ast`` (nothing is run).

    Module-level assignments to upper-case names are evaluated in order, without
    builtins, from literals and the names assigned before them; ``{}`` when the
    script has no ``TARGETS``.
    """
    import ast
    from pathlib import Path

    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    namespace = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        names = [target.id for target in node.targets if isinstance(target, ast.Name)]
        if len(names) != len(node.targets) or not all(name.isupper() for name in names):
            continue
        try:
            value = eval(  # noqa: S307  (literals and earlier constants only, no builtins)
                compile(ast.Expression(node.value), str(path), "eval"),
                {"__builtins__": {}},
                namespace,
            )
        except Exception:  # noqa: BLE001  (not a constant: a call, a comprehension, ...)
            continue
        for name in names:
            namespace[name] = value
    return namespace.get("TARGETS", {})


def table_row(script, name, op, bound, unit):
    """One row of the README's target table."""
    return f"| `{script}` | {name} | {op} {format_bound(bound, unit)} |"
