"""flashvid-studio, the PyQt6 desktop app."""
