"""Reference values for tests/metrics.rs, computed once with scikit-learn and SciPy.

Run with a Python that has numpy, scipy and scikit-learn, e.g.
    /work/main/.cache/reference-venv/bin/python crates/lopper-data/tests/metrics_reference.py
and paste the printed constants into tests/metrics.rs (they are kept there as literals, so
that `cargo test` needs no Python). Versions used: printed on the first line.
"""

import warnings

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

# The inputs, identical to those in tests/metrics.rs.
BIN_PRED = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1]
BIN_GOLD = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1]
MULTI_PRED = [0, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0, 1, 2, 2]
MULTI_GOLD = [0, 1, 2, 1, 1, 0, 2, 2, 1, 0, 2, 0, 1, 1, 2]
CONST_PRED = [1, 1, 1, 1, 1, 1]
CONST_GOLD = [1, 0, 1, 0, 0, 1]
NO_POS_PRED = [0, 0, 0, 0]
NO_POS_GOLD = [0, 1, 0, 1]
X = [0.5, 2.25, 3.0, 3.0, 1.75, 4.5, 0.0, 2.25, 5.0, 3.0, 1.0, 4.0]
Y = [1.0, 2.0, 2.8, 3.6, 1.2, 4.9, 0.4, 1.8, 4.4, 3.0, 1.0, 3.9]
CONST_X = [2.0, 2.0, 2.0, 2.0]
CONST_Y = [1.0, 2.0, 3.0, 4.0]


def show(name, value):
    literal = "f64::NAN" if np.isnan(value) else repr(float(value))
    print(f"const {name}: f64 = {literal};")


def main():
    print(f"// numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}")
    show("BIN_ACCURACY", accuracy_score(BIN_GOLD, BIN_PRED))
    show("BIN_F1", f1_score(BIN_GOLD, BIN_PRED))
    show("BIN_MCC", matthews_corrcoef(BIN_GOLD, BIN_PRED))
    show("MULTI_ACCURACY", accuracy_score(MULTI_GOLD, MULTI_PRED))
    show("MULTI_MCC", matthews_corrcoef(MULTI_GOLD, MULTI_PRED))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        show("CONST_MCC", matthews_corrcoef(CONST_GOLD, CONST_PRED))
        show("NO_POS_F1", f1_score(NO_POS_GOLD, NO_POS_PRED))
        show("CONST_PEARSON", pearsonr(CONST_X, CONST_Y)[0])
        show("CONST_SPEARMAN", spearmanr(CONST_X, CONST_Y)[0])
    show("PEARSON", pearsonr(X, Y)[0])
    show("SPEARMAN", spearmanr(X, Y)[0])


if __name__ == "__main__":
    main()
