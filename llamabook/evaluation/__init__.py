"""Evaluation of a grid's results: checks on each row (:mod:`.checks`), scores per version × model
(:mod:`.scores`) and the side-by-side comparison (:mod:`.compare`).

It reads results (:mod:`llamabook.types.grid_rows`), never runs a grid: the grid runs the checks.
"""
