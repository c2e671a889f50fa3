"""README.md runs as a user runs it: its Python blocks, in order, in one fresh process.

Nothing runs before the blocks. The first block is the user's data (marked
``<!-- readme-test: user data (...) -->``); it runs as written, and then, as
the only step this test adds, the data are cut to small slices so that the
suite stays fast. Blocks marked ``<!-- readme-test: skip (reason) -->`` are
left out, with their reason. The blocks run as the module
``mypackage.networks``, so that the functions the README defines are the ones
its ``skchain.load(..., trusted=["mypackage.networks...."])`` names. On the
README's own clean data no skchain warning may be emitted.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(
    r"(<!-- readme-test: (?P<mark>skip|user data) \((?P<reason>[^)]*)\) -->\n)?"
    r"```python\n(?P<code>.*?)```",
    re.S,
)

# The one step the test adds after the user's data block: smaller slices of the same data.
SLICE = """
X_a, y_a = X_a[:300], y_a[:300]
df_b, y_b = df_b.iloc[:160].reset_index(drop=True), y_b[:160]
"""

DRIVER = textwrap.dedent("""
    import json, sys, types, warnings
    package, module = types.ModuleType("mypackage"), types.ModuleType("mypackage.networks")
    package.networks = module
    sys.modules["mypackage"], sys.modules["mypackage.networks"] = package, module
    namespace = module.__dict__
    blocks = json.loads(sys.stdin.read())
    report = []
    for label, code in blocks:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                exec(compile(code, label, "exec"), namespace)
            except Exception as exc:
                report.append({"block": label, "error": f"{type(exc).__name__}: {exc}"})
                break
        report.append({"block": label, "warnings": [
            f"{w.category.__module__}.{w.category.__name__}: {w.message}" for w in caught
            if w.category.__module__.startswith("skchain") or "skchain" in (w.filename or "")
        ]})
    report.append({"final_prediction_shape": list(namespace["chain"].predict(namespace["df_new"]).shape)})
    print("REPORT " + json.dumps(report))
""")


def _blocks():
    return [(m["code"], m["mark"], m["reason"]) for m in BLOCK.finditer(README.read_text())]


def test_readme_has_the_blocks_this_test_expects():
    blocks = _blocks()
    assert len(blocks) >= 8
    assert [mark for _, mark, _ in blocks].count("skip") == 3  # worker processes, two clusters
    # The user's data come first, and only they.
    assert blocks[0][1] == "user data"
    assert [mark for _, mark, _ in blocks].count("user data") == 1


def test_readme_runs_as_written_in_a_fresh_process(tmp_path):
    blocks = []
    for i, (code, mark, _) in enumerate(_blocks(), start=1):
        if mark == "skip":
            continue
        blocks.append((f"README.md block {i}", code))
        if mark == "user data":
            blocks.append(("test: smaller slices of the user's data", SLICE))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(blocks),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=env,  # the README writes its files here
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT ") :])
    errors = [entry for entry in report if "error" in entry]
    assert not errors, errors
    ran = [entry["block"] for entry in report if "warnings" in entry]
    assert len(ran) == len(blocks)
    warned = {entry["block"]: entry["warnings"] for entry in report if entry.get("warnings")}
    assert not warned, f"skchain warned on the README's clean data: {warned}"
    assert report[-1]["final_prediction_shape"] == [7]
