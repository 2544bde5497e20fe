"""Training and evaluation: synthesised flash clips (`data`), the config (`config`), the training phases
(`train.Trainer`), losses, metrics, one way to run a model over frames (`run`) and the evaluation suites against
baselines (`suites`, `real_eval`, `tables`). The CLI's train / eval commands use it, and so does `flashvid demo`
(its generated clip is synthesised by `data.synth`, its errors are `metrics`); matting a video does not.
"""
