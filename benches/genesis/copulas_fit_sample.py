"""Fits SDV's copulas GaussianMultivariate on a CSV table and samples from it.

Usage: copulas_fit_sample.py TRAIN.csv N OUT.csv
Prints one JSON line: fit and sample seconds, the copulas version.
Run by examples/genesis_vs_copulas.rs, which installs copulas in a virtualenv first.
"""
import json
import sys
import time
import warnings

import copulas
import numpy as np
import pandas as pd
from copulas.multivariate import GaussianMultivariate


def main():
    # scipy's fits of rejected candidate marginals warn; the result is unaffected.
    warnings.simplefilter("ignore")
    train_path, n, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = pd.read_csv(train_path)
    np.random.seed(7)
    model = GaussianMultivariate()
    started = time.perf_counter()
    model.fit(data)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    samples = model.sample(n)
    sample_seconds = time.perf_counter() - started
    samples.to_csv(out_path, index=False)
    print(json.dumps({
        "copulas_version": copulas.__version__,
        "fit_seconds": fit_seconds,
        "sample_seconds": sample_seconds,
        "rows": len(samples),
        "distributions": {
            c: type(getattr(d, "_instance", d)).__name__
            for c, d in zip(model.columns, model.univariates)
        },
    }))


if __name__ == "__main__":
    main()
