"""Names in stored articles the knowledge base does not know (kb/unknown_names.py)."""

from __future__ import annotations

from kb.unknown_names import unknown_candidates


def test_unknown_candidates_count_articles_and_companions(shipped):
    texts = [
        "Maulana Fazlur Rehman met ISI officials in Islamabad. Zafar Iqbal stayed home.",
        "Sources say Maulana Fazlur Rehman met ISI officials again.",
        "Maulana Fazlur Rehman spoke about cricket.",
    ]

    found = {n.name: n for n in unknown_candidates(shipped, texts)}

    assert found["Maulana Fazlur Rehman"].articles == 2
    assert found["Maulana Fazlur Rehman"].type == "person"
    assert found["Maulana Fazlur Rehman"].cooccurring[0] == ("isi", 2)
    assert "Zafar Iqbal" not in found, "no KB entity in its sentence"
    assert "ISI" not in found and "Islamabad" not in found, "already in the KB"
    assert unknown_candidates(shipped, texts, min_articles=3) == []
