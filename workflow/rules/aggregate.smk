# Stage 4a: one tidy table of every model x layer x pooling x test, summaries by factor,
# meta-analysis and regression.


rule models_meta:
    input:
        [f"{R}/models/{m.split('/', 1)[1]}/model.json" for m in trained_ids()],
    output:
        meta=f"{R}/aggregate/models.json",
    log:
        f"{LOGS}/aggregate/models_meta.log",
    params:
        trained=trained_ids(),
        loaded=list(LOADED.values()),
        results=R,
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
    threads: 1
    params:
        out=lambda wc, output: Path(output.tidy).parent,
    shell:
        "vitbias aggregate --results {input.csv} --models-meta {input.meta}"
        " --out {params.out} > {log} 2>&1"
