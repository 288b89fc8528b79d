"""aiwatch.sec.companyfacts on real SEC payloads (snapshot/ and a trimmed 2022Q1 copy), and on
synthetic payloads (labelled) with each kind of bad row."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import orjson
import polars as pl
import pytest
from conftest import FIXTURES_DIR, SNAPSHOT_DIR

from aiwatch.sec import companyfacts
from aiwatch.sec.companyfacts import REJECTS_SCHEMA, SCHEMA, CompanyfactsError

COMPANYFACTS_DIR = SNAPSHOT_DIR / "data.sec.gov" / "api" / "xbrl" / "companyfacts"
APPLE_2022Q1_TRIMMED = FIXTURES_DIR / "sec" / "companyfacts_2022q1_CIK0000320193_trimmed.json"
ALL_FILES = sorted(COMPANYFACTS_DIR.glob("CIK*.json")) + [APPLE_2022Q1_TRIMMED]


@cache
def _parsed(path: Path) -> pl.DataFrame:
    return companyfacts.parse(path.read_bytes())


def _count_facts(payload: bytes) -> int:
    """Independent count: every fact row in every unit list, walked with orjson."""
    document = orjson.loads(payload)
    return sum(
        len(rows)
        for concepts in document["facts"].values()
        for body in concepts.values()
        for rows in body["units"].values()
    )


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_every_fact_row_is_kept_with_the_schema(path: Path) -> None:
    payload = path.read_bytes()
    facts, rejects = companyfacts.parse_with_rejects(payload)
    assert facts.schema == SCHEMA
    assert rejects.height == 0  # SEC's own payloads are clean
    assert facts.height == _count_facts(payload)
    assert facts["cik"].unique().to_list() == [orjson.loads(payload)["cik"]]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_per_concept_counts_match_the_payload(path: Path) -> None:
    """Keys are repeated per fact in order: each (taxonomy, concept, unit) has its list's length."""
    document = orjson.loads(path.read_bytes())
    expected = {
        (taxonomy, concept, unit): len(rows)
        for taxonomy, concepts in document["facts"].items()
        for concept, body in concepts.items()
        for unit, rows in body["units"].items()
        if rows
    }
    counts = _parsed(path).group_by("taxonomy", "concept", "unit").len()
    assert {(t, c, u): n for t, c, u, n in counts.iter_rows()} == expected


# (file, concept, unit, start, end, value, accessions that report it, cited from the filing)
SPOT_VALUES = [
    # Apple 10-K FY2024 (year ended 2024-09-28): net income $93,736 million; repeated as the
    # prior-year comparative in the FY2025 10-K.
    ("CIK0000320193", "NetIncomeLoss", "USD", date(2023, 10, 1), date(2024, 9, 28),
     93_736_000_000, {"0000320193-24-000123", "0000320193-25-000079"}),
    # NVIDIA 10-K FY2025 (year ended 2025-01-26): purchases related to property and equipment
    # and intangible assets $3,236 million; repeated in the FY2026 10-K.
    ("CIK0001045810", "PaymentsToAcquireProductiveAssets", "USD", date(2024, 1, 29),
     date(2025, 1, 26), 3_236_000_000, {"0001045810-25-000023", "0001045810-26-000021"}),
    # NVIDIA FY2026 (year ended 2026-01-25): 6,042,000,000 is the value in the payload's 10-K
    # row (accn 0001045810-26-000021, filed 2026-02-25); not checked against the 10-K text.
    ("CIK0001045810", "PaymentsToAcquireProductiveAssets", "USD", date(2025, 1, 27),
     date(2026, 1, 25), 6_042_000_000, {"0001045810-26-000021"}),
    # Apple 10-K FY2021 (year ended 2021-09-25): net income $94,680 million (2022Q1 vintage).
    ("companyfacts_2022q1_CIK0000320193_trimmed", "NetIncomeLoss", "USD", date(2020, 9, 27),
     date(2021, 9, 25), 94_680_000_000, {"0000320193-21-000105"}),
    # Same 10-K: payments for acquisition of property, plant and equipment $11,085 million.
    ("companyfacts_2022q1_CIK0000320193_trimmed", "PaymentsToAcquirePropertyPlantAndEquipment",
     "USD", date(2020, 9, 27), date(2021, 9, 25), 11_085_000_000, {"0000320193-21-000105"}),
    # Same 10-K: diluted earnings per share $5.61 (a float value, per-share unit).
    ("companyfacts_2022q1_CIK0000320193_trimmed", "EarningsPerShareDiluted", "USD/shares",
     date(2020, 9, 27), date(2021, 9, 25), 5.61, {"0000320193-21-000105"}),
]


@pytest.mark.parametrize(
    ("stem", "concept", "unit", "start", "end", "value", "accessions"),
    SPOT_VALUES,
    ids=[f"{s[0][:13]}-{s[1]}-{s[4]}" for s in SPOT_VALUES],
)
def test_spot_values_from_10k(
    stem: str, concept: str, unit: str, start: date, end: date, value: float, accessions: set[str]
) -> None:
    path = next(p for p in ALL_FILES if p.stem == stem)
    rows = _parsed(path).filter(
        pl.col("concept") == concept,
        pl.col("unit") == unit,
        pl.col("start") == start,
        pl.col("end") == end,
        pl.col("form").str.starts_with("10-K"),
    )
    assert set(rows["accn"]) == accessions
    assert rows["val"].to_list() == [value] * len(accessions)
    assert set(rows["fp"]) == {"FY"}


def test_apple_fy2024_net_income_rows_carry_filing_provenance() -> None:
    rows = (
        _parsed(COMPANYFACTS_DIR / "CIK0000320193.json")
        .filter(pl.col("concept") == "NetIncomeLoss", pl.col("end") == date(2024, 9, 28),
                pl.col("start") == date(2023, 10, 1))
        .sort("filed")
        .select("accn", "fy", "form", "filed", "frame")
    )
    # fy describes the filing: the FY2025 10-K repeats FY2024 with fy=2025 and holds the frame.
    assert rows.rows() == [
        ("0000320193-24-000123", 2024, "10-K", date(2024, 11, 1), None),
        ("0000320193-25-000079", 2025, "10-K", date(2025, 10, 31), "CY2024"),
    ]


def test_instant_facts_have_null_start() -> None:
    shares = _parsed(APPLE_2022Q1_TRIMMED).filter(
        pl.col("concept") == "EntityCommonStockSharesOutstanding"
    )
    assert shares.height == 53
    assert shares["start"].null_count() == 53
    assert shares["taxonomy"].unique().to_list() == ["dei"]


def test_entity_name_and_cik() -> None:
    assert companyfacts.entity((COMPANYFACTS_DIR / "CIK0000320193.json").read_bytes()) == (
        320193, "Apple Inc.",
    )


# --- synthetic payloads (NOT SEC data): one per kind of bad row -------------------------------

SYNTHETIC_GOOD_ROW = {
    "start": "2023-10-01", "end": "2024-09-28", "val": 1000, "accn": "0000000000-24-000001",
    "fy": 2024, "fp": "FY", "form": "10-K", "filed": "2024-11-01", "frame": "CY2024",
}


def _synthetic(
    rows: list[object], cik: object = 1234, unit: str = "USD", compact: bool = True
) -> bytes:
    """A synthetic companyfacts payload with one concept holding `rows` (plus one good row).
    Compact like SEC's own JSON (the fast path's input) unless `compact=False`."""
    document = {
        "cik": cik,
        "entityName": "Synthetic Test Co",
        "facts": {"us-gaap": {"Synthetic": {"label": "x", "description": "x",
                                            "units": {unit: [SYNTHETIC_GOOD_ROW, *rows]}}}},
    }
    # json, not orjson: orjson refuses integers beyond 64 bits, which we need to test.
    return json.dumps(document, separators=(",", ":") if compact else None).encode()


def _row(**changes: object) -> dict[str, object]:
    row = {**SYNTHETIC_GOOD_ROW, **changes}
    return {k: v for k, v in row.items() if v is not _DROP}


_DROP = object()

BAD_ROWS = [
    ("missing end", _row(end=_DROP), "missing_field", "end"),
    ("missing val", _row(val=_DROP), "missing_field", "val"),
    ("missing accn", _row(accn=_DROP), "missing_field", "accn"),
    ("missing filed", _row(filed=_DROP), "missing_field", "filed"),
    ("missing form", _row(form=_DROP), "missing_field", "form"),
    ("null val", _row(val=None), "missing_field", "val"),
    ("val is a string", _row(val="1000"), "wrong_type", "$.val"),
    ("val is a bool", _row(val=True), "wrong_type", "$.val"),
    ("fy is a string", _row(fy="2024"), "wrong_type", "$.fy"),
    ("end is a number", _row(end=20240928), "wrong_type", "$.end"),
    ("row is not an object", [1, 2], "wrong_type", "object"),
    ("end before start", _row(start="2024-10-01", end="2024-09-28"), "end_before_start",
     "end 2024-09-28 before start 2024-10-01"),
    ("month 13", _row(filed="2024-13-01"), "unparseable_date", "filed=2024-13-01"),
    ("not a date", _row(end="Sept 28, 2024"), "unparseable_date", "end=Sept 28, 2024"),
    ("val 2^53", _row(val=2**53), "val_out_of_range", "2^53"),
    ("val -2^53", _row(val=-(2**53)), "val_out_of_range", "2^53"),
    ("val beyond int64", _row(val=10**20), "val_out_of_range", "2^53"),
    ("val huge float", _row(val=1e300), "val_out_of_range", "2^53"),
]


@pytest.mark.parametrize("compact", [True, False], ids=["compact", "spaced"])
@pytest.mark.parametrize(("row", "reason", "detail"), [b[1:] for b in BAD_ROWS],
                         ids=[b[0] for b in BAD_ROWS])
def test_synthetic_bad_row_is_rejected_and_good_row_kept(
    row: object, reason: str, detail: str, compact: bool
) -> None:
    facts, rejects = companyfacts.parse_with_rejects(_synthetic([row], compact=compact))
    assert facts.schema == SCHEMA and rejects.schema == REJECTS_SCHEMA
    assert facts.rows() == [(
        1234, "us-gaap", "Synthetic", "USD", date(2023, 10, 1), date(2024, 9, 28), 1000.0,
        "0000000000-24-000001", 2024, "FY", "10-K", date(2024, 11, 1), "CY2024",
    )]
    assert rejects.height == 1
    rejected = rejects.row(0, named=True)
    assert rejected["reason"] == reason
    assert detail in rejected["detail"]
    assert (rejected["cik"], rejected["taxonomy"], rejected["concept"], rejected["unit"]) == (
        1234, "us-gaap", "Synthetic", "USD",
    )
    if isinstance(row, dict) and isinstance(row.get("accn"), str):
        assert rejected["accn"] == row["accn"]
    assert companyfacts.parse(_synthetic([row], compact=compact)).height == 1


def test_synthetic_largest_exact_integer_is_kept_exactly() -> None:
    facts = companyfacts.parse(_synthetic([_row(val=2**53 - 1), _row(val=-(2**53 - 1))]))
    assert facts["val"].to_list() == [1000.0, 2.0**53 - 1, -(2.0**53 - 1)]
    assert int(facts["val"][1]) == 2**53 - 1


def test_synthetic_several_problems_reason_is_first_detail_lists_all() -> None:
    row = _row(accn=_DROP, filed="2024-02-30", val=2**60)
    _, rejects = companyfacts.parse_with_rejects(_synthetic([row]))
    assert rejects["reason"].to_list() == ["missing_field"]
    detail = rejects["detail"][0]
    assert "missing_field: accn" in detail
    assert "unparseable_date: filed=2024-02-30" in detail
    assert "val_out_of_range" in detail


def test_synthetic_wrong_type_in_one_list_keeps_other_lists() -> None:
    document = orjson.loads(_synthetic([_row(val="oops")]))
    document["facts"]["us-gaap"]["Other"] = {"units": {"shares": [_row(start=_DROP), _row()]}}
    facts, rejects = companyfacts.parse_with_rejects(orjson.dumps(document))
    assert sorted(facts.group_by("concept").len().rows()) == [("Other", 2), ("Synthetic", 1)]
    assert rejects["reason"].to_list() == ["wrong_type"]


@pytest.mark.parametrize("cik", [1234, "0000001234", "1234"])
def test_synthetic_cik_int_or_zero_padded_string(cik: object) -> None:
    assert companyfacts.parse(_synthetic([], cik=cik))["cik"].to_list() == [1234]


@pytest.mark.parametrize("facts", [{}, {"us-gaap": {}}, {"us-gaap": {"X": {"units": {"USD": []}}}}])
def test_synthetic_empty_facts_give_empty_frame_with_schema(facts: dict[str, object]) -> None:
    frame, rejects = companyfacts.parse_with_rejects(orjson.dumps({"cik": 1, "facts": facts}))
    assert frame.height == 0 and frame.schema == SCHEMA
    assert rejects.height == 0 and rejects.schema == REJECTS_SCHEMA


NOT_COMPANYFACTS = [
    ("not json", b"<html>403 Forbidden</html>", "not valid JSON"),
    ("empty", b"", "not valid JSON"),
    ("truncated", _synthetic([])[:-10], "not valid JSON"),
    ("no facts", b'{"cik": 1, "entityName": "x"}', "facts"),
    ("no cik", b'{"facts": {}}', "cik"),
    ("facts not an object", b'{"cik": 1, "facts": []}', "$.facts"),
    ("units missing", b'{"cik": 1, "facts": {"us-gaap": {"X": {"label": "x"}}}}', "units"),
    ("cik not a number", b'{"cik": "apple", "facts": {}}', "cik"),
    ("cik zero", b'{"cik": 0, "facts": {}}', "cik"),
    ("a list", b"[]", "object"),
]


@pytest.mark.parametrize(("payload", "message"), [c[1:] for c in NOT_COMPANYFACTS],
                         ids=[c[0] for c in NOT_COMPANYFACTS])
def test_not_a_companyfacts_payload_raises_one_line_error(payload: bytes, message: str) -> None:
    with pytest.raises(CompanyfactsError) as raised:
        companyfacts.parse(payload)
    assert isinstance(raised.value, ValueError)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


# --- the two parsing paths: fast (Polars reads the facts as NDJSON) and careful (typed) ------


def _careful(payload: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    return companyfacts._parse_typed(payload)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.stem)
def test_real_payloads_take_the_fast_path_and_match_the_careful_path(path: Path) -> None:
    payload = path.read_bytes()
    fast = companyfacts._parse_lines(payload)
    assert fast is not None, "SEC's own payload should not need the careful path"
    careful, rejects = _careful(payload)
    assert rejects.height == 0
    assert fast.schema == SCHEMA
    assert fast.equals(careful)


def _compact_payload(*fact_lines: str) -> bytes:
    """SYNTHETIC: one concept whose unit list holds a good fact and `fact_lines` as written."""
    good = json.dumps(SYNTHETIC_GOOD_ROW, separators=(",", ":"))
    facts = ",".join([good, *fact_lines])
    return ('{"cik":1234,"entityName":"x","facts":{"us-gaap":{"Synthetic":{"label":"x",'
            '"units":{"USD":[' + facts + "]}}}}}").encode()


_FACT = '"end":"2024-06-29","val":5,"accn":"0000000000-24-000002","form":"10-Q","filed":"2024-08-01"'

# Inputs Polars alone would read differently from the typed decode: the fast path declines them
# and the careful path gives its usual answer (a reject naming the problem, or the same rows).
DECLINED = [
    ("number in a text field", '{' + _FACT + ',"fp":2}'),
    ("bool in a text field", '{' + _FACT + ',"frame":true}'),
    ("object in a text field", '{' + _FACT + ',"fp":{"q":"Q2"}}'),
    ("object with a null in a text field", '{' + _FACT + ',"fp":{"q":null}}'),
    ("empty object in a text field", '{' + _FACT + ',"frame":{}}'),
    ("array in a text field", '{' + _FACT + ',"fp":["Q2"]}'),
    ("repeated key", '{' + _FACT + ',"val":6}'),
    ("unknown key", '{' + _FACT + ',"note":"x"}'),
    ("colon inside a value", '{' + _FACT + ',"frame":"CY2024:Q2"}'),
    ("space after a colon", '{' + _FACT + ',"fp": "Q2"}'),
    ("fact split over lines", '{' + _FACT + ',\n"fp":"Q2"}'),
    ("escaped quote and colon", '{' + _FACT + ',"frame":"a\\":b"}'),
    ("string where val belongs", '{"end":"2024-06-29","val":"5","accn":"a","form":"10-Q",'
                                 '"filed":"2024-08-01"}'),
    ("float where fy belongs", '{' + _FACT + ',"fy":2024.0}'),
    ("null instead of a fact", "null"),
    ("empty fact", "{}"),
    ("missing field", '{"end":"2024-06-29","val":5,"form":"10-Q","filed":"2024-08-01"}'),
    ("bad date", '{"end":"2024-02-30","val":5,"accn":"a","form":"10-Q","filed":"2024-08-01"}'),
]


@pytest.mark.parametrize("fact", [d[1] for d in DECLINED], ids=[d[0] for d in DECLINED])
def test_synthetic_fast_path_declines_what_polars_reads_differently(fact: str) -> None:
    payload = _compact_payload(fact)
    assert companyfacts._parse_lines(payload) is None
    facts, rejects = companyfacts.parse_with_rejects(payload)
    careful_facts, careful_rejects = _careful(payload)
    assert facts.equals(careful_facts) and rejects.equals(careful_rejects)
    assert facts.height >= 1  # the good fact beside it is kept either way


ACCEPTED = [
    ("instant fact, no start", '{' + _FACT + '}'),
    ("explicit nulls, as SEC writes fy and fp", '{' + _FACT + ',"fy":null,"fp":null}'),
    ("frame present", '{' + _FACT + ',"fy":2024,"fp":"Q2","frame":"CY2024Q2"}'),
    ("duration fact", '{"start":"2024-03-31",' + _FACT + '}'),
    ("unicode escape in a text field", '{' + _FACT + ',"fp":"Q\\u0032"}'),
    ("float and negative vals", '{' + _FACT.replace('"val":5', '"val":-1.25e-3') + '}'),
]


@pytest.mark.parametrize("fact", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_synthetic_fast_path_reads_plain_facts_as_the_careful_path_does(fact: str) -> None:
    payload = _compact_payload(fact, fact)
    fast = companyfacts._parse_lines(payload)
    assert fast is not None
    careful, rejects = _careful(payload)
    assert rejects.height == 0 and fast.height == 3
    assert fast.equals(careful)


def test_synthetic_repeated_key_with_a_null_is_read_first_wins_on_the_fast_path() -> None:
    """The one difference left (documented in `_parse_lines`): a key given twice in one fact,
    once with a value and once null, is invisible to the byte counts. JSON leaves repeated keys
    undefined and SEC's serializer never writes them; this pins the behaviour so a change to
    it is deliberate."""
    payload = _compact_payload('{' + _FACT + ',"fy":2024,"fy":null}')
    fast = companyfacts._parse_lines(payload)
    careful, _ = _careful(payload)
    assert fast is not None
    assert fast["fy"].to_list() == [2024, 2024]  # Polars: the first value
    assert careful["fy"].to_list() == [2024, None]  # msgspec: the last
