"""The studio window's behaviour, by concern (settings, keyframe, matter, playback, outputs): each module adds
one group of actions to `flashvid.ui.app.MainWindow` over the Qt-free `flashvid.ui.session.StudioSession`."""
