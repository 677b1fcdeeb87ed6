"""Screens: main, domain detail, confirmation and help."""
