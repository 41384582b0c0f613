"""benchmarks/cda.py: which tests the edit targets, and where d is read before and after."""

import json

import pandas as pd


def tidy():
    # d per (test, data, layer): Gender-Career strongest at layer 1 in the original model
    d = {("Gender-Career", "original"): [0.2, 1.0, 0.6],
         ("Gender-Career", "1-sided"): [0.9, 0.7, 0.5],
         ("Gender-Career", "2-sided"): [0.1, 0.3, 0.7],
         ("Tone-Valence", "original"): [0.5] * 3,
         ("Tone-Valence", "1-sided"): [0.6] * 3,
         ("Tone-Valence", "2-sided"): [0.4] * 3}
    a = {"Gender-Career": "career/career", "Tone-Valence": "valence/pleasant"}
    return pd.DataFrame([
        {"objective": "simclr", "size": "micro", "test": test, "data": data, "pooling": "cls",
         "layer": layer, "a": a[test], "planted_beta": 0.8, "effect_size": value, "seed": 0}
        for (test, data), values in d.items() for layer, value in enumerate(values)])


def test_targeted_tests_follow_the_edited_attributes_bias(cda):
    t = tidy()
    assert set(t[cda.targeted(t, "gender")]["test"]) == {"Gender-Career"}
    assert set(t[cda.targeted(t, "tone")]["test"]) == {"Tone-Valence"}


def test_d_is_read_where_the_original_shows_it_most(cda):
    table = cda.before_after(tidy(), "gender")
    best = table[(table["test"] == "Gender-Career") & (table["at"] == "best")].iloc[0]
    assert best["layer"] == 1 and best["original"] == 1.0
    assert best["1-sided"] == 0.7 and best["2-sided"] == 0.3  # same layer, not their own best
    assert bool(best["lower_1-sided"]) and bool(best["lower_2-sided"])
    final = table[(table["test"] == "Gender-Career") & (table["at"] == "final")].iloc[0]
    assert final["layer"] == 2 and not bool(final["lower_2-sided"])  # 0.7 > 0.6
    row = cda.summary(table).iloc[0]
    assert row["tests"] == 1 and row["lower_1_sided"] == 1 and row["d_2_sided"] == 0.3


def test_edits_table_reads_counts_and_rates(cda, tmp_path):
    doc = {"attribute": "gender", "counts": {"planned": 10, "accepted": 8,
                                             "dropped": {"not_flipped": 2}},
           "rates": {"flip_rate_all": 0.8, "mean_outside_change_accepted": 1e-9}}
    path = tmp_path / "counterfactuals" / "biased" / "a-to-b" / "edits.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))
    row = cda.edits_table(tmp_path).iloc[0]
    assert (row["dropped"], row["drop_reasons"], row["direction"]) == (2, "not_flipped 2",
                                                                        "a-to-b")
