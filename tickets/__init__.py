"""The hotline's domain: tickets, their lifecycle, time limits, routing and statistics.

Imports nothing from bot/, web/, nlu/ or the wiring package; collaborators (a classifier,
a notifier) are handed in.
"""
