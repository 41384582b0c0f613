# Stage 4a: one tidy table of every model x layer x pooling x test, summaries by factor,
# meta-analysis and regression.


rule models_meta:
    input:
        trained_model_jsons(),
    output:
        meta=f"{R}/aggregate/models.json",
    log:
        f"{LOGS}/aggregate/models_meta.log",
    conda:
        "../envs/vitbias.yaml"
    params:
        trained=trained_ids(),
        loaded=list(LOADED.values()),
    script:
        "../scripts/models_meta.py"


rule aggregate:
    input:
        csv=[f"{R}/association/{m}.csv" for m in model_ids()],
        meta=f"{R}/aggregate/models.json",
    output:
        tidy=f"{R}/aggregate/tables/tidy.csv",
    log:
        f"{LOGS}/aggregate/aggregate.log",
    conda:
        "../envs/vitbias.yaml"
    threads: 1
    params:
        out=lambda wc, output: Path(output.tidy).parent,
    shell:
        "vitbias aggregate --results {input.csv} --models-meta {input.meta}"
        " --out {params.out} > {log} 2>&1"
