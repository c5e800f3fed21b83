"""Cohort: runs blended leadership programmes end to end."""
