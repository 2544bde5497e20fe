"""flashvid-rt, the real-time network: one public module per file, wired by `flashvid_rt.FlashVidRT`."""
