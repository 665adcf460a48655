"""CLI start-up: wall time of `sextant --help`, `token` and `check --offline`, min of 5 runs.

Baselines measured in the same run: the bare interpreter (`python -c pass`) and a bare Typer
program with one command (what any Typer CLI pays). Targets (issue 15): --help and token under
0.3 s, check --offline under 1 s.

    .venv/bin/python benchmarks/cli_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sextant.demo.setup import prepare_demo

SECRET = "k" * 32
BARE_TYPER = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "x") -> None:
    print(name)
app()
"""


def best(command: list[str], runs: int, env: dict[str, str], cwd: Path) -> float:
    """The fastest of ``runs`` complete runs (start-up noise only ever adds time)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sextant = str(Path(sys.executable).with_name("sextant"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    env.update(SEXTANT_ENV_FILE="", SEXTANT_JWT_SECRET=SECRET)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo = prepare_demo(folder / "demo")
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "bare Typer command": ([sys.executable, "-c", BARE_TYPER, "--name", "y"], None),
            "sextant --help": ([sextant, "--help"], 0.3),
            "sextant token": ([sextant, "token", "--email", "a@example.com"], 0.3),
            "sextant check --offline": ([sextant, "check", str(demo.model), "--offline"], 1.0),
        }
        figures = {name: best(cmd, args.runs, env, folder) for name, (cmd, _) in cases.items()}
    bare = figures["bare Typer command"]
    print(f"{'command':<26}{'min of ' + str(args.runs):>12}{'target':>9}{'vs bare Typer':>15}")
    for name, (_, target) in cases.items():
        shown = f"{target:.1f} s" if target else ""
        print(f"{name:<26}{figures[name]:>10.3f} s{shown:>9}{figures[name] / bare:>14.2f}x")


if __name__ == "__main__":
    main()
