#!/usr/bin/env python3
"""The bm25s baseline of the benchmark report (issue #13).

`matcher-benches report` writes, for the corpus it generated and indexed,
matcher's own analyzed terms as JSON Lines and runs this script on them with
the venv of scripts/bench-deps.sh:

    companies.jsonl  {"id": "...", "terms": ["...", ...]}     one line per company,
                     every term of name, capabilities, products and equipment,
                     repeats kept (term frequencies)
    needs.jsonl      {"id": "...", "terms": [...], "timed": bool, "open": bool}
                     the need's query terms, deduplicated, in matcher's order

It builds a plain BM25 index (bm25s, k1 = 1.2, b = 0.75 as tantivy's) from the
pre-tokenized companies, then times, on one thread:

- latency: `retrieve([terms], k=20)` for each `timed` need, one call per need,
  after 50 warm-up calls (the needs matcher's single-need latency times);
- batch: one `retrieve(all open needs, k=10, n_threads=0)` call (the needs and
  the top-k of matcher's batch), as needs/s.

Only retrieval is timed; reading the files and indexing are reported apart.
Prints one JSON object on stdout. Nothing here decides pass or fail.
"""

import argparse
import json
import os
import platform
import sys
import time

# One thread for numpy's libraries, whatever the machine has (the baseline is
# single-threaded by definition). Set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import bm25s  # noqa: E402

LATENCY_TOP_K = 20
BATCH_TOP_K = 10
WARMUP = 50
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_ticks():
    """Busy ticks of the whole machine (/proc/stat), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal
    return sum(v[i] for i in (0, 1, 2, 5, 6, 7) if i < len(v))


class Phase:
    """Wall time, this process's CPU time and the other processes' CPU (in
    cores) over a timed phase."""

    def __enter__(self):
        self.busy = machine_busy_ticks()
        self.cpu = time.process_time()
        self.t = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t
        self.cpu_secs = time.process_time() - self.cpu
        busy = machine_busy_ticks()
        if self.busy is None or busy is None:
            self.other_cores = None
        else:
            others = (busy - self.busy) / CLK_TCK - self.cpu_secs
            self.other_cores = max(others, 0.0) / max(self.wall, 1e-9)
        return False


def percentile(sorted_ms, q):
    """Nearest rank, as matcher_benches::percentile."""
    if not sorted_ms:
        return 0.0
    rank = int(np.ceil(q * len(sorted_ms)))
    return sorted_ms[min(max(rank, 1), len(sorted_ms)) - 1]


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--companies", required=True, help="companies.jsonl")
    ap.add_argument("--needs", required=True, help="needs.jsonl")
    args = ap.parse_args()

    t = time.perf_counter()
    corpus = []
    tokens = 0
    intern = sys.intern  # one str per distinct term, not one per occurrence
    for c in read_jsonl(args.companies):
        terms = [intern(x) for x in c["terms"]]
        tokens += len(terms)
        corpus.append(terms)
    timed, batch = [], []
    for n in read_jsonl(args.needs):
        if n.get("timed"):
            timed.append(n["terms"])
        if n.get("open"):
            batch.append(n["terms"])
    load_secs = time.perf_counter() - t
    if not corpus or not timed:
        raise SystemExit("bm25s_baseline: no companies or no timed needs")

    retriever = bm25s.BM25(k1=1.2, b=0.75)
    with Phase() as ix:
        retriever.index(corpus, show_progress=False)
    vocab = retriever.vocab_dict
    # Terms the index never saw are dropped by bm25s at query time.
    unknown = sum(1 for q in timed for x in q if x not in vocab)
    no_known = sum(1 for q in timed if not any(x in vocab for x in q))

    k = min(LATENCY_TOP_K, len(corpus))

    def one(q):
        return retriever.retrieve([q], k=k, show_progress=False, n_threads=0)

    for q in timed[:WARMUP]:
        one(q)
    ms = []
    with Phase() as lat:
        for q in timed:
            t = time.perf_counter()
            r = one(q)
            ms.append((time.perf_counter() - t) * 1e3)
    del r
    ms_sorted = sorted(ms)

    bk = min(BATCH_TOP_K, len(corpus))
    batch_out = None
    if batch:
        with Phase() as bp:
            res = retriever.retrieve(batch, k=bk, show_progress=False, n_threads=0)
        assert res.documents.shape == (len(batch), bk)
        batch_out = {
            "needs": len(batch),
            "top_k": bk,
            "threads": 1,
            "secs": bp.wall,
            "needs_per_sec": len(batch) / max(bp.wall, 1e-9),
            "cpu_secs": bp.cpu_secs,
            "other_cores": bp.other_cores,
        }

    out = {
        "bm25s_version": getattr(bm25s, "__version__", "unknown"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "backend": retriever.backend,
        "method": retriever.method,
        "k1": retriever.k1,
        "b": retriever.b,
        "companies": len(corpus),
        "corpus_tokens": tokens,
        "vocabulary": len(vocab),
        "load_secs": load_secs,
        "index_secs": ix.wall,
        "latency": {
            "needs": len(timed),
            "top_k": k,
            "warmup": min(WARMUP, len(timed)),
            "p50_ms": percentile(ms_sorted, 0.50),
            "p95_ms": percentile(ms_sorted, 0.95),
            "p99_ms": percentile(ms_sorted, 0.99),
            "max_ms": ms_sorted[-1],
            "mean_ms": sum(ms) / len(ms),
            "cpu_secs": lat.cpu_secs,
            "other_cores": lat.other_cores,
            "unknown_terms": unknown,
            "needs_without_known_terms": no_known,
            "mean_terms": sum(len(q) for q in timed) / len(timed),
        },
        "batch": batch_out,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
