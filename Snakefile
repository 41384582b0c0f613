# vitbias: train or load ViTs, edit counterfactuals, embed stimuli, test associations, report.
# Thin on purpose: the stages live in workflow/rules/*.smk and the logic in the `bias` package.
from snakemake.utils import min_version, validate


min_version("8.0")


# No `configfile:` here: the default profile (workflow/profiles/default) names
# config/config.yaml, and `--configfile other.yaml` replaces it instead of merging into the demo.
validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/world.smk"
include: "workflow/rules/editor.smk"
include: "workflow/rules/counterfactuals.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/association.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        f"{REPORTS}/index.html",
    default_target: True
