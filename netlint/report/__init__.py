"""Renderers: pure functions from facts, findings and traces to text for people and machines."""
