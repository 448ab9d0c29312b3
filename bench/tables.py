"""webgrad's CSV defaults against scikit-learn's MLPs of the same width, on small real tables.

Usage: python3 bench/tables.py [--seeds 3] [--only iris,diabetes]   (after npm run build)

For each table and seed, the rows are split 80/20 with the seed (the same rows for both libraries) into two
CSV files; webgrad trains with `webgrad train --dataset train.csv --test-file test.csv --seed S --json` and
nothing else (its defaults), scikit-learn with StandardScaler + MLPClassifier/MLPRegressor(hidden_layer_sizes=
(64,)) and its defaults; for regression also with the target standardised (TransformedTargetRegressor), which
is what webgrad does. Prints held-out accuracy (classification) or R² (regression), the median over seeds.
Needs numpy and scikit-learn (Debian: python3-sklearn); not part of npm test.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_digits
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test", "fixtures")
CLI = os.environ.get("WEBGRAD_CLI", os.path.join(ROOT, "bin", "webgrad.js"))
TABLES = [
    ("iris", "classification"),
    ("wine", "classification"),
    ("breast_cancer", "classification"),
    ("digits", "classification"),
    ("diabetes", "regression"),
]


def read_table(name, folder):
    if name == "digits":
        d = load_digits()
        header = [f"pixel{i}" for i in range(64)] + ["digit"]
        return header, [[*(str(int(v)) for v in x), str(t)] for x, t in zip(d.data, d.target)]
    with open(os.path.join(FIXTURES, f"{name}.csv"), newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def sklearn_scores(task, train, test, seed):
    x = np.array([[float(v) for v in r[:-1]] for r in train])
    xt = np.array([[float(v) for v in r[:-1]] for r in test])
    if task == "classification":
        y, yt = [r[-1] for r in train], [r[-1] for r in test]
        m = make_pipeline(StandardScaler(), MLPClassifier((64,), random_state=seed)).fit(x, y)
        return {"sklearn": float(np.mean(m.predict(xt) == np.array(yt)))}
    y, yt = np.array([float(r[-1]) for r in train]), np.array([float(r[-1]) for r in test])
    plain = make_pipeline(StandardScaler(), MLPRegressor((64,), random_state=seed)).fit(x, y)
    scaled = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), MLPRegressor((64,), random_state=seed)), transformer=StandardScaler()
    ).fit(x, y)
    return {"sklearn": r2_score(yt, plain.predict(xt)), "sklearn_scaled_y": r2_score(yt, scaled.predict(xt))}


def webgrad_score(task, train_path, test_path, seed):
    out = subprocess.run(
        ["node", CLI, "train", "--dataset", train_path, "--test-file", test_path, "--seed", str(seed), "--json"],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        sys.exit(f"webgrad failed: {out.stderr}")
    final = json.loads(out.stdout.strip().split("\n")[-1])
    return final["testAccuracy"] if task == "classification" else final["testR2"], final


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    only = set(filter(None, args.only.split(",")))
    print("| dataset | rows | task | metric | sklearn MLP (64) | webgrad defaults | webgrad epochs run |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for name, task in TABLES:
            if only and name not in only:
                continue
            header, rows = read_table(name, tmp)
            sk, wg, epochs = {}, [], []
            for seed in range(args.seeds):
                order = np.random.RandomState(seed).permutation(len(rows))
                n_test = round(len(rows) * 0.2)
                test = [rows[i] for i in order[:n_test]]
                train = [rows[i] for i in order[n_test:]]
                tp, sp = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
                write(tp, header, train)
                write(sp, header, test)
                for k, v in sklearn_scores(task, train, test, seed).items():
                    sk.setdefault(k, []).append(v)
                score, final = webgrad_score(task, tp, sp, seed)
                wg.append(score)
                epochs.append(str(final.get("bestEpoch", "")))
            metric = "accuracy" if task == "classification" else "R²"
            fmt = (lambda v: f"{v:.3f}") if task == "regression" else (lambda v: f"{100 * v:.1f}%")
            sk_text = ", ".join(
                f"{fmt(float(np.median(v)))}{'' if k == 'sklearn' else ' (target standardised)'}" for k, v in sk.items()
            )
            print(
                f"| {name} | {len(rows)} | {task} | {metric} | {sk_text} | {fmt(float(np.median(wg)))} "
                f"({', '.join(fmt(v) for v in wg)}) | best epochs {', '.join(epochs)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
