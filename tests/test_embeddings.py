"""EmbeddingTable storage and user-supplied embedding folders (bias/embeddings.py)."""

import numpy as np
import pandas as pd
import pytest

from bias.embeddings import GIVEN_LAYER, GIVEN_POOLING, EmbeddingTable, load_embedding_dir
from bias.errors import VitbiasError


def small_table():
    rng = np.random.default_rng(0)
    concepts = ["g/m", "g/m", "g/f", "g/m", "g/f"]
    return EmbeddingTable(arrays={("cls", 0): rng.normal(size=(5, 4)),
                                  ("mean", 11): rng.normal(size=(5, 3))},
                          image_ids=[f"{c}/{i}.jpg" for i, c in enumerate(concepts)],
                          concepts=concepts, provenance={"model": "tiny", "seed": 1})


def test_table_rows_and_keys():
    table = small_table()
    assert table.keys == [("cls", 0), ("mean", 11)]
    assert table.concept_names == ["g/f", "g/m"]
    np.testing.assert_array_equal(table.rows("g/m"), [0, 1, 3])
    np.testing.assert_array_equal(table.concept_array("g/f", ("cls", 0)),
                                  table.arrays[("cls", 0)][[2, 4]])


def test_save_load_roundtrip(tmp_path):
    table = small_table()
    path = tmp_path / "t.npz"
    table.save(path)
    back = EmbeddingTable.load(path)
    assert back.keys == table.keys and back.image_ids == table.image_ids
    assert back.concepts == table.concepts and back.provenance == table.provenance
    for key in table.keys:
        assert back.arrays[key].dtype == np.float32
        np.testing.assert_allclose(back.arrays[key], table.arrays[key], rtol=1e-6)


def test_bad_tables(tmp_path):
    with pytest.raises(VitbiasError, match="2 concepts for 3 images"):
        EmbeddingTable(arrays={}, image_ids=["a", "b", "c"], concepts=["x", "y"])
    with pytest.raises(VitbiasError, match="expected \\(2, D\\)"):
        EmbeddingTable(arrays={("cls", 0): np.zeros((3, 4))}, image_ids=["a", "b"],
                       concepts=["x", "y"])
    with pytest.raises(VitbiasError, match="not found"):
        EmbeddingTable.load(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(VitbiasError, match=r"bad\.npz"):
        EmbeddingTable.load(bad)


def test_load_embedding_dir_all_formats(tmp_path):
    rng = np.random.default_rng(1)
    m, f, o = rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=(4,))
    (tmp_path / "g").mkdir()
    (tmp_path / "h").mkdir()
    np.save(tmp_path / "g" / "m.npy", m)
    frame = pd.DataFrame(f, columns=list("abcd"))
    frame.insert(0, "file", ["x.jpg", "y.jpg"])
    frame.to_csv(tmp_path / "g" / "f.csv")  # with a non-numeric id and an index column
    pd.DataFrame(o[None], columns=list("abcd")).to_parquet(tmp_path / "h" / "o.parquet")
    (tmp_path / "g" / "readme.txt").write_text("ignored")
    table = load_embedding_dir(tmp_path)
    assert table.keys == [(GIVEN_POOLING, GIVEN_LAYER)]
    assert table.concept_names == ["g/f", "g/m", "h/o"]
    key = (GIVEN_POOLING, GIVEN_LAYER)
    np.testing.assert_allclose(table.concept_array("g/f", key), f)
    np.testing.assert_allclose(table.concept_array("g/m", key), m)
    np.testing.assert_allclose(table.concept_array("h/o", key), o[None])
    only = load_embedding_dir(tmp_path, concepts={"g/m", "z/none"})
    assert only.concept_names == ["g/m"]


def test_load_embedding_dir_errors(tmp_path):
    with pytest.raises(VitbiasError, match="not found"):
        load_embedding_dir(tmp_path / "missing")
    with pytest.raises(VitbiasError, match="no embeddings"):
        load_embedding_dir(tmp_path)
    (tmp_path / "g").mkdir()
    np.save(tmp_path / "g" / "m.npy", np.ones((2, 4)))
    np.save(tmp_path / "g" / "f.npy", np.ones((2, 5)))
    with pytest.raises(VitbiasError, match="dimension"):
        load_embedding_dir(tmp_path)
    (tmp_path / "g" / "f.npy").unlink()
    pd.DataFrame(np.ones((2, 4))).to_csv(tmp_path / "g" / "m.csv", index=False)
    with pytest.raises(VitbiasError, match="two embedding files"):
        load_embedding_dir(tmp_path)
    (tmp_path / "g" / "m.csv").unlink()
    (tmp_path / "g" / "x.npy").write_bytes(b"junk")
    with pytest.raises(VitbiasError, match=r"x\.npy"):
        load_embedding_dir(tmp_path)
