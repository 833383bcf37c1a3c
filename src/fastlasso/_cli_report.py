"""Output of the ``fastlasso`` command: text reports of the result dictionaries that
``--json`` prints as they are, and the ``--out`` files (CSV or npz)."""

import numpy as np


def format_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _csv_cell(text):
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _is_npz(filename):
    return filename.lower().endswith(".npz")


def write_coefficients(filename, names, coef, intercept, extra=None):
    """CSV rows ``feature,weight`` (first the intercept), or an npz with arrays coef,
    intercept, feature_names and ``extra``."""
    if _is_npz(filename):
        np.savez(
            filename,
            coef=np.asarray(coef, dtype=np.float64),
            intercept=np.float64(intercept),
            feature_names=np.array(names, dtype=str),
            **(extra or {}),
        )
        return
    with open(filename, "w", encoding="utf-8") as handle:
        handle.write("feature,weight\n")
        handle.write(f"(intercept),{float(intercept)!r}\n")
        handle.writelines(
            f"{_csv_cell(name)},{float(value)!r}\n"
            for name, value in zip(names, coef, strict=True)
        )


def write_path(filename, names, alphas, coefs, intercepts, gaps):
    """CSV with one row per alpha (alpha, lambda, dual_gap, intercept, weights...), or
    an npz with arrays alphas, coefs (n_features, n_alphas), intercepts, dual_gaps,
    feature_names."""
    if _is_npz(filename):
        np.savez(
            filename,
            alphas=alphas,
            coefs=coefs,
            intercepts=intercepts,
            dual_gaps=np.asarray(gaps, dtype=np.float64),
            feature_names=np.array(names, dtype=str),
        )
        return
    with open(filename, "w", encoding="utf-8") as handle:
        header = ["alpha", "lambda", "dual_gap", "intercept"]
        handle.write(",".join(header + [_csv_cell(n) for n in names]) + "\n")
        for i, a in enumerate(alphas):
            row = [a, 2 * a, float(gaps[i]), intercepts[i], *coefs[:, i]]
            handle.write(",".join(repr(float(v)) for v in row) + "\n")


def _title(r, what):
    d = r["data"]
    sparse = " (sparse)" if d["sparse"] else ""
    return (
        f"{r['model']}{what} on {d['name']}: {d['n_samples']} samples x "
        f"{d['n_features']} features{sparse}"
    )


def _feature_lines(top, n_nonzero):
    if not top:
        return ["no feature selected (all weights are zero)"]
    width = max(len(t["feature"]) for t in top)
    lines = ["top features by |weight|:"]
    lines += [f"  {t['feature']:<{width}}  {t['weight']:+.6g}" for t in top]
    if n_nonzero > len(top):
        lines.append(f"  ... and {n_nonzero - len(top)} more nonzero")
    return lines


def _files_lines(r, what):
    lines = []
    if r.get("out"):
        lines.append(f"{what} written to {r['out']}")
    if r.get("plot"):
        lines.append(f"picture written to {r['plot']}")
    return lines


def fit_text(r):
    if r["alpha_chosen_by"] == "default":
        origin = f"default alpha_max/{r['default_fraction']}"
    else:
        origin = f"from {r['alpha_chosen_by']}"
    status = "converged" if r["converged"] else "NOT converged"
    lines = [
        _title(r, ""),
        f"alpha       {r['alpha']:.6g}  (lambda = 2*alpha = {r['lambda']:.6g}; "
        f"{origin}, alpha_max = {r['alpha_max']:.6g})",
        f"nonzeros    {r['n_nonzero']} of {r['data']['n_features']}",
        f"intercept   {r['intercept']:.6g}",
        f"duality gap {r['dual_gap']:.3g}  (tolerance {r['tolerance_gap']:.3g}: "
        f"{status} in {r['n_iter']} epochs)",
        f"time        {format_time(r['time_s'])}",
    ]
    return (
        lines
        + _feature_lines(r["top_features"], r["n_nonzero"])
        + _files_lines(r, "coefficients")
    )


def path_text(r):
    lines = [
        _title(r, " path"),
        f"{r['n_alphas']} alphas from {r['alpha_max']:.6g} down to "
        f"{r['alpha_min']:.6g} (lambda = 2*alpha); {r['n_nonzero'][-1]} nonzeros at "
        "the smallest",
        f"largest duality gap {max(r['dual_gaps']):.3g}; "
        f"time {format_time(r['time_s'])}",
    ]
    entry = r["entry_order"]
    if entry:
        width = max(len(e["feature"]) for e in entry)
        lines.append("features in order of entry (alpha at entry):")
        lines += [f"  {e['feature']:<{width}}  {e['alpha']:.6g}" for e in entry]
        if r["n_entered"] > len(entry):
            lines.append(f"  ... and {r['n_entered'] - len(entry)} more")
    return lines + _files_lines(r, "path")


def cv_text(r):
    lines = [_title(r, f", {r['folds']}-fold cross-validation,")]
    for rule in ("min", "1se"):
        a = r[f"alpha_{rule}"]
        mark = "  <- chosen" if rule == r["rule"] else ""
        lines.append(
            f"alpha_{rule:<4} {a['alpha']:.6g}  (lambda {a['lambda']:.6g}; mean CV MSE "
            f"{a['cv_mse']:.6g} +/- {a['cv_mse_se']:.3g}){mark}"
        )
    lines += [
        f"nonzeros   {r['n_nonzero']} of {r['data']['n_features']}",
        f"intercept  {r['intercept']:.6g}",
        f"duality gap of the refit {r['dual_gap']:.3g}; "
        f"time {format_time(r['time_s'])}",
    ]
    return (
        lines
        + _feature_lines(r["top_features"], r["n_nonzero"])
        + _files_lines(r, "model")
    )


def bench_text(r):
    lines = [
        _title(r, ""),
        f"alpha {r['alpha']:.6g} (lambda {r['lambda']:.6g}; alpha_max "
        f"{r['alpha_max']:.6g}), tol {r['tol']:g}, best of {r['repeat']} run(s)",
        "",
        f"{'solver':<13} {'time':>10} {'vs fastlasso':>12} {'objective':>22} "
        f"{'rel. subopt':>11} {'nonzeros':>8}  note",
    ]
    for row in r["results"]:
        if "objective" not in row:
            dashes = f"{'-':>10} {'-':>12} {'-':>22} {'-':>11} {'-':>8}"
            lines.append(f"{row['solver']:<13} {dashes}  {row['status']}")
            continue
        ratio = row.get("time_vs_fastlasso")
        ratio = "" if ratio is None else f"{ratio:.2f}x"
        note = "" if row["status"] == "ok" else row["status"]
        lines.append(
            f"{row['solver']:<13} {format_time(row['time_s']):>10} {ratio:>12} "
            f"{row['objective']:>22.15g} {row['rel_suboptimality']:>11.2e} "
            f"{row['n_nonzero']:>8}  {note}".rstrip()
        )
    return lines
