# vitbias: train or load ViTs, edit counterfactuals, embed stimuli, test associations, report.
# Thin on purpose: the stages live in workflow/rules/*.smk and the logic in the `bias` package.
from snakemake.utils import min_version, validate

min_version("8.0")


# The demo config is the default; `--configfile other.yaml` replaces it instead of being
# merged into it (a merge would keep the demo's worlds in every study).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"


wildcard_constraints:
    world="[A-Za-z0-9_-]+",
    dataset="[A-Za-z0-9_-]+",
    direction="a-to-b|b-to-a",
    variant="original|1-sided|2-sided",
    objective="[a-z0-9_]+",
    size="[A-Za-z0-9_.-]+",
    seed=r"\d+",
    model=r"trained/[^/]+/[^/]+/[^/]+/[^/]+/seed\d+|loaded/[^/]+",


include: "workflow/rules/world.smk"
include: "workflow/rules/editor.smk"
include: "workflow/rules/counterfactuals.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/association.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        f"{REPORTS}/index.html",
