"""ACRO computing the same frequency table as `enclave-bench airlock-checks` checks.

Reads the long-form table (a,b,count), expands it into the microdata it summarises (one row per
person), and times `acro.crosstab(a, b)` with the same threshold; writes the cells ACRO flags under its
threshold rule (zeros included, as `zeros_are_disclosive`) as `a,b` lines for comparison.
Usage: python acro_crosstab.py TABLE.csv FLAGGED_OUT.txt [threshold]
"""
import sys
import time

import numpy as np
import pandas as pd
from acro import ACRO

table_path, out_path = sys.argv[1], sys.argv[2]
threshold = int(sys.argv[3]) if len(sys.argv) > 3 else 10
table = pd.read_csv(table_path)
micro = pd.DataFrame({
    "a": np.repeat(table["a"].to_numpy(), table["count"].to_numpy()),
    "b": np.repeat(table["b"].to_numpy(), table["count"].to_numpy()),
})
print(f"microdata: {len(micro)} rows for {len(table)} cells", flush=True)
acro = ACRO(suppress=False)
acro.config["safe_threshold"] = threshold
started = time.perf_counter()
result = acro.crosstab(micro["a"], micro["b"])
elapsed = time.perf_counter() - started
# ACRO's record for the table: its outcome names the rule that flagged each cell ("threshold; ").
record = list(acro.results.results.values())[-1]
print(f"ACRO status: {record.status}; summary: {record.summary[:120]}")
outcome = record.outcome
# ACRO 0.4 writes "threshold; ", newer versions "MinimumThresholdCheck; " (zeros also carry it).
flagged = [f"{a},{b}" for (a, b), v in outcome.stack().items() if "threshold" in str(v).lower()]
with open(out_path, "w") as f:
    f.write("\n".join(sorted(flagged)) + "\n")
print(f"acro.crosstab: {elapsed:.3f} s; flagged cells: {len(flagged)}")
