"""Catalog loading and validation, test selection, stimulus scanning (bias/stimuli.py)."""

import logging

import pytest

from bias.errors import VitbiasError
from bias.stimuli import DEFAULT_CATALOG, AssociationTest, load_catalog, scan_stimuli, select_tests

# iEAT's test list (github.com/ryansteed/ieat, ieat/utils.py `tests_all`), transcribed as
# (name, X, Y, A, B) to check the shipped catalog against.
IEAT_TESTS = [
    ("Insect-Flower", "insect-flower/flower", "insect-flower/insect", "valence/pleasant",
     "valence/unpleasant"),
    ("Weapon", "weapon/white", "weapon/black", "weapon/tool", "weapon/weapon"),
    ("Weapon (Modern)", "weapon/white", "weapon/black", "weapon/tool-modern",
     "weapon/weapon-modern"),
    ("Native", "native/euro", "native/native", "native/us", "native/world"),
    ("Asian", "asian/european-american", "asian/asian-american", "asian/american",
     "asian/foreign"),
    ("Weight", "weight/thin", "weight/fat", "valence/pleasant", "valence/unpleasant"),
    ("Skin-Tone", "skin-tone/light", "skin-tone/dark", "valence/pleasant", "valence/unpleasant"),
    ("Disability", "disabled/disabled", "disabled/abled", "valence/pleasant",
     "valence/unpleasant"),
    ("President - Kennedy vs. Trump", "presidents/kennedy", "presidents/trump",
     "valence/pleasant", "valence/unpleasant"),
    ("President - B. Clinton vs. Trump", "presidents/clinton", "presidents/trump",
     "valence/pleasant", "valence/unpleasant"),
    ("President - Bush vs. Trump", "presidents/bush", "presidents/trump", "valence/pleasant",
     "valence/unpleasant"),
    ("President - Lincoln vs. Trump", "presidents/lincoln", "presidents/trump",
     "valence/pleasant", "valence/unpleasant"),
    ("Religion", "religion/christianity", "religion/judaism", "valence/pleasant",
     "valence/unpleasant"),
    ("Sexuality", "sexuality/gay", "sexuality/straight", "valence/pleasant",
     "valence/unpleasant"),
    ("Race", "race/european-american", "race/african-american", "valence/pleasant",
     "valence/unpleasant"),
    ("Arab-Muslim", "arab-muslim/other-people", "arab-muslim/arab-muslim", "valence/pleasant",
     "valence/unpleasant"),
    ("Age", "age/young", "age/old", "valence/pleasant", "valence/unpleasant"),
    ("Gender-Science", "gender/male", "gender/female", "gender/science", "gender/liberal-arts"),
    ("Gender-Career", "gender/male", "gender/female", "gender/career", "gender/family"),
]
_I = "intersectional/"
_SCI = ("gender/science", "gender/liberal-arts")
_CAR = ("gender/career", "gender/family")
_VAL = ("valence/pleasant", "valence/unpleasant")
IEAT_TESTS += [
    (f"Intersectional-Gender-{kind}-{tag}", _I + x, _I + y, *attrs)
    for kind, attrs in (("Science", _SCI), ("Career", _CAR))
    for tag, x, y in (("MF", "male", "female"), ("WMBM", "white-male", "black-male"),
                      ("WMBF", "white-male", "black-female"),
                      ("WMWF", "white-male", "white-female"),
                      ("BMBF", "black-male", "black-female"),
                      ("BMWF", "black-male", "white-female"))
]
# iEAT's one exception to the pattern above: Career-WMBM has X = black-male.
IEAT_TESTS = [(n, _I + "black-male", _I + "white-male", *_CAR)
              if n == "Intersectional-Gender-Career-WMBM" else (n, x, y, a, b)
              for n, x, y, a, b in IEAT_TESTS]
IEAT_TESTS += [
    (f"Intersectional-Valence-{tag}", _I + x, _I + y, *_VAL)
    for tag, x, y in (("BW", "white", "black"), ("WMBM", "white-male", "black-male"),
                      ("WMBF", "white-male", "black-female"),
                      ("WMWF", "white-female", "white-male"),
                      ("WFBM", "white-female", "black-male"),
                      ("BFBM", "black-female", "black-male"),
                      ("WFBF", "white-female", "black-female"), ("FM", "female", "male"))
]


def test_shipped_catalog_is_the_ieat_list():
    tests = load_catalog()
    assert DEFAULT_CATALOG.name == "ieat.yaml"
    assert [(t.name, t.x, t.y, t.a, t.b) for t in tests] == IEAT_TESTS
    assert len(tests) == 39
    assert all(t.description for t in tests)


def write(tmp_path, text):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return path


GOOD = "tests:\n  - {name: T, x: c/x, y: c/y, a: c/a, b: c/b, tags: [t], planted_beta: 0.5}\n"


def test_small_catalog_loads(tmp_path):
    (test,) = load_catalog(write(tmp_path, GOOD))
    assert test == AssociationTest("T", "c/x", "c/y", "c/a", "c/b", "", 0.5, ("t",))


@pytest.mark.parametrize(("text", "message"), [
    ("tests: [", "not valid YAML"),
    ("tests:\n  - {name: T, x: c/x, y: c/y, a: c/a}\n", "field tests/0: 'b' is a required"),
    ("tests:\n  - {name: T, x: cx, y: c/y, a: c/a, b: c/b}\n", "field tests/0/x"),
    ("tests:\n  - {name: T, x: c/x, y: c/y, a: c/a, b: c/b, colour: red}\n", "colour"),
    ("tests:\n  - {name: T, x: c/x, y: c/y, a: c/a, b: c/b, planted_beta: 2}\n",
     "planted_beta"),
    ("version: 2\n" + GOOD, "field version"),
    ("tests: []\n", "field tests"),
    (GOOD + "  - {name: T, x: c/x, y: c/y, a: c/a, b: c/b}\n", "duplicate test names"),
    ("tests:\n  - {name: Null, x: c/x, y: c/y, a: c/a, b: c/b}\n",
     r"field tests/0/name: None is not.*quote such a name"),
])
def test_bad_catalogs_name_the_file_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(VitbiasError, match=message) as err:
        load_catalog(path)
    assert str(path) in str(err.value)


def test_missing_catalog(tmp_path):
    with pytest.raises(VitbiasError, match="not found"):
        load_catalog(tmp_path / "none.yaml")


CAT = [AssociationTest("T1", "c/x", "c/y", "c/a", "c/b"),
       AssociationTest("T2", "c/x", "c/z", "c/a", "c/b"),
       AssociationTest("T3", "c/w", "c/z", "c/a", "c/b")]


def test_select_tests_skips_with_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="bias.stimuli"):
        chosen = select_tests(CAT, {"c/x", "c/y", "c/a", "c/b"})
    assert [t.name for t in chosen] == ["T1"]
    (record,) = caplog.records
    assert "T2 (missing c/z)" in record.message and "T3 (missing c/w, c/z)" in record.message


def test_select_tests_by_name_and_errors():
    available = {"c/x", "c/y", "c/a", "c/b"}
    assert [t.name for t in select_tests(CAT, available, ["T1"])] == ["T1"]
    with pytest.raises(VitbiasError, match=r"lack concepts.*T2"):
        select_tests(CAT, available, ["T1", "T2"])
    with pytest.raises(VitbiasError, match="unknown test"):
        select_tests(CAT, available, ["T9"])
    with pytest.raises(VitbiasError, match="no test of the catalog"):
        select_tests(CAT, {"c/a"})


def test_scan_stimuli(tmp_path):
    for rel in ["g/m/b.jpg", "g/m/a.PNG", "g/m/notes.txt", "g/f/x.webp", "g/empty/.keep"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    found = scan_stimuli(tmp_path)
    assert sorted(found) == ["g/f", "g/m"]
    assert [p.name for p in found["g/m"]] == ["a.PNG", "b.jpg"]
    with pytest.raises(VitbiasError, match="not found"):
        scan_stimuli(tmp_path / "missing")
    with pytest.raises(VitbiasError, match="no images"):
        scan_stimuli(tmp_path / "g" / "empty")
