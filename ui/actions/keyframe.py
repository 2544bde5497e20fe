"""The keyframe: the wizard, a keyframe from this frame by clicks (no flash), opening and saving keyframe files,
remaking one when band or threshold change."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flashvid.ui.actions.base import WindowBase
from flashvid.ui.wizard import KeyframeWizard
from PyQt6.QtWidgets import QFileDialog

from flashvid.errors import FlashvidError
from flashvid.keyframe import Keyframe, keyframe_from_clicks
from flashvid.video.sources import VideoFile, Webcam

log = logging.getLogger("flashvid.ui")


class KeyframeActions(WindowBase):
    def keyframe_settings(self) -> dict[str, Any]:
        return {"threshold": self.threshold.value(), "band": self.band.value() or None}

    def open_wizard(self) -> KeyframeWizard:
        cam = self.source if isinstance(self.source, Webcam) else None
        wizard = KeyframeWizard(
            self,
            grab=self.current_frame if self.source is not None else None,
            lock_exposure=cam.lock_exposure if cam else None,
            unlock_exposure=cam.unlock_exposure if cam else None,
            settings=self.keyframe_settings(),
            video_path=str(self.source.path) if isinstance(self.source, VideoFile) else None,
        )
        wizard.accepted.connect(lambda: self.set_keyframe(wizard.keyframe))
        wizard.show()
        self.wizard = wizard
        return wizard

    def key_this_frame(self) -> None:
        """A keyframe without a flash: the preview holds the current frame still, the user clicks the subject
        (right-click: what is not) and presses Enter; the person segmenter (or GrabCut) finds the subject on a
        worker thread. Also how to mend a matte that drifted: key again from the frame in front of you."""
        frame = self.current_frame() if self.source is not None else None
        if frame is None:
            self.error("open a source first: a keyframe by clicks is taken on its current frame")
            return
        band = self.band.value() or None

        def picked(points: list[tuple[float, float]], labels: list[int]) -> None:
            self.tasks.submit(
                "keyframe",
                "keying this frame",
                lambda: keyframe_from_clicks(frame, points, labels, band=band, name="this frame"),
                self.set_keyframe,
                lambda exc: self.error(str(exc)),
            )

        self.preview.start_picking(frame, picked, lambda: self.say("keyframe by clicks cancelled", 3000))
        self.say("click the subject, then Enter (Esc cancels)", 8000)

    def set_keyframe(self, kf: Keyframe | None, remember: bool = True) -> None:
        """Use `kf` from now on: the matter encodes it on a worker thread (built first if there is none yet)."""
        if kf is None:
            return
        self.keyframe = kf
        s = kf.summary()
        how = ", no flash (clicks)" if kf.settings.get("no_flash") else ""
        self.say(f"keyframe set: subject {s['area_pct']:.0f} % of the frame, {s['points']} points{how}")
        self._check_keyframe_fits()
        if remember:
            target = self._store_dir() / "last.flashkey"

            def keep() -> None:
                target.parent.mkdir(parents=True, exist_ok=True)
                kf.save(target)

            self.tasks.submit(
                "remember-keyframe",
                "saving keyframe",
                keep,
                lambda _: None,
                lambda exc: log.warning("the keyframe could not be kept for next time: %s", exc),
            )
        if self.matter is None:
            self._rebuild_matter()
            return
        matter = self.matter
        self.tasks.submit(
            "keyframe",
            "encoding keyframe",
            lambda: matter.set_keyframe(kf),
            lambda _: None,
            lambda exc: self.error(f"the keyframe could not be used: {exc}"),
        )

    def _check_keyframe_fits(self) -> None:
        """Warn when the keyframe was not taken with this source: another aspect ratio or another scene."""
        if self.keyframe is None or self.source is None:
            return
        try:
            frame = self.current_frame()
        except (FlashvidError, StopIteration):
            frame = None
        warning = self.session.keyframe_fit_warning(frame)
        if warning:
            self.error(warning)

    def open_keyframe(self, path: str | None = None, remember: bool = True) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Keyframe", "", "Keyframes (*.flashkey)")
            if not path:
                return
        try:
            kf = Keyframe.load(path)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.set_keyframe(kf, remember=remember)
        self.say(f"keyframe {Path(path).name} opened", 5000)

    def save_keyframe(self, path: str | None = None) -> None:
        if self.keyframe is None:
            self.error("no keyframe to save yet: take one first (K)")
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save keyframe", "keyframe.flashkey", "Keyframes (*.flashkey)")
            if not path:
                return
        try:
            self.keyframe.save(path)
        except OSError as exc:
            self.error(f"{path}: cannot be written ({exc.strerror}); choose another folder")
            return
        self.say(f"keyframe saved to {path}", 5000)

    def _apply_keyframe_settings(self) -> None:
        """Band / threshold changed: remake the keyframe on a worker thread, keeping the hand edits."""
        kf, matter = self.keyframe, self.matter
        if kf is None:
            return
        settings = self.keyframe_settings()

        def remake() -> Keyframe:
            new = kf.remade(threshold=settings["threshold"], band=settings["band"])
            if matter is not None:
                matter.set_keyframe(new)
            return new

        def done(new: Keyframe) -> None:
            self.keyframe = new
            if self.matter is not None and self.matter.matter.keyframe is not new:
                self.set_keyframe(new)  # the matter was swapped meanwhile: hand it the remade keyframe too
            if self.wizard is not None and self.wizard.isVisible():
                self.wizard.settings.update(settings)
            self.say("keyframe remade with the new band / threshold (your edits kept)", 4000)

        self.tasks.submit("keyframe", "remaking keyframe", remake, done, lambda e: self.error(str(e)))
