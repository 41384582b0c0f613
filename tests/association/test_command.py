"""`vitbias test` end to end on small user-supplied embeddings (npy, csv, parquet, npz)."""

import numpy as np
import pandas as pd
import pytest

from bias.association import ALTERNATIVES, CORRECTIONS, WEAT_COLUMNS, weat_effect_size
from bias.cli import main
from bias.commands import test as test_command
from bias.embeddings import EmbeddingTable

CATALOG = """\
version: 1
tests:
  - name: T-one
    x: t/x
    y: t/y
    a: attr/a
    b: attr/b
    description: x goes with a
  - name: T-two
    x: t/y
    y: t/x
    a: attr/b
    b: attr/a
  - name: T-missing
    x: t/x
    y: t/absent
    a: attr/a
    b: attr/b
"""
SIZES = {"t/x": 6, "t/y": 5, "attr/a": 4, "attr/b": 5}
FAST = ["--permutations", "300", "--bootstrap", "40"]


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {c: rng.normal(size=(n, 5)) for c, n in SIZES.items()}


@pytest.fixture
def setup(tmp_path, arrays):
    """An embedding folder in all three formats, and the catalog."""
    root = tmp_path / "vit-tiny"
    for concept in SIZES:
        (root / concept.split("/")[0]).mkdir(parents=True, exist_ok=True)
    np.save(root / "t" / "x.npy", arrays["t/x"])
    frame = pd.DataFrame(arrays["t/y"], columns=[f"d{i}" for i in range(5)])
    frame.insert(0, "file", [f"img_{i}.jpg" for i in range(5)])  # non-numeric id column
    frame.to_csv(root / "t" / "y.csv")  # also writes the "Unnamed: 0" index column
    pd.DataFrame(arrays["attr/a"], columns=[f"d{i}" for i in range(5)]).to_parquet(
        root / "attr" / "a.parquet")
    np.save(root / "attr" / "b.npy", arrays["attr/b"])
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    return root, catalog


def run_cli(*args):
    return main(["test", *map(str, args)])


def test_end_to_end_csv_reproducible_and_skip_warning(setup, tmp_path, arrays, capsys):
    root, catalog = setup
    out, out2 = tmp_path / "r1.csv", tmp_path / "r2.csv"
    assert run_cli("--embeddings", root, "--catalog", catalog, *FAST, "--out", out) == 0
    err = capsys.readouterr().err
    assert err.count("skipping") == 1 and "T-missing (missing t/absent)" in err
    assert run_cli("--embeddings", root, "--catalog", catalog, *FAST, "--out", out2) == 0
    assert out.read_bytes() == out2.read_bytes()
    frame = pd.read_csv(out)
    assert list(frame.columns) == WEAT_COLUMNS
    assert frame.model.unique().tolist() == ["vit-tiny"]
    assert frame.test.tolist() == ["T-one", "T-two"]
    assert frame.n_y.tolist() == [5, 6]  # the csv's id columns are not dimensions
    expected = weat_effect_size(*(arrays[c] for c in ("t/x", "t/y", "attr/a", "attr/b")))[0]
    assert frame.effect_size[0] == pytest.approx(expected, rel=1e-10)
    assert frame.effect_size[1] == pytest.approx(expected, rel=1e-10)  # both swaps
    assert (frame.p_method == "exact").all()  # C(11, 6) = 462 partitions
    other = tmp_path / "seed.csv"
    run_cli("--embeddings", root, "--catalog", catalog, *FAST, "--seed", "1", "--out", other)
    assert other.read_bytes() != out.read_bytes()  # the bootstrap follows the seed


def test_naming_an_unrunnable_test_is_an_error(setup, tmp_path, capsys):
    root, catalog = setup
    out = tmp_path / "r.csv"
    assert run_cli("--embeddings", root, "--catalog", catalog, "--tests", "T-missing",
                   "--out", out) == 2
    assert "T-missing" in capsys.readouterr().err and not out.exists()
    assert run_cli("--embeddings", root, "--catalog", catalog, "--tests", "Nope",
                   "--out", out) == 2
    assert "unknown test" in capsys.readouterr().err and not out.exists()
    assert run_cli("--embeddings", root, "--catalog", catalog, "--tests", "T-two", *FAST,
                   "--out", out) == 0
    assert pd.read_csv(out).test.tolist() == ["T-two"]


def test_npz_tables_and_several_models(setup, tmp_path, arrays):
    root, catalog = setup
    names = [c for c in SIZES for _ in range(SIZES[c])]
    data = np.concatenate([arrays[c] for c in SIZES])
    table = EmbeddingTable(arrays={("cls", 3): data, ("mean", 3): data * 2 + 0.1},
                           image_ids=[str(i) for i in range(len(names))], concepts=names)
    npz = tmp_path / "model-b.npz"
    table.save(npz)
    out = tmp_path / "r.csv"
    sc_out = tmp_path / "sc.csv"
    assert run_cli("--embeddings", root, npz, "--catalog", catalog, *FAST,
                   "--sc-out", sc_out, "--out", out) == 0
    frame = pd.read_csv(out)
    assert sorted(set(zip(frame.model, frame.pooling, frame.layer, strict=True))) == [
        ("model-b", "cls", 3), ("model-b", "mean", 3), ("vit-tiny", "given", -1)]
    same = frame[frame.pooling.isin(["cls", "given"]) & (frame.test == "T-one")]
    # the same vectors give the same d whatever the format (the .npz stores float32)
    np.testing.assert_allclose(same.effect_size, same.effect_size.iloc[0], rtol=1e-5)
    sc = pd.read_csv(sc_out)
    assert len(sc) == 3 * 4 and "y" not in sc.columns  # 3 model keys x 4 SC-EATs


def test_bad_inputs_leave_no_output(setup, tmp_path, capsys):
    root, catalog = setup
    out = tmp_path / "r.csv"
    np.save(root / "attr" / "b.npy", np.zeros((5, 5)))
    assert run_cli("--embeddings", root, "--catalog", catalog, "--out", out) == 2
    assert "concept attr/b: image 0 has a zero embedding" in capsys.readouterr().err
    (root / "attr" / "b.npy").write_bytes(b"not a numpy file")
    assert run_cli("--embeddings", root, "--catalog", catalog, "--out", out) == 2
    assert "b.npy" in capsys.readouterr().err
    assert run_cli("--embeddings", tmp_path / "nowhere", "--out", out) == 2
    assert "nowhere" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".r.csv*"))


def test_shipped_catalog_runs_what_is_available(tmp_path, arrays, capsys):
    root = tmp_path / "emb"
    for i, concept in enumerate(["insect-flower/flower", "insect-flower/insect",
                                 "valence/pleasant", "valence/unpleasant"]):
        (root / concept).parent.mkdir(parents=True, exist_ok=True)
        np.save(root / f"{concept}.npy", list(arrays.values())[i])
    out = tmp_path / "r.csv"
    assert run_cli("--embeddings", root, *FAST, "--out", out) == 0
    assert pd.read_csv(out).test.tolist() == ["Insect-Flower"]
    assert capsys.readouterr().err.count("skipping 38 test(s)") == 1


def test_cli_choices_match_the_library():
    assert test_command.ALTERNATIVE_CHOICES == ALTERNATIVES
    assert set(test_command.CORRECTION_CHOICES) == set(CORRECTIONS)


def test_models_named_explicitly(setup, tmp_path):
    """NAME=PATH names a model; two inputs with the same stem need it (workflow layout)."""
    root, catalog = setup
    out = tmp_path / "r.csv"
    assert run_cli("--embeddings", f"biased/mae/seed0={root}", f"control/mae/seed0={root}",
                   "--catalog", catalog, *FAST, "--out", out) == 0
    assert sorted(set(pd.read_csv(out).model)) == ["biased/mae/seed0", "control/mae/seed0"]
    assert run_cli("--embeddings", root, root, "--catalog", catalog, *FAST,
                   "--out", tmp_path / "dup.csv") == 2
    assert not (tmp_path / "dup.csv").exists()


def test_planted_beta_is_carried_per_row(setup, tmp_path):
    """A world catalog's β lands in every result row (aggregation reads it per world)."""
    root, catalog = setup
    catalog.write_text(CATALOG.replace("    description: x goes with a",
                                       "    planted_beta: 0.8"))
    out = tmp_path / "r.csv"
    assert run_cli("--embeddings", root, "--catalog", catalog, *FAST, "--out", out) == 0
    frame = pd.read_csv(out).set_index("test")
    assert frame.loc["T-one", "planted_beta"] == 0.8
    assert np.isnan(frame.loc["T-two", "planted_beta"])
