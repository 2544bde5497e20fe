"""dfm-official, the paper's network (DINOv2 ViT-S/14 encoders, FCM, decoders, refiner), wired by
`dfm_official.DeepFlashMatting`; loads the authors' released weights."""
