"""Probe the synthetic cohort's labels: neither trivial nor pure noise, and history matters.

Reads the table `rounds cohort export --out cohort.csv` writes (one row per synthetic patient:
split, label, the eight simulated utilities, the index visit's features as `last.*` and the
per-visit aggregates). Fits scikit-learn's HistGradientBoostingClassifier on the training split
with three feature sets and scores the test split:

  snapshot   the index visit's features without the history features (what the old pack saw)
  last       the index visit's features with the history features (days since the previous
             visit, years on each drug, stopped drugs, observed HbA1c responses)
  aggregates the above plus per-feature aggregates over all visits

and prints accuracy, macro F1, recall of each option, and regret (mean utility lost by
following the top choice instead of the best option). Also the oracle (every label right:
regret 0) and the share of test patients whose best option beats the second best by less than
0.05 utility (near-ties: where noise decides).

    pip install scikit-learn pandas
    python3 benchmarks/probe_labels.py cohort.csv [--quick]   (--quick: two feature sets, fewer rounds)
"""
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, recall_score

HISTORY = ("days_since_previous_visit", "years_on_", "stopped_", "response_")


def main(path):
    df = pd.read_csv(path)
    options = [c[len("utility."):] for c in df.columns if c.startswith("utility.")]
    last = [c for c in df.columns if c.startswith("last.")]
    snapshot = [c for c in last if not c[len("last."):].startswith(HISTORY)]
    aggregates = [c for c in df.columns if "." in c and not c.startswith(("utility.", "last."))]
    train, test = df[df.split != "test"], df[df.split == "test"]
    y_train = train.label.map(options.index).to_numpy()
    y_test = test.label.map(options.index).to_numpy()
    utilities = test[["utility." + o for o in options]].to_numpy()
    best = utilities.max(axis=1)
    second = np.sort(utilities, axis=1)[:, -2]
    print(f"{len(train)} training (train + validation) and {len(test)} test patients (synthetic)")
    print("test labels:", ", ".join(f"{o} {np.mean(y_test == k):.3f}" for k, o in enumerate(options)))
    print(f"near-ties (best - second < 0.05): {np.mean(best - second < 0.05):.3f}")
    sets = [("snapshot", snapshot), ("last", last), ("aggregates", last + aggregates)]
    if "--quick" in sys.argv:
        sets = sets[:2]
    for name, cols in sets:
        clf = HistGradientBoostingClassifier(max_iter=200 if "--quick" in sys.argv else 400, learning_rate=0.08, max_leaf_nodes=31,
                                             early_stopping=True, validation_fraction=0.15, random_state=0)
        clf.fit(train[cols].to_numpy(dtype=float), y_train)
        pred = clf.predict(test[cols].to_numpy(dtype=float))
        regret = np.mean(best - utilities[np.arange(len(pred)), pred])
        recall = recall_score(y_test, pred, labels=range(len(options)), average=None, zero_division=0)
        print(f"{name:10s} ({len(cols):3d} columns): accuracy {accuracy_score(y_test, pred):.3f}, "
              f"macro F1 {f1_score(y_test, pred, average='macro'):.3f}, regret {regret:.4f}; recall "
              + ", ".join(f"{o} {r:.2f}" for o, r in zip(options, recall)))


if __name__ == "__main__":
    files = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(files[0] if files else "cohort.csv")
