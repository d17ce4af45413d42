"""The seeded benchmark: a suite of (config, label regime, seed) runs, one
JSON record per run, and the aggregate over seeds (docs/benchmark.md)."""
