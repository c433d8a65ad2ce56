"""Helpers for tests that ask the real kernel (in throwaway network namespaces) to judge netlint."""
