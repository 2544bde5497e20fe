"""The video path: sources, sinks and the pipeline that joins them."""
