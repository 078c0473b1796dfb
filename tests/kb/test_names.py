"""Entity-name candidates proposed from raw text (kb/names.py, with kb/name_occurrences.py)."""

from __future__ import annotations

from kb.names import NameCandidate, find_entity_candidates


def by_name(candidates: list[NameCandidate]) -> dict[str, NameCandidate]:
    return {c.name: c for c in candidates}


def all_forms(candidates: list[NameCandidate]) -> set[str]:
    return {form for c in candidates for form in c.surface_forms}


def test_long_form_and_acronym_become_one_candidate():
    text = (
        "The Financial Action Task Force (FATF) met in Paris. Analysts said the FATF would act. "
        "Officials blamed Tehreek-e-Taliban Pakistan (TTP) and Islamic State Khorasan (IS-K). "
        "The TTP denied it, and so did IS-K."
    )
    found = by_name(find_entity_candidates(text))

    assert found["Financial Action Task Force"].aliases == ("FATF",)
    assert found["Financial Action Task Force"].count == 2
    assert found["Financial Action Task Force"].type == "organisation"
    assert found["Tehreek-e-Taliban Pakistan"].aliases == ("TTP",)
    assert found["Tehreek-e-Taliban Pakistan"].type == "group"
    assert found["Islamic State Khorasan"].aliases == ("IS-K",)
    assert found["Islamic State Khorasan"].count == 2
    assert found["Islamic State Khorasan"].type == "group"


def test_acronym_first_then_long_form_in_brackets():
    found = by_name(find_entity_candidates("Officials met the ISI (Inter-Services Intelligence) chief."))

    assert found["Inter-Services Intelligence"].aliases == ("ISI",)
    assert found["Inter-Services Intelligence"].count == 1
    assert found["Inter-Services Intelligence"].type == "organisation"


def test_particles_inside_names_and_acronym_pairs_spelled_through_them():
    text = (
        "He directs the Center for Political and Foreign Affairs (CPFA). "
        "Attacks by Jaish-e-Mohammed (JeM) and Lashkar -e-Taiba (LeT) were discussed."
    )
    found = by_name(find_entity_candidates(text))

    assert found["Center for Political and Foreign Affairs"].aliases == ("CPFA",)
    assert found["Jaish-e-Mohammed"].aliases == ("JeM",)
    assert "Lashkar-e-Taiba" in found, "the stray space before the hyphen is tidied"
    assert found["Lashkar-e-Taiba"].aliases == ("LeT",)


def test_and_joins_only_names_that_are_one_place_or_institution():
    found = all_forms(
        find_entity_candidates("Talks were held with Turkey and Qatar about Jammu and Kashmir.")
    )

    assert {"Turkey", "Qatar"} <= found
    assert "Turkey and Qatar" not in found
    assert "Jammu and Kashmir" in found


def test_possessives_are_dropped_and_demonyms_join_their_country():
    text = "Pakistan’s army met the Taliban's envoys. The United States’ envoy and Pakistani officials spoke."
    found = by_name(find_entity_candidates(text))

    assert set(found) == {"Pakistan", "Taliban", "United States"}
    assert found["Pakistan"].aliases == ("Pakistani",)
    assert found["Pakistan"].count == 2
    assert found["Pakistan"].type == "country"


def test_sentence_initial_common_words_months_and_stoplist_are_not_names():
    text = (
        "Despite the warnings, Islamabad moved. Ironically, nothing changed in March. "
        "Islamist groups and the West were silent. However, Rawalpindi disagreed on Monday.\n\n"
        "Image Source: Wikimedia Commons"
    )
    names = all_forms(find_entity_candidates(text))

    assert names == {"Islamabad", "Rawalpindi"}


def test_sentence_initial_name_is_kept_when_attested_elsewhere_or_known():
    text = "Kabul has accused Haqqani. Officials in Kabul agree. Karachi is quiet. Zorblat is a word."
    names = all_forms(find_entity_candidates(text))

    assert {"Kabul", "Karachi"} <= names, "attested mid-sentence, or in the gazetteer"
    assert "Zorblat" not in names


def test_titles_are_stripped_and_make_a_person_and_surnames_join_the_full_name():
    text = (
        "Former Pakistani President Pervez Musharraf admitted it. "
        "Prime Minister Imran Khan spoke later. Khan’s critics disagreed. "
        "Maulana Fazlur Rehman met the envoy."
    )
    found = by_name(find_entity_candidates(text))

    assert found["Pervez Musharraf"].type == "person"
    assert found["Imran Khan"].type == "person"
    assert found["Imran Khan"].aliases == ("Khan",)
    assert found["Maulana Fazlur Rehman"].type == "person"
    assert found["Maulana Fazlur Rehman"].aliases == ("Fazlur Rehman",)
    assert "Pakistan" not in found, "the demonym belongs to the title, not to a mention of Pakistan"


def test_year_and_attack_make_an_event_and_the_name_without_year_an_alias():
    text = "LeT orchestrated the 2008 Mumbai terrorist attacks. JeM claimed the 2019 Pulwama attack."
    found = by_name(find_entity_candidates(text))

    assert found["2008 Mumbai terrorist attacks"].type == "event"
    assert found["2008 Mumbai terrorist attacks"].aliases == ("Mumbai terrorist attacks",)
    assert found["2019 Pulwama attack"].type == "event"
    assert found["Mumbai"].type == "place"
    assert found["Pulwama"].type == "place", "an event is named after its place"


def test_title_case_headings_only_contribute_names_the_body_knows():
    text = (
        "Trump Administration’s Response\n\n"
        "In 2018, President Donald Trump cut aid to Pakistan.\n\n"
        "Concerns From US CENTCOM Commander\n\n"
        "The commander spoke."
    )
    found = by_name(find_entity_candidates(text))

    assert found["Donald Trump"].aliases == ("Trump",)
    assert "CENTCOM" in found
    assert found["United States"].aliases == ("US",)
    for generic in ("Administration", "Response", "Concerns", "Commander"):
        assert generic not in all_forms(list(found.values()))


def test_wire_style_text_beyond_the_seeds():
    text = (
        "KABUL, Aug 3 (Reuters) - Pakistan's Inter-Services Intelligence (ISI) chief Lt. Gen. Nadeem Anjum "
        "met Mullah Abdul Ghani Baradar in Kabul. U.S. State Department spokesman Ned Price said "
        "Washington was watching. Al-Qaeda leader Ayman al-Zawahiri was killed, President Joe Biden said. "
        "Both India and Pakistan objected. Human Rights Watch said so."
    )
    found = by_name(find_entity_candidates(text))

    assert found["Inter-Services Intelligence"].aliases == ("ISI",)
    for person in (
        "Nadeem Anjum",
        "Mullah Abdul Ghani Baradar",
        "Ned Price",
        "Ayman al-Zawahiri",
        "Joe Biden",
    ):
        assert found[person].type == "person", person
    assert found["State Department"].type == "organisation", "the head noun decides, not 'State'"
    assert found["Al-Qaeda"].type == "group"
    assert found["United States"].aliases == ("U.S.",)
    assert "Human Rights Watch" in found
    for noise in ("Aug", "Lt", "Gen", "Both", "Both India", "KABUL, Aug"):
        assert noise not in all_forms(list(found.values())), noise


def test_spans_point_at_the_occurrences():
    text = "The ISI and the ISI again."
    (isi,) = find_entity_candidates(text)

    assert [text[a:b] for a, b in isi.spans] == ["ISI", "ISI"]
