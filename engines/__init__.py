"""Inference backends behind one interface (eager PyTorch, torch.compile, TensorRT, ONNX Runtime)."""
