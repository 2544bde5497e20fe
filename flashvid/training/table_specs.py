"""What the paper's four supplementary tables hold (their rows and numbers, ../shared/paper/supplementary.txt) and
the rows we train for tables 3 and 4."""

from __future__ import annotations

from typing import Any

METRICS = ("MSE", "SAD", "Grad", "Conn")
#: the paper's tables (supplementary, Tables 1-4): MSE, SAD, Grad, Conn on its own test set
PAPER: dict[int, dict[str, Any]] = {
    1: {
        "title": "Flash image replaced by the same or a different identity",
        "rows": {
            "No replacement": (0.652, 1804.741, 3742.230, 1626.339),
            "Same identity (no-flash)": (0.667, 1912.454, 3849.037, 1682.390),
            "Same identity (flash)": (0.652, 1804.806, 3741.998, 1626.450),
            "Different identity (flash)": (59.37, 78521.41, 14330.61, 49752.17),
        },
    },
    2: {
        "title": "Background change between the flash and no-flash frames, five grades",
        "rows": {
            "w < 20": (0.663, 1851.338, 3795.702, 1655.836),
            "20 <= w < 40": (0.689, 1879.646, 3807.225, 1689.918),
            "40 <= w < 60": (0.702, 1894.698, 3829.165, 1701.664),
            "60 <= w < 80": (0.734, 1904.221, 3858.938, 1722.240),
            "w >= 80": (0.758, 1921.707, 3887.520, 1748.476),
        },
    },
    3: {
        "title": "Ablations of the settings",
        "rows": {
            "Default": (0.652, 1804.741, 3742.230, 1626.339),
            "w/o. I_c^f and FCM": (1.273, 2895.104, 5476.496, 2798.684),
            "w/o. t_c^f": (0.954, 2486.650, 4627.361, 2498.691),
            "w. box prompt": (0.651, 1801.044, 3738.101, 1624.965),
        },
    },
    4: {
        "title": "Training data and real flash light",
        "rows": {
            "FNF only": (0.854, 2354.638, 4195.965, 2335.611),
            "+ VM240K": (0.684, 1858.307, 3765.889, 1669.774),
            "+ PM-10K": (0.652, 1804.741, 3742.230, 1626.339),
            "FNF only (w/o. real flash)": (0.989, 2529.935, 4756.308, 2538.973),
        },
    },
}
#: Tables 3 and 4: each trained row's changes to the shipped training config
ROWS: dict[int, dict[str, dict[str, Any]]] = {
    3: {
        "default": {},
        "without FCM": {"model_settings": {"use_fcm": False}},
        "without the flash trimap": {"model_settings": {"use_trimap": False}},
        "box prompt": {"trimap": "box"},
    },
    4: {
        "synthesised flash clips only": {"data": "synth"},
        "+ real flash pairs": {"data": "synth+flash"},
        "+ pseudo-labelled real people video": {"data": "synth+flash+video"},
        "synthesised only, pseudo flash": {"data": "synth", "pseudo_flash": True},
    },
}


# ----------------------------------------------------------------------------------------------- test sets
