"""Widgets: domain table, host bar, performance graphs and event log."""
