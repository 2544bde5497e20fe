"""Pictures for people: the ratio map with its points, masks and trimaps over the image, contact sheets.

All functions take and return H x W x 3 uint8 RGB arrays.
"""

from __future__ import annotations

import cv2
import numpy as np


def ratio_with_points(ratio: np.ndarray, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The ratio map (0..1) as a colour map (inferno-like, via OpenCV) with positive points green, negative red."""
    img = cv2.applyColorMap((np.clip(ratio, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[:, :, ::-1]
    img = np.ascontiguousarray(img)
    r = max(3, round(0.012 * max(ratio.shape)))
    for (x, y), lab in zip(np.asarray(points).reshape(-1, 2), np.asarray(labels).reshape(-1)):
        colour = (40, 220, 60) if lab == 1 else (230, 40, 40)
        cv2.circle(img, (round(float(x)), round(float(y))), r + 2, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, (round(float(x)), round(float(y))), r, colour, -1, cv2.LINE_AA)
    return img


def mask_overlay(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (40, 220, 60)) -> np.ndarray:
    """The image dimmed outside the mask and tinted inside it, with the mask's outline."""
    m = (mask > 0)[..., None]
    tint = np.asarray(colour, np.float32)
    out = np.where(m, 0.7 * image + 0.3 * tint, 0.35 * image).astype(np.uint8)
    contours, _ = cv2.findContours((mask > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, colour, max(1, round(0.004 * max(mask.shape))), cv2.LINE_AA)
    return out


def trimap_overlay(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """The image with background darkened, the unknown band in yellow and the foreground as it is."""
    out = image.astype(np.float32)
    bg, unk = trimap < 64, (trimap >= 64) & (trimap < 192)
    out[bg] *= 0.25
    out[unk] = 0.45 * out[unk] + 0.55 * np.array([255, 210, 0], np.float32)
    return out.astype(np.uint8)


def label(image: np.ndarray, text: str) -> np.ndarray:
    """The image with a caption in its top-left corner."""
    out = image.copy()
    scale = max(0.4, image.shape[0] / 600)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(out, (0, 0), (tw + 8, th + base + 8), (0, 0, 0), -1)
    cv2.putText(out, text, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def grid(rows: list[list[np.ndarray]], cell_height: int = 240) -> np.ndarray:
    """A contact sheet: each row of images scaled to `cell_height` and placed side by side, rows stacked."""
    lines = []
    for row in rows:
        scaled = [
            cv2.resize(
                im, (max(1, round(im.shape[1] * cell_height / im.shape[0])), cell_height), interpolation=cv2.INTER_AREA
            )
            for im in row
        ]
        lines.append(np.concatenate(scaled, axis=1))
    width = max(line.shape[1] for line in lines)
    lines = [np.pad(line, ((0, 0), (0, width - line.shape[1]), (0, 0))) for line in lines]
    return np.concatenate(lines, axis=0)
