"""Workloads and the ``lob bench`` runner (engine throughput against the twin)."""
