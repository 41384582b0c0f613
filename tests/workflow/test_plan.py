"""The Snakemake workflow plans every shipped config, and rejects a bad config by name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def snakemake(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts from the 'Job stats' table of a dry run."""
    lines = proc.stdout.splitlines()
    start = lines.index("Job stats:") + 3
    counts = {}
    for line in lines[start:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.parametrize("config, expected", [
    # 3 objectives on the biased world (original, 1-sided, 2-sided) and on the control
    # (+ 1 embedding and association of the low-level baseline)
    ("config/config.yaml", {"world": 2, "train": 12, "train_editor": 1, "counterfactuals": 2,
                            "embed": 13, "association": 13, "report": 1}),
    ("config/smoke.yaml", {"world": 1, "train": 4, "train_editor": 1, "counterfactuals": 1,
                           "embed": 5, "association": 5, "report": 1}),
    # 6 objectives x 2 sizes x 2 seeds on two worlds, no CDA
    ("config/calibration.yaml", {"world": 2, "train": 48, "embed": 48, "association": 48}),
    ("config/calibration_large.yaml", {"world": 2, "train": 48, "association": 48}),
    ("config/calibration_plain.yaml", {"world": 2, "train": 24, "association": 24}),
    ("config/calibration_plain_tiny.yaml", {"world": 2, "train": 24, "association": 24}),
    ("config/calibration_plain_long.yaml", {"world": 2, "train": 24, "association": 24}),
    ("config/calibration_wall.yaml", {"world": 2, "train": 24, "association": 24}),
    # overlays: several configfiles merge (5 objectives x 1 or 2 sizes x 2 seeds x 2 worlds)
    ("config/calibration_wall.yaml config/calibration_wall_tiny.yaml",
     {"world": 2, "train": 20, "association": 20}),
    ("config/calibration_wall.yaml config/calibration_wall_keeptone.yaml",
     {"world": 2, "train": 40, "association": 40}),
    ("config/calibration_wall.yaml config/calibration_wall_unsolarized.yaml",
     {"world": 2, "train": 40, "association": 40}),
    ("config/calibration_wall.yaml config/calibration_wall_full.yaml",
     {"world": 2, "train": 40, "association": 40}),
    # MAE alone (400 epochs) x 2 sizes x 2 seeds x 2 worlds
    ("config/calibration_wall.yaml config/calibration_wall_mae400.yaml",
     {"world": 2, "train": 8, "association": 8}),
    ("config/cda_plain.yaml", {"world": 1, "train": 18, "train_editor": 1, "counterfactuals": 2,
                               "report": 1}),
    # 5 objectives x 2 sizes x 3 data x 2 seeds trained, 14 published checkpoints loaded
    ("config/paper.yaml", {"train": 60, "counterfactuals": 2, "embed": 74, "report": 1}),
])
def test_dry_run_plans_the_study(config, expected, tmp_path):
    # --forceall: plan every job, whatever an earlier run left in results/
    proc = snakemake("-n", "--forceall", "--configfile", *config.split(), "--directory", str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = planned_jobs(proc)
    for rule, n in expected.items():
        assert counts.get(rule) == n, (rule, counts)


def test_bad_config_field_is_named(tmp_path):
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["train"]["objectives"] = ["supervised", "telepathy"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = snakemake("-n", "--configfile", str(bad))
    assert proc.returncode != 0
    assert "telepathy" in proc.stderr + proc.stdout


def test_unknown_config_key_is_rejected(tmp_path):
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["trian"] = {"epochs": 3}  # a typo must not be silently ignored
    bad = tmp_path / "typo.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = snakemake("-n", "--configfile", str(bad))
    assert proc.returncode != 0
    assert "trian" in proc.stderr + proc.stdout


def test_lint_and_format_are_clean():
    proc = snakemake("--lint")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations" in out, out[-3000:]
    fmt = subprocess.run([str(Path(sys.executable).parent / "snakefmt"), "--check", "Snakefile",
                          "workflow/rules"], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stderr[-2000:]


def test_cda_runs_get_the_original_step_count_and_objectives_their_own_flags():
    proc = snakemake("-n", "--forceall", "-p", "--configfile", "config/config.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    n_original = cfg["worlds"]["biased"]["train"]
    trains = [line.removeprefix("Shell command: ") for line in proc.stdout.splitlines()
              if line.startswith("Shell command: vitbias train ")]
    assert len(trains) == 12
    for line in trains:
        cda = "--data-name 1-sided" in line or "--data-name 2-sided" in line
        assert (f"--samples-per-epoch {n_original}" in line) == cda, line
        supervised = "--objective supervised" in line
        assert ("--lr 3e-3 --objective-arg min_scale=1.0" in line) == supervised, line
        if supervised:  # per-objective flags come last, so they override the shared ones
            assert line.index("--epochs 30") < line.index("--epochs 60"), line


def test_world_style_reaches_the_world_command():
    proc = snakemake("-n", "--forceall", "-p", "--configfile", "config/calibration_plain.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    worlds = [line for line in proc.stdout.splitlines()
              if line.startswith("Shell command: vitbias world ")]
    assert len(worlds) == 2 and all("--palette plain" in line for line in worlds), worlds
    assert all("--valence-cue object" in line for line in worlds), worlds  # the default
    proc = snakemake("-n", "--forceall", "-p", "--configfile", "config/calibration_wall.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    worlds = [line for line in proc.stdout.splitlines()
              if line.startswith("Shell command: vitbias world ")]
    assert len(worlds) == 2 and all("--valence-cue wall" in line for line in worlds), worlds
