"""`FlashVidRT`: the real-time flash-guided matting network (assembly of the modules beside it)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flashvid.network.preprocess import IMAGENET_MEAN, IMAGENET_STD, internal_resize
from flashvid.network.rt.decoder import RecurrentDecoder
from flashvid.network.rt.encoder import ConvEncoder
from flashvid.network.rt.fcm import CrossAttentionFCM
from flashvid.network.rt.guided_filter import DeepGuidedFilter
from flashvid.network.rt.heads import MattingHeads
from flashvid.network.rt.mobilenet import MobileNetV2
from flashvid.network.rt.person_prior import (
    PersonPrior,
    connected,
    dilate,
    soft_above,
    still_background,
    unchanged_background,
)
from flashvid.network.rt.subject_gate import SubjectGate


class FlashVidRT(nn.Module):
    """encode_keyframe(flash [B,3,H,W] 0..1, trimap_onehot [B,3,H,W] (bg, unknown, fg), noflash [B,3,H,W] 0..1
    or None) -> keyframe tensors, once; forward(frame [B,3,H,W] 0..1, *keyframe, *rec) -> (alpha [B,1,H,W] 0..1,
    fgr [B,3,H,W] 0..1, *rec).

    Frames are resized by `downsample_ratio` (None: long side `internal_size`) and padded to a multiple of 16;
    the deep guided filter lifts the result to the frame's size.

    Args:
        encoder: ``"mobilenetv2"`` (ImageNet MobileNetV2 1.0 to 1/16, shared by the frame and the flash image:
            the FCM then compares features of one space) or ``"conv"`` (small encoders trained from scratch,
            with `channels`).
        use_prior: give the decoder a propagated prior of the subject: the previous frame's alpha, carried as
            the last recurrent state ``[B,2,h,w]`` (alpha, valid). A zero state (the first frame, or after
            `reset`) means "no previous frame" and the keyframe's own soft mask stands in, so the lifecycle and
            the state list stay the same under every engine.
        use_fcm: ``False`` drops the flash branch (the keyframe's 1/16 trimap is added in place instead).
        use_trimap: ``False`` hides the trimap from the network.
        person_prior: (with use_prior) find the people in every frame with the shipped person segmenter
            (`PersonPrior`) and keep those connected to where the subject was (`subject_region`): that region
            joins the propagated prior, the matte stays at least that region (the network adds hair, soft edges
            and what the segmenter misses) and nothing is kept far from it. No weights of its own in a
            checkpoint: a run-time setting.
        subject_gate: ``(low, high)`` or ``(low, high, hold_low, hold_high)`` thresholds of a `SubjectGate`
            (mobilenetv2 encoder only): the matte fades out where the matted person does not look like the
            keyframe's subject in its no-flash image; None for none. With hold thresholds the gate's value is
            one more recurrent state ``[B,1,1,1]``, after the prior's. It has no weights (a run-time setting:
            any checkpoint takes it or leaves it).
    """

    def __init__(
        self,
        channels: tuple[int, ...],
        dec: tuple[int, ...],
        hid: int,
        fcm_dim: int,
        fcm_heads: int,
        internal_size: int,
        use_fcm: bool = True,
        use_trimap: bool = True,
        encoder: str = "mobilenetv2",
        use_prior: bool = True,
        subject_gate: tuple[float, ...] | None = None,
        person_prior: bool = False,
    ) -> None:  # defaults: build.py
        super().__init__()
        if encoder == "mobilenetv2":
            self.frame_encoder: nn.Module = MobileNetV2(depth=13)
            feat = self.frame_encoder.feature_channels
            self.flash_encoder: nn.Module | None = None
        elif encoder == "conv":
            c4 = (channels[0], channels[1], channels[2], channels[3])
            self.frame_encoder = ConvEncoder(3, c4)
            self.flash_encoder = ConvEncoder(6, c4)
            feat = tuple(channels)
        else:
            raise ValueError(f"unknown encoder {encoder!r}; choose mobilenetv2 or conv")
        self.fcm = CrossAttentionFCM(feat[3], fcm_dim, fcm_heads) if use_fcm else None
        self.trimap_in = None if use_fcm else nn.Conv2d(3, feat[3], 1)
        self.prior_in = nn.Conv2d(1, feat[3], 1) if use_prior else None
        img_channels = 4 if use_prior else 3
        self.decoder = RecurrentDecoder(feat, dec, hid, img_channels=img_channels)  # type: ignore[arg-type]
        self.heads = MattingHeads(hid, dec[0])
        self.refiner = DeepGuidedFilter(hid)
        self.gate = SubjectGate(*subject_gate) if subject_gate is not None and encoder == "mobilenetv2" else None
        self.person = PersonPrior() if person_prior and use_prior else None
        self.gate_channels = int(feat[2])  # the 1/8 features the gate compares
        self.internal_size, self.use_trimap, self.use_prior = internal_size, use_trimap, use_prior
        self.encoder_kind = encoder
        self.downsample_ratio: float | None = None
        self.imagenet_mean: Tensor
        self.imagenet_std: Tensor
        self.register_buffer("imagenet_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("imagenet_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def num_keyframe_tensors(self) -> int:
        n = (2 if self.fcm is not None else 1) + (1 if self.gate is not None else 0) + (1 if self.use_prior else 0)
        return n + (1 if self.person is not None else 0)

    def ratio_for(self, height: int, width: int) -> float:
        r = self.downsample_ratio
        return min(1.0, self.internal_size / max(height, width)) if r is None else r

    def _small(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return internal_resize(x, self.ratio_for(x.shape[2], x.shape[3]))

    def _encode(self, img: Tensor, trimap: Tensor | None = None) -> list[Tensor]:
        if self.encoder_kind == "mobilenetv2":
            return list(self.frame_encoder(img))
        x = (img - self.imagenet_mean) / self.imagenet_std
        if trimap is None:
            return list(self.frame_encoder(x))
        assert self.flash_encoder is not None
        return list(self.flash_encoder(torch.cat([x, trimap], dim=1)))

    def encode_keyframe(
        self, flash: Tensor, trimap_onehot: Tensor, noflash: Tensor | None = None
    ) -> tuple[Tensor, ...]:
        """-> (k, v) from the FCM (or (tri16,) without it), then with the subject gate the subject's descriptor
        [B,D] (`SubjectGate.descriptor_size`) from the `noflash` image (zeros without one: the gate stays open),
        then with the prior the keyframe's soft mask [B,1,h,w] at the internal resolution (fg + half the unknown
        band), then with the person prior the keyframe's sure background as it looked (`still_background`
        [B,4,h/4,w/4] of the `noflash` image; marked nowhere without one)."""
        if not self.use_trimap:
            trimap_onehot = torch.zeros_like(trimap_onehot)
        soft = trimap_onehot[:, 2:3] + 0.5 * trimap_onehot[:, 1:2]
        _, img = self._small(flash)
        _, tri = self._small(trimap_onehot)
        tri16 = F.avg_pool2d(tri, 16)
        soft_small, soft_pad = self._small(soft)
        extra: tuple[Tensor, ...] = ()
        if self.gate is not None:
            size = self.gate.descriptor_size(self.gate_channels)
            if noflash is None:
                extra += (torch.zeros(flash.shape[0], size, device=flash.device, dtype=flash.dtype),)
            else:
                _, img_n = self._small(noflash)
                f3 = self._encode(img_n)[2]
                extra += (self.gate.describe(f3, F.avg_pool2d(img_n, 8), F.avg_pool2d(soft_pad, 8)),)
        if self.use_prior:
            extra += (soft_small,)
        if self.person is not None:
            _, sure_bg = self._small(trimap_onehot[:, 0:1])
            _, img_n = self._small(flash if noflash is None else noflash)
            extra += (still_background(img_n, sure_bg if noflash is not None else torch.zeros_like(sure_bg)),)
        if self.fcm is None:
            return (tri16, *extra)
        f4 = self._encode(img, tri)[3]
        return (*self.fcm.encode(f4, tri16), *extra)

    def initial_state(self, frame: Tensor) -> list[Tensor]:
        """Zero recurrent state (r1..r4, and the prior state with use_prior) for frames of `frame`'s shape."""
        _, pad = self._small(frame)
        b, h, w = frame.shape[0], pad.shape[2], pad.shape[3]
        shapes = self.decoder.state_shapes(b, h, w) + ([(b, 2, h, w)] if self.use_prior else [])
        if self.gate is not None and self.gate.holds:
            shapes.append((b, 1, 1, 1))
        return [torch.zeros(s, device=frame.device, dtype=frame.dtype) for s in shapes]

    def forward_aux(self, frame: Tensor, *args: Tensor) -> dict[str, Tensor | list[Tensor]]:
        """The forward pass with every output: alpha, fgr, rec and, at the internal resolution, alpha_small,
        fgr_small, fgr_residual, trimap_logits (at 1/8) and prior (what the decoder was given)."""
        n = self.num_keyframe_tensors
        keyframe, rec = list(args[:n]), list(args[n:])
        still = keyframe.pop() if self.person is not None else None
        small, img = self._small(frame)
        f1, f2, f3, f4 = self._encode(img)[:4]
        guide = img
        prior = None
        kmask = keyframe.pop() if self.use_prior else None
        subject: Tensor | None = None
        keep: Tensor | None = None
        kdesc = keyframe.pop() if self.gate is not None else None
        held = rec.pop() if self.gate is not None and self.gate.holds else None
        if kmask is not None:
            state = rec.pop()
            key = F.interpolate(kmask, size=img.shape[2:], mode="bilinear", align_corners=False)
            valid = state[:, 1:2]
            prior = state[:, :1] * valid + key * (1.0 - valid)
            if self.person is not None:
                assert still is not None
                subject, keep = self._person_subject(img, prior, key, still)
                prior = torch.maximum(prior, subject)
            guide = torch.cat([img, prior], dim=1)
            f4 = f4 + self.prior_in(F.avg_pool2d(prior, 16))  # type: ignore[misc]
        if self.fcm is not None:
            f4 = self.fcm(f4, *keyframe)
        else:
            f4 = f4 + self.trimap_in(F.interpolate(keyframe[0], size=f4.shape[2:], mode="bilinear"))  # type: ignore[misc]
        dec = self.decoder(guide, f1, f2, f3, f4, *rec)
        hid, x3, rec_out = dec[0], dec[1], list(dec[2:])  # not starred unpacking: dynamo (torch 2.11) made a tuple
        alpha_p, fgr_p, fgr_res, tri = self.heads(hid, x3, img)
        core: Tensor | None = None
        if subject is not None and keep is not None:  # never far from the subject, never below its region
            # (the floor was the region eroded by 2 px until the matte kept the subject no better than the
            # segmenter: not eroding it lifted out-of-room IoU 0.769 / 0.781 -> 0.816 / 0.798 and lowered the
            # held-out composites' SAD in the unknown band 6.12 -> 5.90; see MODEL.md)
            core = subject
            alpha_p = torch.maximum(alpha_p * keep, core)
        if self.use_prior:
            rec_out.append(torch.cat([alpha_p, torch.ones_like(alpha_p)], dim=1).detach())
        h, w = small.shape[2:]
        alpha_s, fgr_s, hid = alpha_p[:, :, :h, :w], fgr_p[:, :, :h, :w], hid[:, :, :h, :w]
        alpha, fgr = self.refiner(frame, small, alpha_s, fgr_s, hid)
        if core is not None and keep is not None:  # the same bounds at full size (the filter may stray inside)
            bounds = F.interpolate(torch.cat([core, keep], 1)[:, :, :h, :w], size=frame.shape[2:], mode="bilinear")
            alpha = torch.maximum(alpha * bounds[:, 1:2], bounds[:, 0:1])
        small_out = {"alpha_small": alpha_s, "fgr_small": fgr_s, "fgr_residual": fgr_res[:, :, :h, :w]}
        if self.gate is not None and kdesc is not None:  # the recurrent prior keeps the ungated matte
            where = alpha_p if prior is None else alpha_p * prior  # where the matte and its prior agree
            gate, similarity = self.gate(f3, F.avg_pool2d(img, 8), F.avg_pool2d(where, 8), kdesc, held)
            alpha = alpha * gate
            small_out.update(alpha_small=alpha_s * gate, gate=gate, similarity=similarity)
            if held is not None:
                rec_out.append(gate.to(held.dtype))
        if prior is not None:
            small_out["prior"] = prior[:, :, :h, :w]
        return {"alpha": alpha, "fgr": fgr, "rec": rec_out, "trimap_logits": tri, **small_out}

    def _person_subject(self, img: Tensor, prior: Tensor, key: Tensor, still: Tensor) -> tuple[Tensor, Tensor]:
        """(the people connected to the prior or to the keyframe's mask, at the internal size [B,1,h,w]; where the
        matte may be: that, the prior and the keyframe's mask, widened by about 3 % of the frame). The keyframe's
        mask stays a seed and stays allowed, so a subject the matte lost is found again where the keyframe saw
        them, person or not. `still` (`still_background`) takes out of the allowed zone what still looks as the
        keyframe's sure background did."""
        assert self.person is not None
        person = self.person(img)
        person4, prior4, key4 = F.avg_pool2d(person, 4), F.avg_pool2d(prior, 4), F.avg_pool2d(key, 4)
        reach4 = connected(person4, torch.maximum(prior4, key4))
        size = img.shape[2:]
        subject = person * F.interpolate(reach4, size=size, mode="bilinear", align_corners=False)
        radius = max(1, round(0.03 * self.internal_size / 4))  # about 3 % of the internal size, in 1/4 pixels
        keep = F.interpolate(
            # where the subject is, was, or was at the keyframe: a subject the person segmenter does not see (an
            # object, an animal) whose matte faded can come back where the keyframe saw it
            dilate(torch.maximum(reach4, soft_above(torch.maximum(prior4, key4), 0.25)), radius),
            size=size,
            mode="bilinear",
            align_corners=False,
        )
        # ... but not where the frame still shows the keyframe's background: the network may not add a shelf or a
        # wall beside the subject that has not changed since the keyframe (a moving camera, new light, or anything
        # that passes there changes the cells, and the subject's own region is the floor whatever this says)
        img4 = F.avg_pool2d(img, 4)
        if still.shape[2:] != img4.shape[2:]:  # frames of another size than the keyframe's: the same view, scaled
            still = F.interpolate(still, size=img4.shape[2:], mode="bilinear", align_corners=False)
        moved = 1.0 - unchanged_background(img4, still)
        keep = keep * F.interpolate(moved, size=size, mode="bilinear", align_corners=False)
        return subject, keep

    def forward(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        out = self.forward_aux(frame, *args)
        return (out["alpha"], out["fgr"], *out["rec"])

    def load_pretrained_encoder(self, path: str) -> None:
        """Load converted ImageNet MobileNetV2 weights (flashvid.network.tflite_import) into the encoder, strictly
        for the blocks it keeps."""
        from safetensors.torch import load_file

        sd = load_file(path)
        own = self.frame_encoder.state_dict()
        missing = sorted(set(own) - set(sd))
        if missing:
            from flashvid.errors import CheckpointError

            raise CheckpointError(f"{path}: no MobileNetV2 weights for {missing[:3]}; convert the TFLite file again")
        self.frame_encoder.load_state_dict({k: sd[k] for k in own}, strict=True)
