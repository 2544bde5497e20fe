"""Training and evaluation: synthesised flash clips (`data`), losses, the training loop, metrics and the
evaluation against baselines. Imported by the CLI's train / eval commands only; the run-time path never needs it.
"""
