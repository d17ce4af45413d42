"""Draw a gallery PNG of a dataset in the NYUv2 preprocessed layout (one row per sample).

Usage: python tools/browse_dataset.py ROOT [--split train|val] [--num 6] [--out gallery.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtpsl.utils.cli import run_tool  # noqa: E402
from mtpsl.datasets.procedural.writer import MAP_KEYS, load_sample  # noqa: E402
from mtpsl.visualization.colorize import (colorize_depth, colorize_ids, colorize_label,  # noqa: E402
                                          colorize_normal, make_grid, to_uint8_rgb)

COLUMNS = MAP_KEYS  # every map of the layout, in gallery order


def picture(key: str, arr: np.ndarray, num_classes: int, vmax: float) -> np.ndarray:
    """uint8 RGB picture of one map."""
    if key == "image":
        return to_uint8_rgb(arr)
    if key == "label":
        return colorize_label(arr, num_classes)
    if key == "depth":
        return colorize_depth(arr, vmin=0.0, vmax=vmax)
    if key == "normal":
        return colorize_normal(arr)
    if key == "instance":
        return colorize_ids(arr)
    return to_uint8_rgb((np.asarray(arr).squeeze() > 0).astype(np.float32))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load samples, write the gallery."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--split", default="train", help="folder under ROOT (train or val)")
    ap.add_argument("--num", type=int, default=6)
    ap.add_argument("--out", type=Path, default=Path("gallery.png"))
    args = ap.parse_args(argv)
    base = args.root / args.split
    if not (base / "image").is_dir():
        ap.error(f"{base / 'image'} does not exist; is {args.root} a dataset in the NYUv2 layout?")
    meta_path = args.root / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    num_classes = int(meta.get("num_classes", 13))
    indices = sorted(int(p.stem) for p in (base / "image").glob("*.npy"))[: args.num]
    keys = [k for k in COLUMNS if (base / k).is_dir()]
    problems = [f"missing folder {base / k} (no {k} column)" for k in COLUMNS if k not in keys]
    rows = []
    for i in indices:
        try:
            maps = load_sample(args.root, args.split, i)
        except Exception as e:  # a corrupt file: say which, keep browsing
            problems.append(f"could not read sample {i}: {e}")
            continue
        for k in keys:
            if k not in maps:
                problems.append(f"missing file {base / k / f'{i}.npy'}")
        label = maps.get("label")
        if label is not None:
            bad = (label != -1) & ((label < 0) | (label >= num_classes))
            if bad.any():
                problems.append(f"{base / 'label' / f'{i}.npy'}: {int(bad.sum())} labels outside "
                                f"[0, {num_classes}) (e.g. {int(label[bad].flat[0])}), drawn black")
        vmax = float(maps["depth"].max()) if "depth" in maps and maps["depth"].max() > 0 else 10.0
        rows.append([picture(k, maps[k], num_classes, vmax) for k in keys if k in maps])
    for problem in problems:
        print(f"browse_dataset: {problem}", file=sys.stderr)
    if not rows:
        ap.error(f"no samples found in {base / 'image'}")
    grid = make_grid(rows, titles=[f"{k}" for k in keys])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {args.out}")
    print(f"wrote {args.out} ({len(rows)} samples, columns: {', '.join(keys)})")
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
