"""Issue 25: a keyframe without a flash, by clicks on one frame (`flashvid.keyframe.clicks`), in the library,
the CLI and the studio (offscreen). The studio test clicks on the shipped real clip's first frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flashvid import assets
from flashvid.errors import InputError
from flashvid.keyframe import Keyframe, keyframe_from_clicks

CLIP = assets.path("demo", "asl_bird.mkv")  # a man in the middle, a colleague cut by the right edge


def first_frame() -> np.ndarray:
    av = pytest.importorskip("av")
    with av.open(str(CLIP)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24")


def test_a_click_on_a_person_keys_that_person_only(tmp_path: Path) -> None:
    frame = first_frame()
    kf = keyframe_from_clicks(frame, [(320, 200)])
    assert kf.settings["no_flash"] is True and "clicks" in kf.settings["segmenter"]
    assert kf.mask[200, 320] == 1 and kf.mask[60, 320] == 1  # the chest clicked, the head found
    assert kf.mask[:, 600:].sum() == 0  # not the colleague at the right edge
    assert np.array_equal(kf.flash, frame) and np.array_equal(kf.noflash, frame)
    assert set(np.unique(kf.trimap)) == {0, 128, 255}
    # the band follows the mask only (there is no flash to widen it): about `band` px wide all round
    assert (kf.trimap == 128).mean() < 0.08
    kf.save(tmp_path / "k.flashkey")
    back = Keyframe.load(tmp_path / "k.flashkey")
    assert back.settings["no_flash"] is True and np.array_equal(back.mask, kf.mask)
    wider = back.remade(threshold=0.3, band=41)  # no pair to make again: the threshold is moot, the band applies
    assert np.array_equal(wider.mask, kf.mask) and (wider.trimap == 128).sum() > (kf.trimap == 128).sum()


def test_two_clicked_people_are_both_kept_and_a_click_on_a_wall_uses_grabcut() -> None:
    frame = first_frame()
    both = keyframe_from_clicks(frame, [(320, 200), (590, 150)])  # the colleague's face, at the edge
    assert both.mask[150, 590] == 1 and both.mask[200, 320] == 1  # clicking the colleague too keys both people
    wall = keyframe_from_clicks(frame, [(40, 40)])  # no person under the click: GrabCut around it
    assert "GrabCut" in wall.settings["segmenter"] and wall.mask[40, 40] == 1


@pytest.mark.parametrize(
    ("points", "labels", "message"),
    [
        ([(10, 10)], [0], "click at least once on the subject"),
        ([(10, 10)], [1, 1], "1 points but 2 labels"),
        ([(700, 10)], None, "outside the 640x480 frame"),
    ],
)
def test_bad_clicks_are_one_line(points, labels, message) -> None:
    with pytest.raises(InputError, match=message):
        keyframe_from_clicks(first_frame(), points, labels)


def test_cli_keyframe_from_a_frame(tmp_path: Path, capsys) -> None:
    from flashvid.cli import main
    from flashvid.imageio import write_image

    write_image(tmp_path / "f.png", first_frame())
    out = tmp_path / "k.flashkey"
    assert main(["keyframe", "--frame", str(tmp_path / "f.png"), "--point", "320,200", "--out", str(out)]) == 0
    assert "no flash (picked by clicks)" in capsys.readouterr().out
    assert Keyframe.load(out).settings["no_flash"] is True
    rc = main(["keyframe", "--frame", str(tmp_path / "f.png"), "--out", str(tmp_path / "x.flashkey")])
    assert rc == 2 and "--frame needs --point" in capsys.readouterr().err
    assert not (tmp_path / "x.flashkey").exists()


def test_the_studio_keys_the_frame_it_shows_by_clicks(studio, qtbot) -> None:
    from PyQt6.QtCore import QPoint, Qt

    window, _ = studio
    window.open_source(str(CLIP))
    qtbot.waitUntil(lambda: window.current_frame() is not None, timeout=60000)
    window.toggle_pause()
    window.key_this_frame()
    preview = window.preview
    assert preview.picking is not None
    qtbot.waitUntil(lambda: preview._target.width() > 0, timeout=10000)
    t = preview._target
    h, w = preview.picking.shape[:2]

    def at(x: float, y: float) -> QPoint:
        return QPoint(int(t.left() + x / w * t.width()), int(t.top() + y / h * t.height()))

    qtbot.keyClick(preview, Qt.Key.Key_Return)  # no click yet: Enter does nothing
    assert preview.picking is not None and window.keyframe is None
    qtbot.mouseClick(preview, Qt.MouseButton.LeftButton, pos=at(320, 200))
    qtbot.mouseClick(preview, Qt.MouseButton.RightButton, pos=at(630, 250))
    assert [v for *_, v in preview.picks] == [1, 0]
    assert abs(preview.picks[0][0] - 320) < 4 and abs(preview.picks[0][1] - 200) < 4
    qtbot.keyClick(preview, Qt.Key.Key_Return)
    assert preview.picking is None
    qtbot.waitUntil(lambda: window.keyframe is not None, timeout=60000)
    kf = window.keyframe
    assert kf.settings["no_flash"] is True and kf.mask[200, 320] == 1 and kf.mask[:, 600:].sum() == 0

    # mirrored, a click lands on the same spot of the frame; Esc cancels and keeps the keyframe
    window.mirror_box.setChecked(True)
    window.key_this_frame()
    qtbot.mouseClick(preview, Qt.MouseButton.LeftButton, pos=at(w - 320, 200))
    assert abs(preview.picks[0][0] - 320) < 4
    qtbot.keyClick(preview, Qt.Key.Key_Escape)
    assert preview.picking is None and window.keyframe is kf


class _MergedPerson:
    """A person segmenter stub: one component holding the person (columns 20-39) and, merged into them, a chair
    behind (columns 40-59, rows 30-59) that the flash barely lit."""

    name = "stub"

    def __call__(self, image: np.ndarray) -> np.ndarray:
        prob = np.zeros(image.shape[:2], np.float32)
        prob[10:60, 20:40] = 0.9
        prob[30:60, 40:60] = 0.8
        return prob


def test_a_right_click_on_background_merged_into_the_person_cuts_it_and_keeps_the_person() -> None:
    """The wizard's right click on the background beside a good person mask collapsed it to a fragment: the click
    fell on the person segmenter's component (which took in the chair the flash then trimmed), so the whole person
    was vetoed and GrabCut segmented instead. Now the click cuts that background away and keeps the person."""
    from flashvid.keyframe.core import mark_clicks
    from flashvid.keyframe.person import PersonFlashSegmenter

    h, w = 64, 80
    image = np.full((h, w, 3), 120, np.uint8)
    ratio = np.full((h, w), 0.05, np.float32)
    ratio[10:60, 20:40] = 0.9  # the lit person
    ratio[30:60, 40:60] = 0.3  # the chair: above `far_ratio`, so the flash alone does not trim it
    seg = PersonFlashSegmenter(person=_MergedPerson(), near_ratio=1.0)
    pos, lab = np.array([[30.0, 30.0]]), np.array([1])
    first = seg.segment(image, ratio, pos, lab)
    assert first[40, 50] == 1 and first[30, 30] == 1  # the chair taken in with the person
    pts, labels = np.vstack([pos, [[52.0, 50.0]]]), np.array([1, 0])  # right click on the chair
    again = seg.segment(image, mark_clicks(ratio.copy(), pts[1:], labels[1:]), pts, labels)
    assert "GrabCut" not in seg.last_choice, seg.last_choice
    assert again[10:60, 20:40].mean() == 1.0  # the whole person kept
    assert again[30:60, 41:60].sum() == 0  # the chair gone
    outside = seg.segment(image, mark_clicks(ratio.copy(), [[5.0, 5.0]], [0]), np.array([[30.0, 30.0], [5, 5]]), [1, 0])
    assert np.array_equal(outside, first)  # a click outside the mask changes nothing
