# Stage 3a: embeddings of the stimuli, every layer and pooling in one forward pass per batch.


rule embed:
    input:
        model=model_inputs,
        world=lambda wc: world_inputs(dataset_of(wc.model)),
    output:
        emb=f"{R}/embeddings/{{model}}.npz",
    log:
        f"{LOGS}/embed/{{model}}.log",
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=EMBED["gpus"],
    params:
        spec=lambda wc: model_spec(wc.model),
        stimuli=lambda wc: stimuli_of(dataset_of(wc.model)),
        pooling=",".join(EMBED["pooling"]),
    shell:
        "vitbias embed --model {params.spec} --stimuli {params.stimuli} --out {output.emb}"
        " --layers {EMBED[layers]} --pooling {params.pooling} --batch-size {EMBED[batch_size]}"
        " --workers {threads} > {log} 2>&1"
