# Stage 1b: train one ViT per objective x size x data variant x seed.


rule train:
    input:
        train_inputs,
    output:
        meta=f"{R}/models/{{dataset}}/{{variant}}/{{objective}}/{{size}}/seed{{seed}}/model.json",
        weights=f"{R}/models/{{dataset}}/{{variant}}/{{objective}}/{{size}}/seed{{seed}}/model.safetensors",
    log:
        f"{LOGS}/train/{{dataset}}/{{variant}}/{{objective}}/{{size}}/seed{{seed}}.log",
    conda:
        "../envs/vitbias.yaml"
    threads: TRAIN["threads"]
    resources:
        mem_mb=8000,
        runtime=24 * 60,
        gpu=TRAIN["gpus"],
    params:
        data=lambda wc: " ".join(f"--data {f}" for f in training_folders(wc)),
        out=lambda wc, output: Path(output.meta).parent,
        epochs=TRAIN["epochs"],
        batch=TRAIN["batch_size"],
        img=optional_flag("--img-size", TRAIN["img_size"]),
        patch=optional_flag("--patch-size", TRAIN["patch_size"]),
        extra=lambda wc: " ".join(
            (TRAIN["extra_args"], TRAIN["objective_args"].get(wc.objective, ""))
        ),
        steps=equal_steps_flag,
    shell:
        "vitbias train --objective {wildcards.objective} --size {wildcards.size} {params.data}"
        " --data-name {wildcards.variant} --out {params.out} --epochs {params.epochs}"
        " --batch-size {params.batch} --seed {wildcards.seed} {params.img} {params.patch}"
        " {params.steps} {params.extra} > {log} 2>&1"
