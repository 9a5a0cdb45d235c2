"""How long `./dev.sh` takes to give a fresh checkout its environment, locked versions and all.

A newcomer's first command and every CI run pay this before a single test runs. Two ways of
installing exactly the locked set are timed on a copy of this checkout, each from a cold
package cache (as on a new machine: everything downloaded) and a warm one (a second checkout
on the same machine):

- **uv sync --locked**: what `./dev.sh` does, with the uv it pins;
- **pip --require-hashes**: a venv and pip installing the same set, exported from uv.lock with
  its hashes, then corral itself in editable mode: the pip-tools way, for comparison.

Each way starts from no venv; runs alternate between the ways, so a slow moment of the network
hurts both alike. The cold runs use a new, empty cache folder each time.

Run: .venv/bin/python bench/bench_setup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".uv" / "bin" / "uv"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


def checkout_copy(into: Path) -> Path:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def run(argv: list[str | Path], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run([str(a) for a in argv], cwd=cwd, env=env, check=True, capture_output=True)


def uv_sync(checkout: Path, cache: Path) -> None:
    env = os.environ | {"UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}
    run([UV, "sync", "--locked", "--quiet", "--python", BASE_PYTHON], checkout, env)


def pip_hashed(checkout: Path, cache: Path) -> None:
    env = os.environ | {
        "PIP_CACHE_DIR": str(cache),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "UV_CACHE_DIR": str(cache / "uv"),
    }
    requirements = checkout / "requirements.txt"
    run(
        [UV, "export", "--frozen", "--no-emit-project", "--quiet", "-o", requirements],
        checkout,
        env,
    )
    run([BASE_PYTHON, "-m", "venv", ".venv"], checkout, env)
    pip = checkout / ".venv" / "bin" / "pip"
    run([pip, "install", "--quiet", "--require-hashes", "-r", requirements], checkout, env)
    run([pip, "install", "--quiet", "--no-deps", "-e", "."], checkout, env)


WAYS: dict[str, Callable[[Path, Path], None]] = {
    "uv sync --locked": uv_sync,
    "pip --require-hashes": pip_hashed,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not UV.exists():
        sys.exit("run ./dev.sh test once first: it puts the pinned uv into ./.uv")
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="corral-bench-setup-") as scratch:
        top = Path(scratch)
        warm = {name: top / f"warm-{index}" for index, name in enumerate(WAYS)}
        for run_number in range(args.runs + 1):
            for cache_kind in ("cold", "warm"):
                for index, (name, way) in enumerate(WAYS.items()):
                    checkout = checkout_copy(top / f"checkout-{run_number}-{cache_kind}-{index}")
                    cache = (
                        warm[name] if cache_kind == "warm" else top / f"cold-{run_number}-{index}"
                    )
                    started = time.perf_counter()
                    way(checkout, cache)
                    took = time.perf_counter() - started
                    shutil.rmtree(checkout)
                    if cache_kind == "cold":
                        shutil.rmtree(cache)
                    if run_number:  # the first round only fills the warm caches
                        times.setdefault((name, cache_kind), []).append(took)
    print("| way | cache | median s | min s | max s | runs |\n|---|---|---|---|---|---|")
    for (name, cache_kind), values in times.items():
        print(
            f"| {name} | {cache_kind} | {statistics.median(values):.1f} | {min(values):.1f} "
            f"| {max(values):.1f} | {len(values)} |"
        )


if __name__ == "__main__":
    main()
