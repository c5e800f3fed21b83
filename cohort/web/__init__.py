"""Blueprints: parse input, call services, render."""
