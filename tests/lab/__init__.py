"""Kernel-as-oracle tests: real namespaces, real probes, netlint's trace must agree."""
