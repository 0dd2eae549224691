"""Benchmark: ``socscope report`` of a validation folder (target: under 10 s), and the cost of ``import socscope``.

The folder is one written by ``socscope validate xu2022`` (give it with
``--folder``; without it a quick validation is run first into a temporary
folder, which is not timed). The timed part is the whole command in a fresh
Python process: import, detection, reading figures and tables, rendering the
HTML. Prints one JSON line per measurement (median of 3).

    python benchmarks/report_speed.py --folder validation-xu2022/
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", help="a validation folder (default: run 'validate xu2022 --quick' first)")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.folder) if args.folder else Path(tmp) / "validation-xu2022"
        if not args.folder:
            subprocess.run([sys.executable, "-m", "socscope.cli.main", "validate", "xu2022", "--quick", "--quiet",
                            "--out", str(folder)], check=True)
        summary = json.loads((folder / "summary.json").read_text())
        out = Path(tmp) / "report.html"
        cmd = [sys.executable, "-m", "socscope.cli.main", "report", str(folder), "--out", str(out), "--overwrite",
               "--quiet"]
        times = [_timed(cmd) for _ in range(args.repeat)]
        wall = statistics.median(times)
        print(json.dumps({"benchmark": "report_validation", "paper": summary.get("paper"), "mode": summary.get("mode"),
                          "figures": sum(f.endswith(".png") for f in summary.get("files", [])),
                          "rows": summary.get("n_rows"), "html_MB": round(out.stat().st_size / 1e6, 2),
                          "wall_s": round(wall, 2), "target_s": TARGET_S, "meets_target": wall < TARGET_S}))
        code = ("import time, sys; t = time.perf_counter(); import socscope; "
                "print(time.perf_counter() - t, sorted(m for m in ('matplotlib', 'jinja2') if m in sys.modules))")
        runs = [subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split(" ", 1)
                for _ in range(args.repeat)]
        print(json.dumps({"benchmark": "import_socscope", "wall_s": round(statistics.median(float(r[0]) for r in runs), 3),
                          "heavy_modules_loaded": json.loads(runs[0][1].replace("'", '"'))}))


if __name__ == "__main__":
    main()
