"""fastlasso: fast Lasso and Elastic Net for dense and sparse data.

Drop-in replacements for scikit-learn's Lasso and ElasticNet, fitted by Cython
coordinate descent with working sets, Gap Safe screening, Anderson acceleration and
Gram-matrix updates; every fit reports its duality gap.
"""

import os

# The kernels' OpenMP sweeps (n_jobs > 1) are short parallel regions between serial
# coordinate-descent epochs; libgomp's default spin-waiting workers would steal the
# core the serial part runs on. Passive waiting, unless the user chose otherwise; set
# before the kernels (which load libgomp) are imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from fastlasso._estimators import ElasticNet, Lasso  # noqa: E402
from fastlasso._estimators_cv import ElasticNetCV, LassoCV  # noqa: E402
from fastlasso._estimators_logistic import (  # noqa: E402
    LogisticRegression,
    LogisticRegressionCV,
    logistic_path,
)
from fastlasso._estimators_multitask import (  # noqa: E402
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
)
from fastlasso._path_functions import enet_path, lasso_path  # noqa: E402
from fastlasso._version import __version__ as __version__  # noqa: E402  (meson)
from fastlasso.plotting import plot_cv, plot_path  # noqa: E402
from fastlasso.sklearn_patch import patch_sklearn, sklearn_patched, unpatch_sklearn  # noqa: E402

__all__ = [
    "ElasticNet",
    "ElasticNetCV",
    "Lasso",
    "LassoCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "MultiTaskElasticNet",
    "MultiTaskElasticNetCV",
    "MultiTaskLasso",
    "MultiTaskLassoCV",
    "enet_path",
    "lasso_path",
    "logistic_path",
    "patch_sklearn",
    "plot_cv",
    "plot_path",
    "sklearn_patched",
    "unpatch_sklearn",
]
