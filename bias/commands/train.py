"""``vitbias train``: train a ViT with one objective and size on ImageFolder data.

    vitbias train --objective mae --size micro --data world/train --out models/mae-micro
    vitbias train --objective simclr --size micro --data world/train --data cda/train \\
        --data-name 2-sided --out models/simclr-cda --epochs 8 --batch-size 128
    torchrun --nproc-per-node 4 -m bias train --objective dino --size vit_small_patch16_224 \\
        --data /imagenet/train --out models/dino-s16 --amp --workers 8
    vitbias train --objective dino --size micro --data world/train --out m --amp --threads 2
    vitbias train --list          # objectives and sizes with parameter counts

Small data (decoded size under --memory-budget-gb) are decoded once into memory and augmented
a batch at a time; --data-path pil forces the per-image PIL path.

Killed mid-run, the same command resumes from ``<out>/state/last.pt``; with a complete
``<out>/model.json`` of the same arguments it does nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from bias.errors import VitbiasError


def register(sub: Any) -> None:
    p = sub.add_parser("train", help="train a ViT with an objective (supervised, SimCLR, "
                       "MoCo v3, DINO, MAE, SimMIM) and size",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objective", help="objective name (see --list)")
    p.add_argument("--size", help="size preset (micro, tiny, small) or timm name (see --list)")
    p.add_argument("--data", action="append", metavar="DIR",
                   help="ImageFolder root (<class>/<image>); repeat to concatenate")
    p.add_argument("--data-name", help="label of the training data in reports (default: "
                   "derived from the folder names), e.g. original, 1-sided, 2-sided")
    p.add_argument("--out", help="checkpoint folder (model.safetensors + model.json)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128, help="global batch size")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (AdamW)")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--samples-per-epoch", type=int, default=None, metavar="N",
                   help="images per epoch, a fresh random subset each epoch (default: all); "
                        "set it to the size of the original data to give CDA runs the same "
                        "number of steps")
    p.add_argument("--warmup-epochs", type=float, default=1.0)
    p.add_argument("--clip-grad", type=float, default=None, help="max gradient norm")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--img-size", type=int, default=None, help="input resolution (px)")
    p.add_argument("--patch-size", type=int, default=None, help="ViT patch size (px)")
    p.add_argument("--objective-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="objective hyper-parameter, e.g. mask_ratio=0.6 (repeatable)")
    p.add_argument("--workers", type=int, default=0,
                   help="DataLoader worker processes (PIL data path only)")
    p.add_argument("--data-path", default="auto", choices=("auto", "memory", "pil"),
                   help="memory: decode every image once and augment whole batches in torch; "
                   "pil: per-image PIL transforms in DataLoader workers; auto (default): "
                   "memory when the decoded images fit --memory-budget-gb")
    p.add_argument("--memory-budget-gb", type=float, default=2.0,
                   help="largest decoded training data for the in-memory path (default 2)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: OMP_NUM_THREADS, else all cores)")
    p.add_argument("--amp", action="store_true",
                   help="bf16 autocast on CUDA, or on a CPU with native bf16 (AVX512-BF16)")
    p.add_argument("--compile", nargs="?", const="inductor", default=None, metavar="BACKEND",
                   help="torch.compile the training step (default backend: inductor): 1.1-1.3x "
                        "faster steps after a one-off compile (15-30 s for micro); for long runs")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--drop-state", action="store_true",
                   help="delete <out>/state after a successful run")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a model or state trained with other arguments")
    p.add_argument("--list", action="store_true", help="list objectives and sizes, then exit")
    p.set_defaults(func=run)


def parse_objective_args(items: list[str]) -> dict[str, Any]:
    """``["mask_ratio=0.6", "norm_pix=false"]`` -> ``{"mask_ratio": 0.6, "norm_pix": False}``."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise VitbiasError(f"--objective-arg '{item}' is not KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value)
    return out


def _print_listing() -> None:
    from bias.objectives import list_objectives, objective_class
    from bias.sizes import describe_sizes

    print("objectives:")
    for name in list_objectives():
        cls = objective_class(name)
        print(f"  {name:<11} {cls.family:<15} {cls.paradigm}")
    print("sizes:")
    print(f"  {'size':<22} {'img':>4} {'patch':>5} {'depth':>5} {'dim':>5} {'heads':>5} "
          f"{'params':>12}")
    for r in describe_sizes():
        print(f"  {r['size']:<22} {r['img_size']:>4} {r['patch_size']:>5} {r['depth']:>5} "
              f"{r['dim']:>5} {r['heads']:>5} {r['params']:>12,}")


def run(args: argparse.Namespace) -> int:
    if args.list:
        _print_listing()
        return 0
    missing = [f"--{k}" for k in ("objective", "size", "data", "out") if not getattr(args, k)]
    if missing:
        raise VitbiasError(f"vitbias train needs {', '.join(missing)}")
    from bias.training import TrainConfig, train

    cfg = TrainConfig(
        objective=args.objective, size=args.size, data=list(args.data), out=args.out,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, warmup_epochs=args.warmup_epochs,
        clip_grad=args.clip_grad, seed=args.seed, samples_per_epoch=args.samples_per_epoch,
        img_size=args.img_size,
        patch_size=args.patch_size, objective_kwargs=parse_objective_args(args.objective_arg),
        data_name=args.data_name, workers=args.workers, data_path=args.data_path,
        memory_budget_gb=args.memory_budget_gb, threads=args.threads, amp=args.amp,
        compile=args.compile, device=args.device,
        keep_state=not args.drop_state, overwrite=args.overwrite)
    train(cfg)
    return 0
