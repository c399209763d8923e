"""tim3check against SPIN on the same model: the ratio of wall time, CPU time and memory.

A script, not a test. For each size ``UxK`` (default ``3x2,2x3``: minutes each; ``--sizes
2x2`` for a quick look) it runs, in this one run and one after the other:

* SPIN: ``gen_tim3.py`` of ``../shared/bench/spin/`` writes the Promela model (coordinator
  v3 by default, the default scenario), ``spin -a`` and ``gcc`` build ``pan`` as
  ``compare.sh`` does (``-DSAFETY -DNOREDUCE``), then ``pan`` runs (compile time apart);
* tim3check, this checkout (``python -m checker check``, every property checked), once per
  ``--mode`` (default: ``symmetry``; also ``no-symmetry``, whose state count must equal
  pan's; then any other options, e.g. ``--mode "symmetry --max-faults 0"``).

Every process is measured by ``os.wait4``: wall time, CPU time (user + system, of the
process and the children it waited for) and peak resident memory (the largest single
process). The machine is shared,
so each measurement is repeated ``--repeat`` times and the least wall time is shown with
its CPU time and memory; the ratios are tim3check / pan on those figures.

    python bench/bench_spin.py [--sizes 3x2,2x3] [--version v3] [--repeat 1] [--mode "no-symmetry"] [--spin-dir DIR]
    python bench/bench_spin.py --compare-sh --sizes 2x2

``--compare-sh`` runs ``../shared/bench/spin/compare.sh`` itself instead, unchanged, for each
size (it checks tim3check with and without symmetry through the ``tim3check`` on PATH, so
the unreduced run makes it slow beyond 2x2), prints its lines and the ratios from them.

Needs ``spin`` and ``gcc`` (``apt-get install -y spin gcc``); says so and exits 2 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """One measured process: what it found and what it cost."""

    states: int
    transitions: int
    wall: float
    cpu: float
    rss_mb: float
    note: str


def spin_dir(given: str | None) -> Path:
    """The directory holding ``gen_tim3.py``: ``--spin-dir``, else ``shared/bench/spin`` next
    to an ancestor of this checkout, else ``/work/shared/bench/spin``."""
    if given:
        return Path(given)
    for up in ROOT.parents:
        cand = up / "shared" / "bench" / "spin"
        if (cand / "gen_tim3.py").is_file():
            return cand
    return Path("/work/shared/bench/spin")


def measured(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, float, float, float]:
    """Run ``cmd``; (exit status, stdout, wall s, CPU s, peak RSS MB) through ``os.wait4``."""
    out_path = cwd / f"stdout.{os.getpid()}.{time.monotonic_ns()}"
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text()
    out_path.unlink()
    return proc.returncode, text, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def build_pan(gen: Path, version: str, users: int, ops: int, work: Path) -> float:
    """Write the Promela model and compile ``pan`` in ``work``; the seconds it took."""
    start = time.perf_counter()
    model = subprocess.run([sys.executable, str(gen), "--version", version, "--users", str(users), "--ops", str(ops)],
                           check=True, capture_output=True, text=True).stdout
    (work / "model.pml").write_text(model)
    subprocess.run(["spin", "-a", "model.pml"], cwd=work, check=True, capture_output=True)
    subprocess.run(["gcc", "-O2", "-DSAFETY", "-DNOREDUCE", "-DMEMLIM=20000", "-o", "pan", "pan.c"], cwd=work,
                   check=True, capture_output=True)
    return time.perf_counter() - start


def run_pan(users: int, ops: int, work: Path) -> Run:
    """One run of the compiled ``pan`` (hash table sized as ``compare.sh`` sizes it)."""
    width = 26 if users * ops >= 5 else 20
    _, out, wall, cpu, rss = measured(["./pan", "-m100000", f"-w{width}"], work)
    lines = out.splitlines()
    # pan prints large counts in exponent notation (2.6198073e+07)
    states = next(round(float(ln.split()[0])) for ln in lines if "states, stored" in ln)
    transitions = next(round(float(ln.split()[0])) for ln in lines if "transitions (" in ln)
    errors = next((ln.split("errors:")[1].split()[0] for ln in lines if "errors:" in ln), "?")
    return Run(states, transitions, wall, cpu, rss, f"errors {errors}")


def run_tim3check(version: str, users: int, ops: int, mode: str, work: Path) -> Run:
    """One ``python -m checker check`` of this checkout (JSON verdicts; nothing saved)."""
    extra = mode.split()
    flags = ["--symmetry" if extra[0] == "symmetry" else "--no-symmetry"] + extra[1:]
    cmd = [sys.executable, "-m", "checker", "check", "--coordinator", version, "--users", str(users), "--ops", str(ops),
           *flags, "--no-save", "--quiet", "--format", "json"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code, out, wall, cpu, rss = measured(cmd, work, env)
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        return Run(0, 0, wall, cpu, rss, f"exit {code}, no JSON output")
    verdicts = sorted({r["verdict"] for r in data["results"]})
    s = data["stats"]
    return Run(s["states"], s["transitions"], wall, cpu, rss,
               f"exit {code}; verdicts {', '.join(verdicts)}; {s.get('explorer') or 'explorer not said'}")


def clock_seconds(text: str) -> float:
    """``/usr/bin/time``'s elapsed time (``m:ss.ss`` or ``h:mm:ss``) in seconds."""
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def compare_sh(script: Path, version: str, users: int, ops: int) -> None:
    """Run ``compare.sh`` unchanged; print its lines and tim3check/pan ratios of wall and MB."""
    done = subprocess.run(["bash", str(script), version, str(users), str(ops)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        print(f"compare.sh exited {done.returncode}: {done.stderr.strip()[-400:]}")
        return
    rows = []
    for line in done.stdout.splitlines():
        print(line)
        words = line.split()
        if "wall" in words and "rss_mb" in words:
            rows.append((words[0], " ".join(words[1:4]) if words[0] == "tim3check" else "",
                         clock_seconds(words[words.index("wall") + 1]), float(words[words.index("rss_mb") + 1])))
    pan = next((r for r in rows if r[0] == "spin"), None)
    for tool, mode, wall, mb in rows:
        if pan is not None and tool == "tim3check" and pan[2] > 0 and pan[3] > 0:
            print(f"  ratio tim3check/pan ({mode}): wall {wall / pan[2]:.2f}, MB {mb / pan[3]:.2f}")


def best(runs: list[Run]) -> Run:
    """The run with the least wall time (the least disturbed by other load)."""
    return min(runs, key=lambda r: r.wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="3x2,2x3", help="comma list of USERSxOPS (default 3x2,2x3; 2x2 is quick)")
    ap.add_argument("--version", default="v3", choices=("v1", "v3"), help="coordinator version (default v3)")
    ap.add_argument("--repeat", type=int, default=1, help="measurements per tool and size (least wall time shown)")
    ap.add_argument("--mode", action="append", default=None,
                    help="tim3check mode: symmetry or no-symmetry, then any extra options (repeatable)")
    ap.add_argument("--spin-dir", default=None, help="directory of gen_tim3.py (default: shared/bench/spin)")
    ap.add_argument("--compare-sh", action="store_true",
                    help="run the shared compare.sh unchanged for each size (tim3check from PATH; slow beyond 2x2)")
    args = ap.parse_args()
    if shutil.which("spin") is None or shutil.which("gcc") is None:
        print("bench_spin: needs spin and gcc on PATH: apt-get install -y spin gcc")
        sys.exit(2)
    gen = spin_dir(args.spin_dir) / "gen_tim3.py"
    if not gen.is_file():
        print(f"bench_spin: {gen} not found; pass --spin-dir DIR (the directory of gen_tim3.py)")
        sys.exit(2)
    modes = args.mode or ["symmetry"]
    sizes = [tuple(int(x) for x in s.lower().split("x")) for s in args.sizes.split(",")]
    if args.compare_sh:
        if shutil.which("tim3check") is None:
            print("bench_spin: compare.sh needs tim3check on PATH: pip install -e .")
            sys.exit(2)
        for users, ops in sizes:
            compare_sh(gen.parent / "compare.sh", args.version, users, ops)
        return
    print(f"coordinator {args.version}, default scenario, all properties; best of {args.repeat} by wall time; "
          f"load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    head = f"{'size':<6}{'tool':<40}{'states':>12}{'wall s':>9}{'CPU s':>9}{'MB':>8}  note"
    print(head)
    for users, ops in sizes:
        with tempfile.TemporaryDirectory(prefix="bench_spin.") as tmp:
            work = Path(tmp)
            compile_s = build_pan(gen, args.version, users, ops, work)
            pan = best([run_pan(users, ops, work) for _ in range(args.repeat)])
            size = f"{users}x{ops}"
            print(f"{size:<6}{'spin pan (-DNOREDUCE)':<40}{pan.states:>12,}{pan.wall:>9.1f}{pan.cpu:>9.1f}"
                  f"{pan.rss_mb:>8.0f}  {pan.note}; compile {compile_s:.1f} s apart")
            for mode in modes:
                t = best([run_tim3check(args.version, users, ops, mode, work) for _ in range(args.repeat)])
                same = "" if mode.split()[0] != "no-symmetry" else (
                    "; states = pan's" if t.states == pan.states else f"; STATES DIFFER FROM PAN'S ({pan.states:,})")
                print(f"{size:<6}{'tim3check ' + mode:<40}{t.states:>12,}{t.wall:>9.1f}{t.cpu:>9.1f}{t.rss_mb:>8.0f}"
                      f"  {t.note}{same}")
                print(f"{'':<6}{'  ratio tim3check/pan':<40}{'':>12}{t.wall / pan.wall:>9.2f}{t.cpu / pan.cpu:>9.2f}"
                      f"{t.rss_mb / pan.rss_mb:>8.2f}  (targets: 3x2 wall ≤ 0.5, MB ≤ 0.25; 2x3 wall ≤ 1)")


if __name__ == "__main__":
    main()
