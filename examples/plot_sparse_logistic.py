"""
Sparse logistic regression: which features separate two classes
=================================================================

With an L1 penalty (``l1_ratio=1``) a logistic regression keeps only the features it
needs: as ``C`` grows from ``C_min`` (the largest C giving no feature at all) features
enter one by one. ``logistic_path`` computes the whole path with warm starts, and
``LogisticRegressionCV`` picks C by cross-validation, here with the
one-standard-error rule (``C_rule="1se"``): the most regularised model whose mean
held-out score is within one standard error of the best.

Every fit is certified: ``dual_gap_`` bounds how far the objective is from its
minimum.

The data: scikit-learn's breast cancer set (569 tumours, 30 standardised features).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from fastlasso import LogisticRegressionCV, logistic_path

data = load_breast_cancer()
X = StandardScaler().fit_transform(data.data)
y = data.target

# %%
# The path: 50 values of C from C_min to 1000 C_min, each fit to a duality gap below
# 1e-8 times the loss of the model without features (``tol``).
Cs, coefs, intercepts, gaps = logistic_path(X, y, Cs=50, eps=1e-3, tol=1e-8)
print(f"C_min = {Cs[0]:.3g}; largest duality gap on the path: {gaps.max():.1e}")

# %%
# Cross-validation with the neg-log-loss score; the 1-SE choice is refitted.
cv = LogisticRegressionCV(
    Cs=Cs, l1_ratios=[1.0], cv=StratifiedKFold(5, shuffle=True, random_state=0),
    scoring="neg_log_loss", C_rule="1se",
).fit(X, y)
for name, C in [("C_best_", cv.C_best_), ("C_1se_", cv.C_1se_)]:
    i = int(np.flatnonzero(cv.Cs_ == C)[0])
    n_nonzero = int((coefs[i] != 0).sum())
    print(f"{name} = {C:.3g}: mean CV log loss {-cv.scores_[:, 0, i].mean():.3f}, "
          f"{n_nonzero} features")
print("kept by the 1-SE model:", ", ".join(data.feature_names[cv.coef_[0] != 0]))

# %%
# The coefficient paths, with both choices marked.
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.semilogx(Cs, coefs[:, 0, :])
for C, style in [(cv.C_best_, "--"), (cv.C_1se_, ":")]:
    ax.axvline(C, color="k", linestyle=style)
ax.set_xlabel("C")
ax.set_ylabel("coefficient")
ax.set_title("L1 logistic regression path (dashed: best C, dotted: 1-SE C)")
fig.tight_layout()
plt.show()
