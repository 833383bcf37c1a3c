"""
Sparse text regression: which words predict what
=================================================

A Lasso on text: the features are the words of documents (a sparse tf-idf matrix,
one column per word), and the weights it keeps say which words predict the target.

No text corpus ships with scikit-learn without a download, so this example builds
one from what every Python installation has: the source of the standard library
(its top-level modules, ``json.py`` to ``zipfile.py``). Each document is the
docstring of a public function or method, read with ``ast`` (nothing is imported
or executed), and the target is a fact about the same function
that its docstring does not state as a number: **how many parameters it takes**
(``self`` and ``cls`` not counted), read from its signature. Which words in a
docstring tell that a function takes many arguments, or none?

The corpus depends on the Python version you run, so the numbers below do too.
"""

import ast
import sysconfig
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import KFold, cross_val_score

from fastlasso import Lasso, LassoCV


def stdlib_functions():
    """(docstring, number of parameters) of every public documented function."""
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.glob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and not node.name.startswith("_"):
                    a = node.args
                    params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs
                              if p.arg not in ("self", "cls")]
                    yield doc, len(params)


docs, n_params = zip(*stdlib_functions(), strict=True)
y = np.array(n_params, dtype=np.float64)
print(f"{len(docs)} documented functions; parameters: mean {y.mean():.2f}, "
      f"max {y.max():.0f}")

# %%
# Words of at least two letters that occur in at least 5 docstrings, English stop
# words removed; sublinear tf-idf with rows of unit norm. The result is a sparse
# CSR matrix: fastlasso converts it to CSC once and never densifies it, the
# intercept included.
vectorizer = TfidfVectorizer(min_df=5, stop_words="english", sublinear_tf=True,
                             token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
X = vectorizer.fit_transform(docs)
words = vectorizer.get_feature_names_out()
print(f"X: {X.shape[0]} x {X.shape[1]} sparse, {X.nnz} nonzeros "
      f"({100 * X.nnz / np.prod(X.shape):.2f}% dense)")

# %%
# alpha by 5-fold cross-validation (shuffled: the documents come grouped by module)
# with the one-standard-error rule, which keeps fewer words. Then the held-out R^2
# of both choices of alpha on other folds, to see how much the words explain: about
# a third of the variance (argument counts depend on much more than wording), but
# which words they are is telling.
folds = KFold(5, shuffle=True, random_state=0)
cv = LassoCV(cv=folds, alpha_rule="1se", n_jobs=2).fit(X, y)
print(f"alpha_1se_ = {cv.alpha_1se_:.3g}: {np.count_nonzero(cv.coef_)} of "
      f"{len(words)} words have a nonzero weight")
for name, alpha in [("alpha_min_", cv.alpha_min_), ("alpha_1se_", cv.alpha_1se_)]:
    r2 = cross_val_score(Lasso(alpha=alpha), X, y,
                         cv=KFold(5, shuffle=True, random_state=1), scoring="r2")
    print(f"held-out R^2 at {name}: {r2.mean():.2f} "
          f"(folds {r2.min():.2f} to {r2.max():.2f})")

# %%
# The words with the largest weights each way. Positive: words of functions with
# options and keyword arguments ("optional", "default", "specified", "arguments",
# "errors" as in ``errors="strict"``). Negative: words of accessors and actions on
# an object ("Return the ...", "close", "clear", "reset"), methods that take
# nothing but ``self``.
order = np.argsort(cv.coef_)
top = np.r_[order[:12], order[-12:]]
fig, ax = plt.subplots(figsize=(7, 7))
colors = np.where(cv.coef_[top] > 0, "tab:blue", "tab:red")
ax.barh(np.arange(len(top)), cv.coef_[top], color=colors)
ax.set_yticks(np.arange(len(top)), labels=words[top])
ax.axvline(0, color="k", lw=0.8)
ax.set_xlabel("Lasso weight (parameters per unit of tf-idf)")
ax.set_title("Docstring words that predict how many parameters\n"
             "a standard-library function takes")
fig.tight_layout()
plt.show()
