# Stage 3b: association tests (iEAT effect sizes, permutation p-values, bootstrap intervals).
# The catalog is an input here and not upstream, so editing it reruns only this and later.


rule association:
    input:
        emb=f"{R}/embeddings/{{model}}.npz",
        catalog=lambda wc: catalog_of(dataset_of(wc.model)),
    output:
        csv=f"{R}/association/{{model}}.csv",
    log:
        f"{LOGS}/association/{{model}}.log",
    conda:
        "../envs/vitbias.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        permutations=ASSOC["permutations"],
        bootstrap=ASSOC["bootstrap"],
        alternative=ASSOC["alternative"],
        correction=ASSOC["correction"],
        seed=config["seed"],
    shell:
        "vitbias test --embeddings {wildcards.model}={input.emb} --catalog {input.catalog}"
        " --permutations {params.permutations} --bootstrap {params.bootstrap}"
        " --alternative {params.alternative} --correction {params.correction}"
        " --seed {params.seed} --out {output.csv} > {log} 2>&1"
