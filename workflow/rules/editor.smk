# Stage 2a: the built-in diffusion editor, trained on each synthetic world (real data uses a
# local Stable Diffusion / InstructPix2Pix folder named in the config instead).


rule train_editor:
    input:
        world=f"{R}/worlds/{{world}}/world.json",
    output:
        editor=f"{R}/editors/{{world}}/editor.json",
    log:
        f"{LOGS}/editor/{{world}}.log",
    priority: 20  # the critical path of CDA: start it before the other training
    conda:
        "../envs/vitbias.yaml"
    threads: 1  # small models: one thread per job, two jobs side by side
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=TRAIN["gpus"],
    params:
        root=lambda wc, input: Path(input.world).parent,
        out=lambda wc, output: Path(output.editor).parent,
        steps=EDITOR["train_steps"],
        seed=config["seed"],
    shell:
        "vitbias train-editor --world {params.root} --out {params.out} --steps {params.steps}"
        " --seed {params.seed} --threads {threads} > {log} 2>&1"
