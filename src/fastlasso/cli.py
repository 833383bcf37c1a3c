"""The ``fastlasso`` command: ``fit``, ``path``, ``cv`` and ``bench`` on a data file
(svmlight/libsvm, npz, CSV) or, with no file, scikit-learn's diabetes data.

This module holds the command line (every option and its help) and ``main``; the
subcommands run in :mod:`fastlasso._cli_commands`. The command is a client of the
package: it uses fastlasso's public names from the package root, as a user's script
would (the only modules besides the root that import it). A bad file or option ends the
command with one line on stderr and exit status 1 (2 for a malformed command line);
``fastlasso --debug ...`` shows the traceback instead.
"""

import argparse
import math
import os
import sys

import fastlasso
from fastlasso._bench_peers import PEERS
from fastlasso._cli_commands import (
    DEFAULT_ALPHA_FRACTION,
    CommandError,
    run_bench,
    run_cv,
    run_fit,
    run_path,
)
from fastlasso._io import FORMATS_HELP, DataError
from fastlasso._solve import SOLVERS

OUT_SUFFIXES = (".csv", ".npz")
PLOT_SUFFIXES = (".png", ".svg", ".pdf")

EXAMPLES = """\
examples:
  fastlasso fit                        Lasso on the diabetes data, alpha_max/20
  fastlasso fit data.svm --alpha 0.01  Lasso on a libsvm file
  fastlasso fit house.csv --target price --l1-ratio 0.5 --out coef.csv
  fastlasso path data.npz --plot path.png
  fastlasso cv data.npz --folds 10 --rule 1se --plot cv.png
  fastlasso bench data.svm.bz2         fastlasso against scikit-learn and peers
Run 'fastlasso COMMAND --help' for the options of a command."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: 'fastlasso fit: error: ... (see --help)'."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------------------ option types
def _number(kind, low=None, high=None, low_open=False):
    """Parser of an int or float in [low, high] (low excluded if low_open)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a valid {kind.__name__}"
            ) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not finite")
        if low is not None and (value < low or (low_open and value == low)):
            raise argparse.ArgumentTypeError(
                f"{text} must be {'>' if low_open else '>='} {low}"
            )
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text} must be <= {high}")
        return value

    return parse


def _file_with_suffix(suffixes, what):
    def parse(text):
        if not text.lower().endswith(suffixes):
            raise argparse.ArgumentTypeError(
                f"{text!r}: the {what} file must end with {' or '.join(suffixes)}"
            )
        return text

    return parse


def _threads(text):
    value = _number(int)(text)
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 threads: give 1 or more, or -1 for all cores"
        )
    return value


def _solver_list(text):
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in PEERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown solver(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(PEERS)}"
        )
    return tuple(names)


# ----------------------------------------------------------------------- option groups
def _data_options(parser):
    parser.add_argument(
        "data",
        nargs="?",
        metavar="FILE",
        help=f"data file: {FORMATS_HELP}. Omitted: scikit-learn's diabetes data "
        "(442 samples, 10 named features).",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="CSV only: header name of the response column; every other column is a "
        "feature.",
    )


def _alpha_options(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--alpha",
        type=_number(float, 0.0),
        metavar="A",
        help="penalty strength in scikit-learn's scaling: minimise "
        "||y - Xw - b||^2/(2n) + A*|w|_1 (Lasso).",
    )
    group.add_argument(
        "--lambda",
        dest="lambda_",
        type=_number(float, 0.0),
        metavar="L",
        help="penalty in the textbook form MSE + L*|w|_1, that is A = L/2. With "
        f"neither option, alpha = alpha_max/{DEFAULT_ALPHA_FRACTION}, alpha_max being "
        "the smallest alpha that gives all-zero weights.",
    )


def _penalty_options(parser, l1_ratio_low_open=False):
    parser.add_argument(
        "--l1-ratio",
        type=_number(float, 0.0, 1.0, low_open=l1_ratio_low_open),
        default=1.0,
        metavar="R",
        help="mix of the penalties: 1 is the Lasso (default); below 1 an Elastic Net "
        "with penalty alpha*(R*|w|_1 + (1-R)/2*|w|_2^2).",
    )
    parser.add_argument(
        "--no-intercept",
        action="store_true",
        help="fit no intercept (default: an unpenalised intercept; the data are "
        "centred implicitly, sparse X is never densified).",
    )


def _solver_options(parser, positive=True, max_iter=1000):
    if positive:
        parser.add_argument(
            "--positive", action="store_true", help="constrain every weight to be >= 0."
        )
    parser.add_argument(
        "--tol",
        type=_number(float, 0.0, low_open=True),
        default=1e-4,
        metavar="T",
        help="stop when the duality gap <= T*||y - mean(y)||^2/n, scikit-learn's "
        "criterion (default 1e-4).",
    )
    parser.add_argument(
        "--max-iter",
        type=_number(int, 1),
        default=max_iter,
        metavar="N",
        help=f"cap on the epochs (passes over the working set) of a fit "
        f"(default {max_iter}).",
    )
    parser.add_argument(
        "--threads",
        type=_threads,
        default=1,
        metavar="K",
        help="threads for the full-gradient sweeps of fastlasso (default 1; -1: all "
        "cores).",
    )


def _output_options(parser, out_help):
    parser.add_argument(
        "--top",
        type=_number(int, 0),
        default=10,
        metavar="K",
        help="how many features to list (default 10).",
    )
    parser.add_argument(
        "--out",
        type=_file_with_suffix(OUT_SUFFIXES, "output"),
        metavar="FILE",
        help=out_help,
    )
    _json_option(parser)


def _json_option(parser):
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON document on stdout instead of text "
        "(warnings still go to stderr).",
    )


def _grid_options(parser):
    parser.add_argument(
        "--n-alphas",
        type=_number(int, 1),
        default=100,
        metavar="N",
        help="number of alphas, geometric from alpha_max down to E*alpha_max "
        "(default 100).",
    )
    parser.add_argument(
        "--eps",
        type=_number(float, 0.0, 1.0, low_open=True),
        default=1e-3,
        metavar="E",
        help="length of the grid: smallest alpha / alpha_max (default 1e-3).",
    )
    parser.add_argument(
        "--plot",
        type=_file_with_suffix(PLOT_SUFFIXES, "picture"),
        metavar="FILE",
        help="also draw the picture into FILE (.png, .svg or .pdf; needs matplotlib, "
        "pip install 'fastlasso[plot]').",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (by default one is drawn on stderr when stderr is a "
        "terminal).",
    )


# ------------------------------------------------------------------------- subcommands
def _add_fit(commands):
    fit = commands.add_parser(
        "fit",
        help="fit one Lasso / Elastic Net and list the selected features.",
        description="Fit a Lasso (an Elastic Net with --l1-ratio below 1) and print "
        "alpha, the number of nonzero weights, the largest weights with their feature "
        "names, the duality gap (a certified bound on the suboptimality) and the "
        "time.",
    )
    _data_options(fit)
    _alpha_options(fit)
    _penalty_options(fit)
    fit.add_argument(
        "--solver",
        choices=SOLVERS,
        default="cd",
        help="optimisation method (default cd: coordinate descent with working sets, "
        "screening and Gram updates).",
    )
    _solver_options(fit)
    _output_options(
        fit,
        "write the intercept and every weight to FILE: .csv (rows feature,weight, "
        "the intercept first) or .npz (arrays coef, intercept, alpha, feature_names).",
    )
    fit.set_defaults(run=run_fit)


def _add_path(commands):
    path = commands.add_parser(
        "path",
        help="compute the regularisation path over a grid of alphas.",
        description="Compute the warm-started regularisation path from alpha_max "
        "down to eps*alpha_max; print its range and the order in which features "
        "enter the model; optionally save the coefficients and draw the path.",
    )
    _data_options(path)
    _penalty_options(path)
    _solver_options(path)
    _grid_options(path)
    _output_options(
        path,
        "write the path to FILE: .csv (one row per alpha: alpha, lambda, dual_gap, "
        "intercept, then one column per feature) or .npz (arrays alphas, coefs of "
        "shape (n_features, n_alphas), intercepts, dual_gaps, feature_names).",
    )
    path.set_defaults(run=run_path)


def _add_cv(commands):
    cv = commands.add_parser(
        "cv",
        help="choose alpha by K-fold cross-validation and refit.",
        description="Cross-validate the path over K folds, pick alpha by the lowest "
        "mean CV error or by the one-standard-error rule, refit on all the data and "
        "report the model as 'fit' does, with both candidate alphas.",
    )
    _data_options(cv)
    _penalty_options(cv)
    cv.add_argument(
        "--folds",
        type=_number(int, 2),
        default=5,
        metavar="K",
        help="number of cross-validation folds (default 5).",
    )
    cv.add_argument(
        "--rule",
        choices=("min", "1se"),
        default="min",
        help="min: the alpha with the lowest mean CV error (default); 1se: the "
        "largest alpha whose mean CV error is within one standard error of that "
        "minimum (a sparser model; glmnet's lambda.1se).",
    )
    cv.add_argument(
        "--seed",
        type=_number(int, 0),
        metavar="S",
        help="shuffle the samples with seed S before cutting the folds (default: "
        "consecutive folds, as scikit-learn).",
    )
    _solver_options(cv)
    _grid_options(cv)
    _output_options(
        cv,
        "write the refitted model to FILE as 'fit --out' does (the .npz also holds "
        "alphas, mse_path, alpha_min, alpha_1se).",
    )
    cv.set_defaults(run=run_cv)


def _add_bench(commands):
    bench = commands.add_parser(
        "bench",
        help="time the same fit with fastlasso, scikit-learn and installed peers.",
        description="Fit the same problem with fastlasso, scikit-learn and, when "
        "installed, celer, skglm, glmnet, adelie, glum and scikit-learn-intelex "
        "(sklearnex). For each: the fastest time over the repeats, the objective it "
        "reached (computed alike for all) and its suboptimality relative to the "
        "best. Solvers stop by their own criteria: --tol is a duality-gap tolerance "
        "for fastlasso, scikit-learn and celer; skglm and sklearnex apply it to "
        "their own optimality measures; glmnet, adelie and glum keep their defaults. "
        "--max-iter applies to fastlasso and scikit-learn. Judge by the objective "
        "column.",
    )
    _data_options(bench)
    _alpha_options(bench)
    _penalty_options(bench, l1_ratio_low_open=True)
    _solver_options(bench, positive=False, max_iter=10_000)
    bench.add_argument(
        "--repeat",
        type=_number(int, 1),
        default=3,
        metavar="R",
        help="fit each solver R times and keep its fastest time (default 3).",
    )
    bench.add_argument(
        "--solvers",
        type=_solver_list,
        default=PEERS,
        metavar="LIST",
        help=f"comma-separated subset of {','.join(PEERS)} (default: all; those "
        "not installed are listed as such).",
    )
    _json_option(bench)
    bench.set_defaults(run=run_bench)


def build_parser():
    """The argument parser of the ``fastlasso`` command."""
    parser = _Parser(
        prog="fastlasso",
        description="Fast Lasso and Elastic Net on a data file (svmlight/libsvm, .npz "
        "or CSV) or, with no file, on scikit-learn's diabetes data. Objective: "
        "||y - Xw - b||^2/(2n) + alpha*|w|_1, i.e. the textbook MSE + lambda*|w|_1 "
        "with lambda = 2*alpha.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"fastlasso {fastlasso.__version__}"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show Python tracebacks instead of one-line errors.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_fit(commands)
    _add_path(commands)
    _add_cv(commands)
    _add_bench(commands)
    return parser


def main(argv=None):
    """Entry point of the ``fastlasso`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    prog = f"fastlasso {args.command}"
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a program that stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (CommandError, DataError) as exc:
        if args.debug:
            raise
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback unless --debug
        if args.debug:
            raise
        message = " ".join(str(exc).split()) or "no message"
        print(
            f"{prog}: error: {message} ({type(exc).__name__}; 'fastlasso --debug "
            f"{args.command} ...' shows the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
