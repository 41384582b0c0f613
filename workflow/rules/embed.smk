# Stage 3a: embeddings of the stimuli, every layer and pooling in one forward pass per batch.


rule embed:
    input:
        model=model_inputs,
        world=lambda wc: world_inputs(dataset_of(wc.model)),
    output:
        emb=f"{R}/embeddings/{{model}}.npz",
    log:
        f"{LOGS}/embed/{{model}}.log",
    conda:
        "../envs/vitbias.yaml"
    threads: EMBED["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=EMBED["gpus"],
    params:
        spec=lambda wc: model_spec(wc.model),
        stimuli=lambda wc: stimuli_of(dataset_of(wc.model)),
        layers=EMBED["layers"],
        pooling=",".join(EMBED["pooling"]),
        batch=EMBED["batch_size"],
    shell:
        "vitbias embed --model {params.spec} --stimuli {params.stimuli} --out {output.emb}"
        " --layers {params.layers} --pooling {params.pooling} --batch-size {params.batch}"
        " --workers {threads} > {log} 2>&1"
