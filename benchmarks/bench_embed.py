"""Embedding speed: vitbias' one-pass, all-layer extraction against its baselines.

Side by side in one process, on random-init timm ViTs and synthetic images (no downloads):

1. throughput on the same preprocessed tensors: ``extract_batch`` (all 12 layers, cls +
   mean, final norm on every layer) against the raw ``model.forward_features`` (ViT-S/16,
   224 px); each batch runs both back to back, order alternating. For information, the whole
   ``embed_stimuli`` path from JPEG files (decode, transform, batch) is timed too;
2. an audit of 15 iEAT-sized tests (sets of 8-40 images sharing attribute sets as the iEAT
   tests do; random images in a temp stimulus folder) at all 12 layers of a ViT-B/16:
   vitbias (embed every image once, all layers; one ``run_tests`` over every key) against the
   reference workflow of the iEAT code, which embeds every set again for every test and every
   layer with a full forward pass. The reference's per-image cost relative to vitbias' is
   measured in alternation on one test and extrapolated to all tests and layers; a generous
   reference that stops the forward pass at the layer is given too. Both sides use the same
   statistics engine, so the ratio is about embedding reuse.

Times are CPU seconds of this process (``time.process_time``; decoding runs in-process,
``num_workers=0``): the machine is shared, and wall times drift by 2x within minutes while
CPU times stay within a few percent. Wall times are reported alongside.

Usage: ``python benchmarks/bench_embed.py [--quick]`` (quick: fewer images and repeats);
writes benchmarks/results/embed.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from bias.association import run_tests
from bias.embed import EmbedOptions, embed_stimuli, extract_batch
from bias.embed.images import load_rgb
from bias.embeddings import EmbeddingTable
from bias.models import LoadedModel, state_dict_sha256
from bias.models.timm_source import timm_preprocessing
from bias.stimuli import AssociationTest, scan_stimuli

RESULTS = Path(__file__).resolve().parent / "results" / "embed.md"
LAYERS = list(range(12))
POOLINGS = ["cls", "mean"]


def random_init(arch: str) -> LoadedModel:
    import timm

    torch.manual_seed(0)
    model = timm.create_model(arch, pretrained=False, num_classes=0).eval()
    transform, record = timm_preprocessing(model)
    return LoadedModel(spec=f"{arch} (random init)", source="timm", family="timm", arch=arch,
                       module=model, transform=transform, preprocessing=record,
                       weights_sha256=state_dict_sha256(model))


def clock(fn: Callable[[], Any]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of ``fn()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def embed_opts(batch: int) -> EmbedOptions:
    return EmbedOptions(layers="all", poolings=POOLINGS, batch_size=batch, use_cache=False,
                        num_workers=0, device="cpu")


def throughput(n_images: int, batch: int, repeats: int, workdir: Path) -> dict:
    model = random_init("vit_small_patch16_224")
    m = model.module
    x = torch.randn(n_images, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    runs = {"raw": lambda b: m.forward_features(b),
            "vitbias": lambda b: extract_batch(model, b, LAYERS, POOLINGS)}
    cpu: dict[str, list[float]] = {"raw": [], "vitbias": []}
    wall: dict[str, list[float]] = {"raw": [], "vitbias": []}
    with torch.inference_mode():
        for fn in runs.values():  # warm-up
            fn(x[:batch])
        for i in range(repeats):
            for j, b in enumerate(x.split(batch)):
                for name in list(runs) if (i + j) % 2 == 0 else list(runs)[::-1]:
                    c, w = clock(lambda f=runs[name], b=b: f(b))
                    cpu[name].append(c)
                    wall[name].append(w)
    stim = write_images(workdir / "throughput", {"set/all": n_images}, seed=9)
    files = clock(lambda: embed_stimuli(model, stim, embed_opts(batch)))
    with torch.inference_mode():
        raw_after = clock(lambda: [m.forward_features(b) for b in x.split(batch)])
    return {"n": n_images, "batch": batch, "repeats": repeats, "pairs": len(cpu["raw"]),
            "cpu": {k: sum(v) / repeats for k, v in cpu.items()},
            "wall": {k: sum(v) / repeats for k, v in wall.items()},
            "ratio": sum(cpu["raw"]) / sum(cpu["vitbias"]),
            "ratio_wall": sum(wall["raw"]) / sum(wall["vitbias"]),
            "pair_ratios": [r / v for r, v in zip(cpu["raw"], cpu["vitbias"], strict=True)],
            "files": files, "raw_after": raw_after, "files_ratio": raw_after[0] / files[0]}


def write_images(root: Path, sizes: dict[str, int], seed: int) -> dict[str, list[Path]]:
    """Random-noise JPEGs (256 x 320) per concept; returns ``{concept: paths}``."""
    rng = np.random.default_rng(seed)
    for concept, n in sizes.items():
        folder = root / concept
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = rng.integers(0, 256, (256, 320, 3), dtype=np.uint8)
            Image.fromarray(arr).save(folder / f"{i:03d}.jpg", quality=90)
    return scan_stimuli(root)


def ieat_like_tests(quick: bool, seed: int = 0) -> tuple[list[AssociationTest], dict[str, int]]:
    """15 tests: 8 share valence attributes (as iEAT's), 7 use 3 other attribute pairs;
    5 reuse an earlier test's targets. Set sizes 8-40 (quick: 8-16)."""
    rng = np.random.default_rng(seed)
    hi = 16 if quick else 40
    sizes = {"valence/pleasant": hi, "valence/unpleasant": hi}
    pairs = [("valence/pleasant", "valence/unpleasant")] * 8
    for name in ("career", "science", "weapon"):
        n = int(rng.integers(8, hi // 2 + 1))
        sizes |= {f"{name}/a": n, f"{name}/b": n}
    pairs += [("career/a", "career/b")] * 3 + [("science/a", "science/b")] * 2
    pairs += [("weapon/a", "weapon/b")] * 2
    tests = []
    for i, (a, b) in enumerate(pairs):
        t = i if i < 10 else i - 10  # tests 10-14 reuse the targets of tests 0-4
        if i < 10:
            sizes |= {f"target{t}/x": int(rng.integers(8, hi + 1)),
                      f"target{t}/y": int(rng.integers(8, hi + 1))}
        tests.append(AssociationTest(f"T{i:02d}", f"target{t}/x", f"target{t}/y", a, b))
    return tests, sizes


def reference_embed(model: LoadedModel, stimuli, test, layer: int, stop_early: bool):
    """Decode, preprocess and embed one test's four sets at one layer, as the iEAT code does
    (one batch per set, hidden states of a full forward); returns (cpu, wall) seconds."""
    m = model.module

    def run():
        for concept in test.concepts:
            x = torch.stack([model.transform(load_rgb(p)) for p in stimuli[concept]])
            m.forward_intermediates(x, indices=[layer], norm=True, output_fmt="NLC",
                                    intermediates_only=True, stop_early=stop_early,
                                    return_prefix_tokens=True)

    with torch.inference_mode():
        return clock(run)


def audit(quick: bool, workdir: Path, stats: dict, repeats: int) -> dict:
    model = random_init("vit_base_patch16_224")
    tests, sizes = ieat_like_tests(quick)
    stimuli = write_images(workdir / "audit", sizes, seed=1)
    holder: dict[str, EmbeddingTable] = {}
    embed = clock(lambda: holder.setdefault("t", embed_stimuli(model, stimuli, embed_opts(16))))
    table = holder["t"]
    test_time = clock(lambda: run_tests({"m": table}, tests, **stats))
    ours = (embed[0] + test_time[0], embed[1] + test_time[1])
    n_unique = len(table.image_ids)
    per_test = {t.name: sum(sizes[c] for c in t.concepts) for t in tests}

    # The reference's per-image cost relative to vitbias', in alternation on the smallest
    # test (both decode from files): a full forward, and one stopped after block 0 (cost is
    # linear in the depth reached, so their mean is the mean over the 12 layers).
    small = next(t for t in tests if t.name == min(per_test, key=per_test.get))
    sub = {c: stimuli[c] for c in small.concepts}
    rel: dict[str, list[float]] = {"full": [], "early": []}
    for _ in range(repeats):
        mine = clock(lambda: embed_stimuli(model, sub, embed_opts(16)))[0]
        full = reference_embed(model, stimuli, small, 11, stop_early=False)[0]
        first = reference_embed(model, stimuli, small, 0, stop_early=True)[0]
        rel["full"].append(full / mine)
        rel["early"].append((first + full) / 2 / mine)
    # Statistics of one test at one layer, as the reference calls them (15 calls timed).
    one = EmbeddingTable({k: v for k, v in table.arrays.items() if k[1] == 11},
                         table.image_ids, table.concepts)
    stat_call = statistics.mean(
        clock(lambda t=test: run_tests({"m": one}, [t], **stats))[0] for test in tests)
    n_calls = len(tests) * len(LAYERS)
    images_total = sum(per_test.values()) * len(LAYERS)
    ours_img = embed[0] / n_unique  # vitbias CPU seconds per image in the measured run
    ref = {k: images_total * statistics.median(v) * ours_img + n_calls * stat_call
           for k, v in rel.items()}
    return {"n_unique": n_unique, "n_tests": len(tests), "images_per_layer":
            sum(per_test.values()), "set_sizes": sizes, "embed": embed, "tests": test_time,
            "ours": ours, "ours_img": ours_img, "rel": rel, "small_images": per_test[small.name],
            "stat_call": stat_call, "ref": ref,
            "ratio": {k: v / ours[0] for k, v in ref.items()}}


def report(tp: dict, au: dict, args, load: tuple, stats: dict) -> str:
    def fmt(values):
        return [round(v, 2) for v in values]

    lines = [
        "# Embedding benchmark (`benchmarks/bench_embed.py`)", "",
        f"Run: `python benchmarks/bench_embed.py{' --quick' if args.quick else ''}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__} with {torch.get_num_threads()} threads, CPU only. Load average "
        f"before/after: {load[0]:.1f} / {load[1]:.1f}. The machine is shared with other jobs: "
        "times are CPU seconds of the benchmark process (wall seconds in brackets), and every "
        "ratio compares measurements made in alternation.", "",
        "## 1. Throughput: all 12 layers, cls + mean, vs the raw forward", "",
        f"ViT-S/16 at 224 px, random init, {tp['n']} preprocessed images in batches of "
        f"{tp['batch']}, {tp['repeats']} repeats; each batch runs both paths back to back "
        f"(order alternating), {tp['pairs']} pairs.", "",
        "| path | CPU s per pass [wall] | vs raw forward |", "|---|---|---|",
        f"| raw `model.forward_features` | {tp['cpu']['raw']:.2f} [{tp['wall']['raw']:.2f}] "
        "| 1.00 |",
        f"| vitbias `extract_batch` (24 keys) | {tp['cpu']['vitbias']:.2f} "
        f"[{tp['wall']['vitbias']:.2f}] | **{tp['ratio']:.2f}** (wall {tp['ratio_wall']:.2f}; "
        "goal >= 0.85) |",
        f"| vitbias `embed_stimuli` from JPEG files | {tp['files'][0]:.2f} "
        f"[{tp['files'][1]:.2f}] | {tp['files_ratio']:.2f} vs a raw pass right after "
        f"({tp['raw_after'][0]:.2f} s), decoding included |", "",
        f"Per-batch CPU ratios raw / vitbias: {fmt(tp['pair_ratios'])}.", "",
        "## 2. Audit: 15 iEAT-sized tests x 12 layers, ViT-B/16", "",
        f"{au['n_tests']} tests, {au['n_unique']} distinct images (sets of "
        f"{min(au['set_sizes'].values())}-{max(au['set_sizes'].values())}; 8 tests share the "
        f"valence attribute sets, 5 reuse targets); the reference embeds "
        f"{au['images_per_layer']} images per layer, {au['images_per_layer'] * 12} in all. "
        f"Both run the statistics with `run_tests` ({stats}).", "",
        "| workflow | CPU s [wall] | vitbias speed-up |", "|---|---|---|",
        f"| vitbias, measured: embed once, all layers ({au['embed'][0]:.0f} s, "
        f"{au['ours_img'] * 1e3:.0f} ms/image) + one `run_tests` over all keys "
        f"({au['tests'][0]:.0f} s) | {au['ours'][0]:.0f} [{au['ours'][1]:.0f}] | - |",
        f"| reference as in the iEAT code: each set embedded again per test and layer, full "
        f"forward (extrapolated) | {au['ref']['full']:.0f} | **{au['ratio']['full']:.1f}x** "
        "(goal >= 20x) |",
        f"| generous reference: forward stopped at the layer (extrapolated) | "
        f"{au['ref']['early']:.0f} | {au['ratio']['early']:.1f}x |", "",
        f"The reference was not run in full ({au['ref']['full'] / 3600:.1f} CPU hours "
        f"here); it is extrapolated. Its per-image cost relative to vitbias' was measured in "
        f"alternation on the smallest test ({au['small_images']} images, both decoding from "
        f"files): full forward {fmt(au['rel']['full'])}, stopped early (mean over layers) "
        f"{fmt(au['rel']['early'])} (medians used). Reference = images x relative cost x "
        f"vitbias' measured CPU s/image + 180 test calls x {au['stat_call'] * 1e3:.0f} ms "
        f"(mean of 15 timed calls).", "",
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer images and repeats")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    stats = {"n_permutations": 10_000, "n_bootstrap": 1000, "seed": 0}
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tp = throughput(32 if args.quick else 64, 16, 2 if args.quick else 3, Path(tmp))
        print(f"throughput ratio {tp['ratio']:.2f}", flush=True)
        au = audit(args.quick, Path(tmp), stats, 2 if args.quick else 3)
    text = report(tp, au, args, (load0, os.getloadavg()[0]), stats)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
