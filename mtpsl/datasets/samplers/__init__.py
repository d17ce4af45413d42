"""Samplers of mtpsl (partial-label aware batching)."""
