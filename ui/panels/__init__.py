"""The studio window's panels, one widget per file: the top bar, the timeline, the settings and the outputs."""
