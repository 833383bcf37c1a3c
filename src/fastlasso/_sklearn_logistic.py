"""scikit-learn's LogisticRegression and LogisticRegressionCV with their L1 and
Elastic-Net fits made by fastlasso: what ``patch_sklearn()`` puts in their place.

These classes are scikit-learn's own (subclasses: every parameter, default, check,
warning, attribute and method is scikit-learn's), except that ``fit`` hands the
requests fastlasso solves to fastlasso's certified prox-Newton solver:

- the effective penalty has an L1 part: ``0 < l1_ratio`` (or the deprecated
  ``penalty="l1"``, or ``"elasticnet"`` with ``0 < l1_ratio``) with a finite C (an
  Elastic-Net request with ``l1_ratio=0`` is an L2 fit: scikit-learn's), and
- the solver is ``"saga"`` (scikit-learn's only solver of these penalties with an
  unpenalised intercept: fastlasso computes the same minimiser), or ``"liblinear"``
  with ``penalty`` L1 (binary only, as in scikit-learn): liblinear's problem penalises
  the intercept, as the weight of a constant feature ``intercept_scaling`` (and
  ``intercept_ = intercept_scaling * that weight``), and fastlasso solves exactly that
  problem (the constant column is appended to a copy of X, as liblinear copies X
  itself); ``coef_`` is then float64, as liblinear's.

Every other request (L2 or no penalty, the other solvers, ``dual=True``, and every
combination scikit-learn refuses) runs scikit-learn's own code, unchanged. Routed fits
take ``tol`` as fastlasso does (duality gap <= tol x the loss of the model without
features) and ``max_iter`` as prox-Newton iterations; ``random_state`` and ``verbose``
are not used (the solver is deterministic); ``n_iter_`` counts prox-Newton iterations
and ``dual_gap_`` is added. A routed fit that stops at ``max_iter`` warns with the text
of the solver it replaces, followed by the duality gap.
"""

import importlib
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import process_routing

from fastlasso._compat import (
    SKLEARN_LOGISTIC_MODULE,
    _fit_context,
    _raise_for_params,
    _routing_enabled,
)
from fastlasso._data import as_design_matrix, make_design
from fastlasso._estimators_logistic import (
    _iterations,
    _one_class_error,
    _validate,
    _weights,
)
from fastlasso._logistic_cv import cross_validate_logistic, labelled_scorer
from fastlasso._solve import n_threads_for
from fastlasso._solve_logistic import make_design_and_workspace, solve_logistic

_sk = importlib.import_module(SKLEARN_LOGISTIC_MODULE)

_CONVERGENCE_TEXT = {
    "saga": "The max_iter was reached which means the coef_ did not converge",
    "liblinear": "Liblinear failed to converge, increase the number of iterations.",
}


def resolve_penalty(est):
    """(penalty, l1_ratio) as scikit-learn's LogisticRegression.fit resolves them,
    with its warnings: the effective penalty ("l1", "l2", "elasticnet" or None) and
    the L1 share of the fit."""
    if est.penalty == "deprecated":
        if est.l1_ratio == 0 or est.l1_ratio is None:
            penalty = "l2"
            if est.l1_ratio is None:
                warnings.warn(
                    "'l1_ratio=None' was deprecated in version 1.8 and will trigger an "
                    "error in 1.10. Use 0<=l1_ratio<=1 instead.",
                    FutureWarning,
                    stacklevel=3,
                )
        elif est.l1_ratio == 1:
            penalty = "l1"
        else:
            penalty = "elasticnet"
        if est.C == np.inf:
            penalty = None
    else:
        penalty = est.penalty
        warnings.warn(
            "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To "
            "avoid this warning, leave 'penalty' set to its default value and use "
            "'l1_ratio' or 'C' instead. Use l1_ratio=0 instead of penalty='l2', "
            "l1_ratio=1 instead of penalty='l1', l1_ratio set to a float between 0 "
            "and 1 instead of penalty='elasticnet', and C=np.inf instead of "
            "penalty=None.",
            FutureWarning,
            stacklevel=3,
        )
    ratio = 1.0 if penalty == "l1" else est.l1_ratio
    return penalty, ratio


def routes_to_fastlasso(solver, penalty, dual, C):
    """Whether fastlasso fits this request (module docstring)."""
    if dual or not np.isfinite(C):
        return False
    if solver == "saga":
        return penalty in ("l1", "elasticnet")
    return solver == "liblinear" and penalty == "l1"


def _check_consistency(est, penalty):
    """scikit-learn's warnings about l1_ratio and penalty that disagree."""
    if penalty != "elasticnet" and (est.l1_ratio is not None and 0 < est.l1_ratio < 1):
        warnings.warn(
            "l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
            f"(penalty={penalty})",
            stacklevel=3,
        )
    if (est.penalty == "l2" and est.l1_ratio != 0) or (
        est.penalty == "l1" and est.l1_ratio != 1
    ):
        warnings.warn(
            f"Inconsistent values: penalty={est.penalty} with l1_ratio={est.l1_ratio}."
            " penalty is deprecated. Please use l1_ratio only.",
            stacklevel=3,
        )


class LogisticRegression(_sk.LogisticRegression):
    __doc__ = (_sk.LogisticRegression.__doc__ or "") + (
        "\n    Patched by fastlasso: L1 and Elastic-Net fits with solver='saga' (and"
        "\n    L1 with 'liblinear') run on fastlasso (fastlasso.sklearn_patch)."
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            penalty, l1_ratio = resolve_penalty(self)
        # (an L1 share that is None or 0 is scikit-learn's to refuse or to fit as L2)
        if not (isinstance(l1_ratio, Real) and l1_ratio > 0
                and routes_to_fastlasso(self.solver, penalty, self.dual, self.C)):
            # scikit-learn's fit from the start (it issues those warnings itself)
            return _sk.LogisticRegression.fit.__wrapped__(self, X, y, sample_weight)
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        _check_consistency(self, penalty)
        if self.n_jobs is not None:
            warnings.warn(
                "'n_jobs' has no effect since 1.8 and will be removed in 1.10. "
                f"You provided 'n_jobs={self.n_jobs}', please leave it unspecified.",
                FutureWarning,
                stacklevel=2,
            )
        return self._fit_fastlasso(X, y, sample_weight, l1_ratio)

    def _fit_fastlasso(self, X, y, sample_weight, l1_ratio):
        X, y, classes, y_idx = _validate(self, X, y)
        n, p = X.shape
        liblinear = self.solver == "liblinear"
        if liblinear and len(classes) > 2:
            raise ValueError(
                "The 'liblinear' solver does not support multiclass classification"
                " (n_classes >= 3). Either use another solver or wrap the "
                "estimator in a OneVsRestClassifier to keep applying a "
                "one-versus-rest scheme."
            )
        if liblinear and (X.max() if sp.issparse(X) else np.max(X)) > 1e30:
            raise ValueError(
                "Using the 'liblinear' solver while X contains a maximum "
                "value > 1e30 results in a frozen fit. Please choose another "
                "solver or rescale the input X."
            )
        self.classes_ = classes
        if len(classes) < 2:
            raise _one_class_error(classes)
        s = _weights(sample_weight, self.class_weight, classes, y, y_idx, n)
        K = 1 if len(classes) == 2 else len(classes)
        # liblinear penalises the intercept: the weight of a constant column
        scaling = self.intercept_scaling if liblinear and self.fit_intercept else None
        Xd = X
        if scaling is not None:
            col = np.full((n, 1), scaling, dtype=X.dtype)
            Xd = (sp.hstack([X, sp.csc_matrix(col)], format="csc") if sp.issparse(X)
                  else np.hstack([X, col]))
        fit_b = self.fit_intercept and scaling is None
        coef_init = intercept_init = workspace = None
        previous = getattr(self, "coef_", None) if self.warm_start else None
        if previous is not None and np.shape(previous) == (K, p):
            coef_init = np.asarray(previous, dtype=np.float64)
            if scaling is not None:
                b0 = np.asarray(self.intercept_, dtype=np.float64).reshape(K, 1)
                coef_init = np.hstack([coef_init, b0 / scaling])
            elif self.fit_intercept:
                intercept_init = self.intercept_
        name = type(self).__name__
        if coef_init is None and self.max_iter > 0:  # a cold start
            design, workspace = make_design_and_workspace(Xd, y_idx, len(classes), s,
                                                          fit_b, name)
        else:
            design = make_design(Xd, s, fit_b, estimator_name=name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            sol = solve_logistic(
                design, y_idx, len(classes), self.C, l1_ratio,
                weight_sum=None if s is None else float(s.sum()),
                coef_init=coef_init, intercept_init=intercept_init, tol=self.tol,
                max_iter=self.max_iter, workspace=workspace,
            )
        if caught:
            warnings.warn(
                f"{_CONVERGENCE_TEXT[self.solver]} ({caught[0].message})",
                ConvergenceWarning,
                stacklevel=3,
            )
        coef, intercept = sol.coef, sol.intercept.astype(X.dtype)
        if scaling is not None:
            intercept = (scaling * coef[:, -1]).astype(np.float64)
            coef = coef[:, :-1]
        if liblinear:  # liblinear's types: float64, and 0.0 without intercept
            coef = coef.astype(np.float64)
            intercept = intercept.astype(np.float64) if self.fit_intercept else 0.0
        elif not self.fit_intercept:
            intercept = np.zeros(K, dtype=X.dtype)
        self.coef_ = coef
        self.intercept_ = intercept
        self.n_iter_ = np.array([_iterations(sol.n_iter, self.max_iter)],
                                dtype=np.int32)
        self.dual_gap_ = float(sol.gap)
        return self


class LogisticRegressionCV(_sk.LogisticRegressionCV):
    __doc__ = (_sk.LogisticRegressionCV.__doc__ or "") + (
        "\n    Patched by fastlasso: L1 and Elastic-Net cross-validation with"
        "\n    solver='saga' (and L1 with 'liblinear') runs on fastlasso"
        "\n    (fastlasso.sklearn_patch)."
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        l1_ratios = None if _is_warn(self.l1_ratios) else self.l1_ratios
        if self.penalty == "deprecated":
            if l1_ratios is None or np.all(np.asarray(l1_ratios) == 0):
                penalty = "l2"
            elif np.all(np.asarray(l1_ratios) == 1):
                penalty = "l1"
            else:
                penalty = "elasticnet"
        else:
            penalty = self.penalty
        valid = penalty != "elasticnet" or (
            l1_ratios is not None and len(l1_ratios) > 0
            and all(isinstance(r, Real) and 0 <= r <= 1 for r in l1_ratios))
        if not valid or not routes_to_fastlasso(self.solver, penalty, self.dual, 1.0):
            return _sk.LogisticRegressionCV.fit.__wrapped__(
                self, X, y, sample_weight, **params)
        return self._fit_fastlasso(X, y, sample_weight, params, l1_ratios, penalty)

    def _fit_fastlasso(self, X, y, sample_weight, params, l1_ratios, penalty):
        _raise_for_params(params, self, "fit")
        # scikit-learn's warnings, in its order
        if _is_warn(self.l1_ratios):
            warnings.warn(
                "The default value for l1_ratios will change from None to (0.0,) in "
                "version 1.10. From version 1.10 onwards, only array-like with values "
                "in [0, 1] will be allowed, None will be forbidden. To avoid this "
                "warning, explicitly set a value, e.g. l1_ratios=(0,).",
                FutureWarning, stacklevel=3)
        if self.penalty == "deprecated":
            if self.l1_ratios is None:
                warnings.warn(
                    "'l1_ratios=None' was deprecated in version 1.8 and will trigger "
                    "an error in 1.10. Use an array-like with valuesin [0, 1] instead.",
                    FutureWarning, stacklevel=3)
        else:
            warnings.warn(
                "'penalty' was deprecated in version 1.8 and will be removed in 1.10. "
                "To avoid this warning, leave 'penalty' set to its default value and "
                "use 'l1_ratios' and 'Cs' instead. Use l1_ratios=(0,) instead of "
                "penalty='l2', l1_ratios=(1,) instead of penalty='l1', l1_ratios set "
                "to floats between 0 and 1 instead of penalty='elasticnet', and "
                "Cs=(np.inf,) instead of penalty=None.", FutureWarning, stacklevel=3)
        if _is_warn(self.scoring):
            warnings.warn(
                "The default value of the parameter 'scoring' will change from None, "
                "i.e. accuracy, to 'neg_log_loss' in version 1.11. To silence this "
                "warning, explicitly set the scoring parameter: scoring='neg_log_loss' "
                "for the new, scoring='accuracy' or scoring=None for the old default.",
                FutureWarning, stacklevel=3)
        scoring = None if _is_warn(self.scoring) else self.scoring
        legacy = self.use_legacy_attributes
        if _is_warn(legacy):
            name = type(self).__name__
            warnings.warn(
                f"The fitted attributes of {name} will be simplified in scikit-learn "
                "1.10 to remove redundancy. Set`use_legacy_attributes=False` to enable "
                "the new behavior now, or set it to `True` to silence this warning "
                "during the transition period while keeping the deprecated behavior "
                "for the time being. The default value of use_legacy_attributes will "
                "change from True to False in scikit-learn 1.10. See the docstring of "
                f"{name} for more details.", FutureWarning, stacklevel=3)
            legacy = True
        if penalty != "elasticnet" and l1_ratios is not None \
                and self.penalty != "deprecated":
            warnings.warn(
                "l1_ratios parameter is only used when penalty is 'elasticnet'. Got "
                f"(penalty={penalty})", stacklevel=3)
        ratios = [None] if l1_ratios is None else list(l1_ratios)
        fit_ratios = np.array([1.0 if (r is None or penalty == "l1") else float(r)
                               for r in ratios])
        X, y, classes, y_idx = _validate(self, X, y)
        X = as_design_matrix(X.astype(np.float64, copy=False))
        n, p = X.shape
        liblinear = self.solver == "liblinear"
        if len(classes) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {classes[0]}.")
        if liblinear and len(classes) > 2:
            raise ValueError(
                "The 'liblinear' solver does not support multiclass classification"
                " (n_classes >= 3). Either use another solver or wrap the "
                "estimator in a OneVsRestClassifier to keep applying a "
                "one-versus-rest scheme.")
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split_params, score_params = routed.splitter.split, routed.scorer.score
        else:
            split_params = {}
            score_params = dict(params)
            if sample_weight is not None:
                score_params["sample_weight"] = sample_weight
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, **split_params))
        class_weight = self.class_weight
        if isinstance(class_weight, dict) and not set(class_weight) <= set(classes):
            raise ValueError(
                "The given class_weight dict must have the class labels as keys; "
                f"classes={classes} but key={class_weight.keys()}")
        s = _weights(sample_weight, class_weight, classes, y, y_idx, n)
        Cs = (np.logspace(-4, 4, self.Cs) if isinstance(self.Cs, Integral)
              else np.asarray(self.Cs, dtype=np.float64))
        order = np.argsort(Cs, kind="stable")
        unsort = np.argsort(order, kind="stable")
        K = 1 if len(classes) == 2 else len(classes)
        scaling = self.intercept_scaling if liblinear and self.fit_intercept else None
        Xd, fit_b = X, self.fit_intercept and scaling is None
        if scaling is not None:  # liblinear's penalised intercept (module docstring)
            col = np.full((n, 1), scaling)
            Xd = (sp.hstack([X, sp.csc_matrix(col)], format="csc") if sp.issparse(X)
                  else np.asfortranarray(np.hstack([X, col])))
        scorer = labelled_scorer(scoring, classes)

        def to_model(W, b):
            model = _sk.LogisticRegression(solver=self.solver)
            model.classes_ = classes
            if scaling is not None:
                W, b = W[:, :-1], scaling * W[:, -1]
            model.coef_ = W
            model.intercept_ = b if fit_b or scaling is not None else 0.0
            return model

        solve_params = {"tol": self.tol, "max_iter": self.max_iter, "warn": False}
        coefs, intercepts, n_iter, scores = cross_validate_logistic(
            Xd, y, y_idx, classes, s, folds, fit_b, Cs[order], fit_ratios, scorer,
            to_model, solve_params, n_threads_for(self.n_jobs), score_params)
        coefs, intercepts = coefs[:, :, unsort], intercepts[:, :, unsort]
        n_iter = _iterations(n_iter[:, :, unsort], self.max_iter)
        scores = scores[:, :, unsort]
        if scaling is not None:  # back to liblinear's (coef, intercept)
            intercepts = scaling * coefs[..., -1]
            coefs = coefs[..., :-1]
        paths = coefs
        if self.fit_intercept:
            paths = np.concatenate([coefs, intercepts[..., None]], axis=-1)
        # (n_folds, n_l1, n_cs, K, n_dof) as scikit-learn's new layout
        n_folds, n_l1, n_cs = len(folds), len(ratios), len(Cs)
        self.Cs_ = Cs
        self.classes_ = classes
        self.l1_ratios_ = np.asarray(ratios)
        design = make_design(Xd, s, fit_b, estimator_name=type(self).__name__)
        if self.refit:
            total = scores.sum(axis=0).T  # (n_cs, n_l1), scikit-learn's argmax order
            c_best, r_best = np.unravel_index(np.argmax(total), total.shape)
            C_, ratio_ = Cs[c_best], ratios[r_best]
            W0 = coefs[:, r_best, c_best].mean(axis=0)
            b0 = intercepts[:, r_best, c_best].mean(axis=0)
            init_c = W0 if scaling is None else np.hstack([W0, b0[:, None] / scaling])
            sol = solve_logistic(
                design, y_idx, len(classes), C_, fit_ratios[r_best],
                weight_sum=None if s is None else float(s.sum()), coef_init=init_c,
                intercept_init=b0 if fit_b and np.isfinite(b0).all() else None,
                tol=self.tol, max_iter=self.max_iter)
            W, b = sol.coef.astype(np.float64), sol.intercept
            if scaling is not None:
                W, b = W[:, :-1], scaling * W[:, -1]
            self.dual_gap_ = float(sol.gap)
            C_list, ratio_list = [C_], [ratio_]
        else:
            best = [np.unravel_index(np.argmax(scores[k].T), (n_cs, n_l1))
                    for k in range(n_folds)]
            W = np.mean([coefs[k, r, c] for k, (c, r) in enumerate(best)], axis=0)
            b = np.mean([intercepts[k, r, c] for k, (c, r) in enumerate(best)], axis=0)
            C_list = [np.mean([Cs[c] for c, _ in best])]
            ratio_list = ([np.mean([ratios[r] for _, r in best])]
                          if penalty == "elasticnet" else [0.0])
        self.coef_ = np.asarray(W, dtype=np.float64).reshape(K, p)
        self.intercept_ = (np.asarray(b, dtype=np.float64).reshape(K)
                           if self.fit_intercept else np.zeros(K))
        if not legacy:
            self.coefs_paths_ = paths
            self.scores_ = scores
            self.n_iter_ = n_iter
            self.C_ = float(C_list[0])
            if l1_ratios is None:
                self.l1_ratio_ = 1.0 if self.penalty == "l1" else 0.0
            else:
                self.l1_ratio_ = float(ratio_list[0])
            return self
        # scikit-learn's legacy layout: dicts by class (the positive class only for
        # two), (n_folds, n_cs, n_l1, n_dof) paths, scores repeated for every class
        keys = classes[1:] if K == 1 else classes
        self.coefs_paths_ = {
            c: np.swapaxes(paths[:, :, :, k], 1, 2) for k, c in enumerate(keys)}
        score_t = np.swapaxes(scores, 1, 2)
        self.scores_ = {c: score_t.copy() for c in keys}
        self.n_iter_ = np.swapaxes(n_iter, 1, 2)[None]
        n_rep = 1 if K == 1 else K
        self.C_ = np.asarray(np.tile(C_list, n_rep))
        self.l1_ratio_ = np.asarray(np.tile(np.asarray(ratio_list, dtype=object)
                                            if ratio_list[0] is None else ratio_list,
                                            n_rep))
        if l1_ratios is None:  # no l1_ratio axis
            self.coefs_paths_ = {c: v[:, :, 0] for c, v in self.coefs_paths_.items()}
            self.scores_ = {c: v[:, :, 0] for c, v in self.scores_.items()}
            self.n_iter_ = self.n_iter_[:, :, :, 0]
        return self


def _is_warn(value):
    return isinstance(value, str) and value == "warn"
