# Stage 4b: the comparison report (self-contained HTML + PNG/SVG figures), also wired into
# `snakemake --report` through the captions in workflow/report/.


rule report:
    input:
        tidy=f"{R}/aggregate/tables/tidy.csv",
    output:
        html=report(
            f"{REPORTS}/index.html",
            caption="../report/index.rst",
            category="Comparison report",
        ),
    log:
        f"{LOGS}/report/report.log",
    conda:
        "../envs/vitbias.yaml"
    threads: 1
    params:
        agg=lambda wc, input: Path(input.tidy).parent,
        out=lambda wc, output: Path(output.html).parent,
        config=(f"--config {workflow.configfiles[0]}" if workflow.configfiles else ""),
    shell:
        "vitbias report --aggregate {params.agg} {params.config}"
        " --out {params.out} > {log} 2>&1"
