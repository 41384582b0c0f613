# Stage 1b: train one ViT per objective x size x data variant x seed.


def train_inputs(wildcards):
    ds = wildcards.dataset
    cf = [
        f"{R}/counterfactuals/{ds}/{d}/edits.json"
        for d in CDA_FOLDERS[wildcards.variant]
    ]
    return world_inputs(ds) + cf


rule train:
    input:
        train_inputs,
    output:
        meta=f"{R}/models/{{dataset}}/{{variant}}/{{objective}}/{{size}}/seed{{seed}}/model.json",
        weights=f"{R}/models/{{dataset}}/{{variant}}/{{objective}}/{{size}}/seed{{seed}}/model.safetensors",
    log:
        f"{LOGS}/train/{{dataset}}/{{variant}}/{{objective}}/{{size}}/seed{{seed}}.log",
    threads: 2
    resources:
        mem_mb=8000,
        runtime=24 * 60,
        gpu=TRAIN["gpus"],
    params:
        data=lambda wc: " ".join(f"--data {f}" for f in training_folders(wc)),
        out=lambda wc, output: Path(output.meta).parent,
        img=lambda wc: f"--img-size {TRAIN['img_size']}" if TRAIN["img_size"] else "",
        patch=lambda wc: (
            f"--patch-size {TRAIN['patch_size']}" if TRAIN["patch_size"] else ""
        ),
        extra=TRAIN["extra_args"],
    shell:
        "vitbias train --objective {wildcards.objective} --size {wildcards.size} {params.data}"
        " --out {params.out} --epochs {TRAIN[epochs]} --batch-size {TRAIN[batch_size]}"
        " --seed {wildcards.seed} {params.img} {params.patch} {params.extra} > {log} 2>&1"
