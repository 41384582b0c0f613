# Stage 2b: counterfactual training images by diffusion editing, one folder per direction.


def editor_path(wildcards):
    if EDITOR["path"]:
        return EDITOR["path"]
    return f"{R}/editors/{wildcards.dataset}"


rule counterfactuals:
    input:
        editor=lambda wc: (
            [] if EDITOR["path"] else [f"{R}/editors/{wc.dataset}/editor.json"]
        ),
        world=lambda wc: world_inputs(wc.dataset),
    output:
        meta=f"{R}/counterfactuals/{{dataset}}/{{direction}}/edits.json",
    log:
        f"{LOGS}/counterfactuals/{{dataset}}/{{direction}}.log",
    threads: 2
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=TRAIN["gpus"],
    params:
        data=lambda wc: train_folder(wc.dataset),
        out=lambda wc, output: Path(output.meta).parent,
        editor=editor_path,
        attribute=lambda wc: (
            f"--attribute {EDITOR['attribute']}" if EDITOR["attribute"] else ""
        ),
        limit=lambda wc: f"--limit {EDITOR['limit']}" if EDITOR["limit"] else "",
        seed=config["seed"],
        extra=EDITOR["extra_args"],
    shell:
        "vitbias counterfactuals --editor {EDITOR[name]} --editor-path {params.editor}"
        " --data {params.data} --out {params.out} --direction {wildcards.direction}"
        " {params.attribute} {params.limit} --seed {params.seed} {params.extra} > {log} 2>&1"
