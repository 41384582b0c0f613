# Stage 1a: the synthetic world (training images, stimuli, catalog with planted biases).


rule world:
    output:
        world=f"{R}/worlds/{{world}}/world.json",
        catalog=f"{R}/worlds/{{world}}/catalog.yaml",
    log:
        f"{LOGS}/world/{{world}}.log",
    conda:
        "../envs/vitbias.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        root=lambda wc, output: Path(output.world).parent,
        biases=lambda wc: " ".join(
            f"--bias {k}={v}" for k, v in WORLDS[wc.world]["biases"].items()
        ),
        size=lambda wc: WORLDS[wc.world]["size"],
        train=lambda wc: WORLDS[wc.world]["train"],
        stimuli=lambda wc: WORLDS[wc.world]["stimuli"],
        seed=config["seed"],
        scale=lambda wc: WORLDS[wc.world]["object_scale"],
        layout=lambda wc: WORLDS[wc.world]["stimulus_layout"],
        palette=lambda wc: WORLDS[wc.world]["palette"],
        cue=lambda wc: WORLDS[wc.world]["valence_cue"],
    shell:
        "vitbias world --out {params.root} --size {params.size} --train {params.train}"
        " --stimuli {params.stimuli} {params.biases} --seed {params.seed}"
        " --object-scale {params.scale} --stimulus-layout {params.layout}"
        " --palette {params.palette} --valence-cue {params.cue} > {log} 2>&1"
