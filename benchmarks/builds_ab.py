"""Interleaved A/B timing of two or more builds of fastlasso on the benchmark problems.

Each build is an installed copy of the package in a directory of its own (for instance
``pip install --no-deps --target DIR fastlasso-*.whl``, one wheel per commit). Each
build runs in a worker process of its own, with that directory first on PYTHONPATH,
started once (imports paid once, the same process pattern for every side). For every
problem and round the workers run in turn (rounds alternate the order: A B, B A, A B,
...), so that load from other jobs hits every side alike. A worker times, in CPU time
of its own process (single-threaded BLAS and kernels), a Lasso fit at alpha_max/100
and a 100-alpha lasso_path down to 1e-3 alpha_max on the problem without intercept
(benchmarks/problems.py ``path_problem``), both at tol 1e-6, each repeated while under
0.5 s (best of at most 50), and reports the epochs (``n_iter_``, summed over the path)
and a hash of the coefficients. Only public entry points are called, so any build of
the package can be measured.

The report gives, per cell, the best time of each side over the rounds, the ratio of
each side to the first, the epochs of each side, whether the coefficients are
bit-identical to the first side's, and the geometric mean of the ratios.

    python benchmarks/builds_ab.py --side before=DIR_A --side after=DIR_B \
        [--data ../shared/data] [--rounds 5] [--problems wide,tall,...]

Workers must import a fastlasso that is not the current environment's: with an
editable install of the package in this environment, run the script from an
environment without it (whose own site-packages hold numpy, scipy, scikit-learn).
"""

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-6
REPEAT_BELOW = 0.5  # s: a cell is repeated while its total time is under this
MAX_REPEATS = 50


def _problem(name, data_dir):
    import problems

    base, _, size = name.partition(":")
    size = size or "quick"
    if base in problems.REAL_SETS:
        return problems.real_problem(data_dir, base, size)
    return problems.synthetic_problems(base, size)[0]


def _best_cpu(fn):
    times, out = [], None
    while not times or (sum(times) < REPEAT_BELOW and len(times) < MAX_REPEATS):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return min(times), out


def _digest(*arrays):
    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()[:12]


def worker(data_dir):
    """Read problem names from stdin, one a line; for each, time its cells in this
    process and print one JSON line."""
    import warnings

    warnings.simplefilter("ignore")
    for line in sys.stdin:
        print(json.dumps(_cells(line.strip(), data_dir)), flush=True)


def _cells(name, data_dir):
    import numpy as np
    import problems

    import fastlasso

    prob = _problem(name, data_dir)
    X, y = prob.X, prob.y
    amax = problems.alpha_max(X, y, prob.fit_intercept)
    pp = problems.path_problem(prob)
    out = {"fastlasso": os.path.dirname(fastlasso.__file__)}
    t, est = _best_cpu(lambda: fastlasso.Lasso(alpha=amax / 100, tol=TOL).fit(X, y))
    out["fit"] = [t, int(est.n_iter_), _digest(est.coef_, est.intercept_)]
    t, res = _best_cpu(lambda: fastlasso.lasso_path(
        pp.X, pp.y, eps=1e-3, n_alphas=100, tol=TOL, return_n_iter=True))
    alphas, coefs, _, n_iter = res
    out["path"] = [t, int(np.sum(n_iter)), _digest(alphas, coefs)]
    return out


class Worker:
    """A worker process (``worker``) importing the fastlasso of ``directory``."""

    def __init__(self, directory, data_dir):
        self.directory = directory
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([directory, HERE]))
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        cmd = [sys.executable, os.path.abspath(__file__), "--worker"]
        if data_dir:
            cmd += ["--data", data_dir]
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self, name):
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker of {self.directory} died on {name}")
        out = json.loads(line)
        where = os.path.realpath(out["fastlasso"])
        if not where.startswith(os.path.realpath(self.directory)):
            raise RuntimeError(f"the worker imported {where}, not {self.directory}")
        return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", action="append", default=[], metavar="NAME=DIR",
                    help="a build: its name and the directory holding its fastlasso")
    ap.add_argument("--data", help="directory of the real data sets (.npz)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--problems", default="wide,wide:full,tall,text,leukemia,"
                    "riboflavin,debian_desc:quick",
                    help="synthetic or real set names, ':full'/':quick' for a size")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.data)
    sides = [s.split("=", 1) for s in args.side]
    if len(sides) < 2:
        ap.error("give at least two --side NAME=DIR")
    names = [n for n, _ in sides]
    t_start = time.monotonic()
    load0 = os.getloadavg()[0]
    workers = {n: Worker(d, args.data) for n, d in sides}
    raw = {}
    for prob in args.problems.split(","):
        runs = {n: [] for n in names}
        for r in range(args.rounds):
            for n in names if r % 2 == 0 else names[::-1]:
                runs[n].append(workers[n].run(prob))
        raw[prob] = runs
        print(f"# {prob} done ({time.monotonic() - t_start:.0f} s, "
              f"load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    for w in workers.values():
        w.close()
    load1 = os.getloadavg()[0]
    head = ["problem", "cell"] + [f"{n} (s)" for n in names]
    head += [f"{n}/{names[0]}" for n in names[1:]] + ["epochs", "same coef"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ratios = {n: [] for n in names[1:]}
    for prob, runs in raw.items():
        for cell in ("fit", "path"):
            best = {n: min(o[cell][0] for o in runs[n]) for n in names}
            epochs = {n: sorted({o[cell][1] for o in runs[n]}) for n in names}
            coef = {n: {o[cell][2] for o in runs[n]} for n in names}
            row = [prob, cell] + [f"{best[n]:.4f}" for n in names]
            for n in names[1:]:
                r = best[n] / best[names[0]]
                ratios[n].append(r)
                row.append(f"{r:.3f}")
            row.append(" / ".join(",".join(map(str, epochs[n])) for n in names))
            row.append(" / ".join("yes" if coef[n] == coef[names[0]] else "no"
                                  for n in names[1:]))
            lines.append("| " + " | ".join(row) + " |")
    print("\n".join(lines))
    for n, rs in ratios.items():
        gm = math.exp(sum(math.log(r) for r in rs) / len(rs))
        print(f"\n{n}/{names[0]}: geometric mean {gm:.3f} over {len(rs)} cells "
              f"(min {min(rs):.3f}, max {max(rs):.3f})")
    print(f"\n{args.rounds} rounds, CPU time, best per side; load average "
          f"{load0:.1f} at the start, {load1:.1f} at the end; "
          f"{time.monotonic() - t_start:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f)


if __name__ == "__main__":
    main()
