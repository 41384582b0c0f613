# Stage 2b: counterfactual training images by diffusion editing, one folder per direction.


rule counterfactuals:
    input:
        editor=editor_inputs,
        world=lambda wc: world_inputs(wc.dataset),
    output:
        meta=f"{R}/counterfactuals/{{dataset}}/{{direction}}/edits.json",
    log:
        f"{LOGS}/counterfactuals/{{dataset}}/{{direction}}.log",
    priority: 10  # the critical path of CDA: start it before the other training
    conda:
        "../envs/vitbias.yaml"
    threads: 1  # small models: one thread per job, two jobs side by side
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=TRAIN["gpus"],
    params:
        name=EDITOR["name"],
        data=lambda wc: train_folder(wc.dataset),
        out=lambda wc, output: Path(output.meta).parent,
        editor=editor_path,
        attribute=optional_flag("--attribute", EDITOR["attribute"]),
        limit=optional_flag("--limit", EDITOR["limit"]),
        seed=config["seed"],
        extra=EDITOR["extra_args"],
    shell:
        "vitbias counterfactuals --editor {params.name} --editor-path {params.editor}"
        " --data {params.data} --out {params.out} --direction {wildcards.direction}"
        " {params.attribute} {params.limit} --seed {params.seed} {params.extra} > {log} 2>&1"
