"""Orders in which benchmark paths take turns, so that none is favoured by its neighbour,
and the per-round ratios they give.

Imports nothing heavy: ``tests/test_benchmark_targets.py`` tests it without TensorFlow.
"""


def balanced_orders(n):
    """The rows of a Williams design for ``n`` paths: lists of ``0 .. n - 1``.

    Over the rows, every path comes right after every other path equally often
    (once each for an even ``n``, with ``n`` rows; twice for an odd one, with
    ``2 n`` rows, the mirrored rows added) and in every position equally often.
    Rotating one fixed order instead keeps each path after the same neighbour
    in every round: one that leaves the caches cold (a heavy path) then slows
    the same path every time.

    E. J. Williams (1949), "Experimental designs balanced for the estimation
    of residual effects of treatments", Australian Journal of Scientific
    Research, Series A, 2(2), 149-168.
    """
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        first.append(low if len(first) % 2 else high)
        if len(first) % 2 == 0:
            low += 1
        else:
            high -= 1
    rows = [[(item + shift) % n for item in first] for shift in range(n)]
    return rows + [row[::-1] for row in rows] if n % 2 else rows


def call_sequence(n, rounds):
    """The calls of ``rounds`` rounds of ``n`` paths, in order: ``(path, timed)`` pairs.

    Round ``r`` is row ``r`` of :func:`balanced_orders` (cyclically), led by an
    untimed call of its first path (on inputs of its own): without it, the
    last path of one round would always precede the first of the next, and
    the rounds' boundaries would put some paths after the same neighbour more
    often than others. With it, over whole cycles of rows (``rounds`` a
    multiple of ``len(balanced_orders(n))``), every timed call of a path comes
    right after each path, itself included, equally often.
    """
    orders = balanced_orders(n)
    calls = []
    for round_ in range(rounds):
        row = orders[round_ % len(orders)]
        calls.append((row[0], False))
        calls += [(path, True) for path in row]
    return calls


def round_ratios_line(times, reference_times):
    """``per round: median ..x, from ..x to ..x``: each round's time over the reference's."""
    ratios = sorted(t / r for t, r in zip(times, reference_times, strict=True))
    middle = len(ratios) // 2
    median = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    return f"per round: median {median:.2f}x, from {ratios[0]:.2f}x to {ratios[-1]:.2f}x"
