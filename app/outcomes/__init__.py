"""Wellbeing outcomes: validated instruments, their scoring and change over time."""
