"""Reliability and security tests: load, quota races, crashes, faults, fuzzing and bad input."""
