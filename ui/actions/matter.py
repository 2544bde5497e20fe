"""The matter: which engines a device offers, building a matter off the GUI thread and swapping it in."""

from __future__ import annotations

import threading

import numpy as np
from flashvid.ui.actions.base import WindowBase

from flashvid import defaults
from flashvid.matter import FlashMatter
from flashvid.spec import MatterSpec
from flashvid.video.live import LockedMatter


class MatterActions(WindowBase):
    _build_lock: threading.Lock
    _matter_generation: int

    def _fill_engines(self, device: str) -> None:
        """The engine box lists what `device` can run (auto first)."""
        import torch
        from flashvid.engines import get_engine

        keep = self.engine_box.currentText()
        usable = []
        for name in defaults.ENGINES:
            try:
                ok, _ = get_engine(name).available(torch.device(device))
            except Exception:  # noqa: BLE001 - an engine that cannot even answer is not offered
                ok = False
            if ok:
                usable.append(name)
        usable.sort(key=lambda n: n != "auto")
        self.engine_box.blockSignals(True)
        self.engine_box.clear()
        self.engine_box.addItems(usable)
        self.engine_box.setCurrentText(keep if keep in usable else "auto")
        self.engine_box.blockSignals(False)

    def _device_changed(self, device: str) -> None:
        self._fill_engines(device)
        self._pending_matter.start()

    def _wanted(self) -> MatterSpec:
        """The matter the controls ask for (a model's own abilities decide what applies: `MatterSpec`)."""
        from flashvid.network import MODELS

        ability = MODELS[self.model_box.currentText()]
        return MatterSpec(
            model=self.model_box.currentText(),
            engine=self.engine_box.currentText(),
            device=self.device_box.currentText(),
            precision=self.precision_box.currentText(),
            internal_size=self.internal.value() if ability.internal_size else None,
            subject_check=self.subject_box.isChecked() and ability.subject_check,
        )

    def _rebuild_matter(self) -> None:
        """Model, device, engine, precision or internal resolution changed (or the first keyframe arrived): build
        the matter on a worker thread, warm it on a frame of the source's size, then swap it in. A failure
        leaves the working one in place and puts the controls back."""
        kf = self.keyframe
        if kf is None:
            return
        cfg = self._wanted()
        size = (self.source.height, self.source.width) if self.source is not None else kf.flash.shape[:2]
        self._matter_generation += 1
        generation = self._matter_generation

        def build() -> FlashMatter | None:
            with self._build_lock:  # one build at a time (ONNX export and torch.compile are not re-entrant)
                if generation != self._matter_generation:
                    return None  # a newer request came while this one waited: its result would be dropped
                matter = cfg.build()  # the library's builder, as `flashvid export` uses
                matter.set_keyframe(kf)  # builds the engine
                matter.process(np.zeros((*size, 3), np.uint8))  # first-run costs (graph optimisation) here
                matter.reset()
                return matter

        self.tasks.submit(
            "matter",
            f"building {cfg.engine} engine on {cfg.device}",
            build,
            lambda m: self._matter_built(m, cfg),
            lambda exc: self._matter_failed(exc, cfg),
        )

    def _matter_built(self, matter: FlashMatter | None, cfg: MatterSpec) -> None:
        if matter is None:
            return
        if self.keyframe is not None and matter.keyframe is not self.keyframe:
            matter.set_keyframe(self.keyframe)  # the keyframe changed while it was building
        engine = getattr(matter.runner, "engine_name", cfg.engine)
        chosen = f"{engine} (auto)" if cfg.engine == "auto" else engine
        self.engine_label.setText(f"{cfg.model}: {chosen} on {cfg.device}")
        self.session.matter_config = cfg
        if self.matter is None:
            self.matter = LockedMatter(matter)
            self.start()  # from the raw picture to the composite
        else:
            self.matter.swap(matter)
        self.say(f"running {cfg.model} with {chosen} on {cfg.device}", 5000, routine=True)

    def _matter_failed(self, exc: BaseException, cfg: MatterSpec) -> None:
        good = self.session.matter_config
        back = f"; still running {good.engine} on {good.device}" if good else ""
        self.error(f"{cfg.model} with engine {cfg.engine} on {cfg.device} failed: {exc}{back}")
        if good is not None:  # put the controls back to what works
            boxes = ((self.model_box, good.model), (self.device_box, good.device), (self.precision_box, good.precision))
            for box, value in boxes:
                box.blockSignals(True)
                box.setCurrentText(value)
                box.blockSignals(False)
            self._fill_engines(good.device)
            self.engine_box.blockSignals(True)
            self.engine_box.setCurrentText(good.engine)
            self.engine_box.blockSignals(False)
