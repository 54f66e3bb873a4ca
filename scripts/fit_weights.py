#!/usr/bin/env python3
"""Fit matcher's tunable weights by coordinate ascent on the blind set's tune half.

Method (issue #16, item 6):
- objective: hybrid nDCG@10 on `blind-tune` (`matcher eval --set blind-tune --json`);
- guard: a step is taken only if the judged fixtures' hybrid nDCG@10, Recall@50 and MRR
  do not drop by more than --guard (default 0: issue #16 allows no loss there) (a second, independently written set standing in for a
  validation fold: the eval command scores whole sets, so no k-fold split of the tune half);
- coordinate ascent: for each parameter in turn, try it × each of STEPS; keep the best
  step that improves the objective by more than MIN_GAIN; repeat until a round changes
  nothing (at most ROUNDS rounds);
- the test half is evaluated once, at the end, and only reported: never used to choose.

Prints the path, the final values, each parameter's sensitivity (tune nDCG@10 at × 0.5
and × 2 of its final value) and the before/after table on all three sets, as JSON with
--json or Markdown otherwise. It writes nothing: copy the values into
config/matcher.toml (and the defaults in matcher-core/src/matching/weights.rs) by hand.

Usage: python3 scripts/fit_weights.py [--matcher target/release/matcher] [--guard 0] [--json]
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile

# (table, key, upper bound): what the ascent may move.
PARAMS = [
    ("weights", "text", None),
    ("weights", "concepts", None),
    ("weights", "equipment", None),
    ("weights", "jsic", None),
    ("weights", "geography", None),
    ("weights", "freshness", None),
    ("weights", "size", None),
    ("relations", "narrower", 1.0),
    ("relations", "broader", 1.0),
    ("relations", "sibling", 1.0),
    ("requirements", "service", None),
    ("requirements", "product", None),
    ("requirements", "material", None),
    ("requirements", "market", None),
    ("requirements", "rarity", 4.0),
    ("requirements", "all_met", 1.0),
    ("scoping", "head_weight", 1.0),
]
# A parameter at 0 cannot move by a factor: these are the values it tries from there.
FROM_ZERO = [0.1, 0.2, 0.4]
STEPS = [0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 2.0]
MIN_GAIN = 0.002
ROUNDS = 8

START = {
    "weights": {"text": 0.33, "concepts": 0.53, "equipment": 0.10, "jsic": 0.36,
                "geography": 0.04, "freshness": 0.03, "size": 0.02},
    "relations": {"exact": 1.0, "narrower": 0.8, "broader": 0.5, "sibling": 0.3},
    "requirements": {"service": 1.0, "product": 0.6, "material": 0.35, "market": 0.25,
                     "rarity": 1.0, "all_met": 0.0},
    "scoping": {"head_weight": 0.19},
}


def toml_of(cfg):
    lines = []
    for table, values in cfg.items():
        lines.append(f"[{table}]")
        for k, v in values.items():
            lines.append(f"{k} = {v:.6g}")
    return "\n".join(lines) + "\n"


class Evaluator:
    def __init__(self, matcher):
        self.matcher = matcher
        self.cache = {}
        self.calls = 0

    def run(self, cfg, sets):
        key = (toml_of(cfg), sets)
        if key in self.cache:
            return self.cache[key]
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(toml_of(cfg))
            path = f.name
        try:
            out = subprocess.run(
                [self.matcher, "--config", path, "eval", "--set", sets, "--json"],
                check=True, capture_output=True, text=True,
            ).stdout
        finally:
            os.unlink(path)
        self.calls += 1
        res = {}
        for report in json.loads(out):
            for m in report["metrics"]:
                res[(report["set"], m["name"])] = m
        self.cache[key] = res
        return res


def hybrid(res, s):
    return res[(s, "+concepts (hybrid)")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--matcher", default="target/release/matcher")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--guard", type=float, default=0.0,
                    help="how much the fixtures' metrics may drop for a step (default 0)")
    args = ap.parse_args()
    ev = Evaluator(args.matcher)

    def score(cfg):
        r = ev.run(cfg, "blind-tune,fixtures")
        return hybrid(r, "blind-tune")["ndcg_at_10"], hybrid(r, "fixtures")

    cfg = copy.deepcopy(START)
    base_tune, base_fx = score(cfg)
    best = base_tune
    path = []
    for rnd in range(ROUNDS):
        changed = False
        for table, key, cap in PARAMS:
            cur = cfg[table][key]
            cand = None
            for v in ([cur * step for step in STEPS] if cur else FROM_ZERO):
                if cap is not None:
                    v = min(v, cap)
                if v == cur:
                    continue
                trial = copy.deepcopy(cfg)
                trial[table][key] = v
                t, fx = score(trial)
                ok = all(fx[m] >= base_fx[m] - args.guard
                         for m in ("ndcg_at_10", "recall_at_50", "mrr"))
                if ok and t > best + MIN_GAIN and (cand is None or t > cand[1]):
                    cand = (v, t)
            if cand:
                cfg[table][key] = cand[0]
                best = cand[1]
                changed = True
                path.append({"round": rnd + 1, "param": f"{table}.{key}",
                             "from": cur, "to": cand[0], "tune_ndcg10": cand[1]})
                print(f"round {rnd + 1}: {table}.{key} {cur:.4g} -> {cand[0]:.4g}: "
                      f"tune nDCG@10 {cand[1]:.4f}", file=sys.stderr)
        if not changed:
            break

    sens = []
    for table, key, cap in PARAMS:
        row = {"param": f"{table}.{key}", "value": cfg[table][key]}
        for step in (0.5, 2.0):
            trial = copy.deepcopy(cfg)
            v = cfg[table][key] * step if cfg[table][key] else FROM_ZERO[0] * step
            trial[table][key] = min(v, cap) if cap is not None else v
            row[f"x{step}"] = score(trial)[0]
        sens.append(row)

    sets = "fixtures,blind-tune,blind-test"
    before = ev.run(START, sets)
    after = ev.run(cfg, sets)
    table = []
    for s in sets.split(","):
        for name, r in (("before", before), ("after", after)):
            m = hybrid(r, s)
            table.append({"set": s, "weights": name, "ndcg_at_10": m["ndcg_at_10"],
                          "recall_at_50": m["recall_at_50"], "mrr": m["mrr"]})
    result = {"method": __doc__.split("\n\n")[1], "start": START, "fitted": cfg,
              "path": path, "sensitivity": sens, "table": table, "evaluations": ev.calls}
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        return
    print("| set | weights | nDCG@10 | Recall@50 | MRR |\n|---|---|---|---|---|")
    for r in table:
        print(f"| {r['set']} | {r['weights']} | {r['ndcg_at_10']:.3f} | "
              f"{r['recall_at_50']:.3f} | {r['mrr']:.3f} |")
    print("\n| parameter | fitted | tune nDCG@10 at ×0.5 | at ×2 |\n|---|---|---|---|")
    for r in sens:
        print(f"| {r['param']} | {r['value']:.4g} | {r['x0.5']:.4f} | {r['x2.0']:.4f} |")
    print(f"\nfitted: {json.dumps(cfg)}\n{ev.calls} evaluations; tune nDCG@10 "
          f"{base_tune:.4f} -> {best:.4f}")


if __name__ == "__main__":
    main()
