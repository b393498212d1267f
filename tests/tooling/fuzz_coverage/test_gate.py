"""The coverage gate fails a fuzz run that missed a documented response, a link or a long enough sequence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.fuzz_coverage import JSON_FILE, MARKDOWN_FILE, allowlist, contract, write_report
from tests.tooling.fuzz_coverage.runs import CREATE, GET, call, complete_run, get_by_link, scenario, write_run


def gate(tmp_path: Path, lines: list[str], **allow: str) -> list[str]:
    spec, allowed = write_run(tmp_path, lines, **allow)
    return write_report(tmp_path, spec=spec, allow_list=allowed).failures()


def test_a_run_that_produced_every_documented_response_and_followed_every_link_passes(tmp_path: Path) -> None:
    assert gate(tmp_path, complete_run()) == []


def test_a_documented_status_never_produced_fails_the_run(tmp_path: Path) -> None:
    without_422 = complete_run()
    without_422[0] = scenario("fuzzing", call("a", CREATE, 201, body={"title": "x"}))
    assert gate(tmp_path, without_422) == ["createTask 422: documented, never produced"]


def test_a_status_is_excused_only_by_the_allow_list(tmp_path: Path) -> None:
    assert gate(tmp_path, complete_run(), allow_list="") == ["createTask 503: documented, never produced"]


def test_a_link_never_followed_fails_the_run(tmp_path: Path) -> None:
    unlinked = [
        *complete_run()[:2],
        scenario("stateful", *[call(f"s{n}", CREATE, 201, body={"title": "x"}) for n in range(5)]),
        scenario("stateful", call("g", GET, 200, path={"user_id": "ann", "task_id": 8})),
    ]
    assert gate(tmp_path, unlinked) == ["link GetTask: never followed"]


def test_a_link_whose_if_match_was_drawn_afresh_was_not_followed(tmp_path: Path) -> None:
    """Schemathesis may send a made-up value instead of the one the link took from the answer."""
    run = complete_run()
    run[2] = scenario(
        "stateful",
        *[call(f"s{n}", CREATE, 201, body={"title": "x"}) for n in range(4)],
        get_by_link("e", parent="s0", if_match='"9"'),
    )
    assert gate(tmp_path, run) == ["link GetTask: never followed"]


def test_stateful_scenarios_shorter_than_five_calls_fail_the_run(tmp_path: Path) -> None:
    short = [
        *complete_run()[:2],
        scenario(
            "stateful",
            call("d", CREATE, 201, body={"title": "y"}),
            get_by_link("e", parent="d"),
            # A check's own follow-up request is not a step of the scenario.
            call("x", GET, 404, parent="e"),
            call("f", GET, 404, path={"user_id": "ann", "task_id": 8}),
        ),
    ]
    assert gate(tmp_path, short) == ["the longest stateful scenario made 3 calls; at least 5 needed"]


def test_the_report_counts_statuses_values_links_and_the_longest_chain(tmp_path: Path) -> None:
    spec, allowed = write_run(tmp_path, complete_run())
    write_report(tmp_path, spec=spec, allow_list=allowed)
    report = json.loads((tmp_path / JSON_FILE).read_text())
    create, get = report["operations"]["createTask"], report["operations"]["getTask"]
    assert create["statuses"]["documented"] == {
        "201": {"produced": 3, "allowed": None},
        "422": {"produced": 1, "allowed": None},
        "503": {"produced": 0, "allowed": "The database must be down."},
    }
    assert create["body"] == {"valid": 3, "invalid": 1, "properties": {"title": {"valid": 3, "invalid": 0}}}
    assert create["links"] == {"201 getTask": {"definition": "GetTask", "target": "getTask", "followed": 1}}
    # Path values arrive as text or numbers; "7" and 7 are both a valid task_id.
    assert get["parameters"]["path.task_id"] == {"valid": 4, "invalid": 0}
    assert get["parameters"]["header.If-Match"] == {"valid": 1, "invalid": 0}
    assert report["stateful"]["longest_scenario_calls"] == 5
    assert report["stateful"]["longest_link_chain"] == [
        "POST /api/{user_id}/tasks",
        "GET /api/{user_id}/tasks/{task_id}",
    ]
    page = (tmp_path / MARKDOWN_FILE).read_text()
    assert "Gate passed" in page
    assert "| `createTask` | 201 ×3, 422 ×1 | 503 (allowed) | 201 getTask ×1 |" in page


def test_an_invalid_path_value_is_counted_invalid(tmp_path: Path) -> None:
    run = [*complete_run(), scenario("coverage", call("z", GET, 404, path={"user_id": "ann", "task_id": "0"}))]
    spec, allowed = write_run(tmp_path, run)
    write_report(tmp_path, spec=spec, allow_list=allowed)
    parameters = json.loads((tmp_path / JSON_FILE).read_text())["operations"]["getTask"]["parameters"]
    assert parameters["path.task_id"] == {"valid": 4, "invalid": 1}


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ('[[responses]]\nstatus = "503"\noperations = ["nope"]\nreason = "r"', "no operation 'nope'"),
        ('[[responses]]\nstatus = "418"\noperations = ["getTask"]\nreason = "r"', "getTask documents no '418'"),
        ('[[responses]]\nstatus = "404"\noperations = ["getTask"]', "needs a `reason`"),
        ('[[links]]\nlink = "Nope"\nreason = "r"', "no link 'Nope'"),
    ],
)
def test_an_allow_list_entry_must_name_what_the_contract_has_and_say_why(
    tmp_path: Path, entry: str, error: str
) -> None:
    spec, allowed = write_run(tmp_path, [], allow_list=entry)
    with pytest.raises(allowlist.AllowListError, match=error):
        allowlist.load(allowed, contract.load(spec))


def test_the_projects_allow_list_names_only_what_the_contract_documents() -> None:
    from devtools.fuzz_coverage import ALLOW_LIST, SPEC

    allowed = allowlist.load(ALLOW_LIST, contract.load(SPEC))
    assert ("createTask", "503") in allowed.responses
    assert all(excuse.reason for excuse in allowed.responses.values())


def test_further_stateful_passes_add_to_the_first(tmp_path: Path) -> None:
    """A link the first pass did not follow, followed in a second stateful pass: the run has covered it."""
    first = complete_run()
    first[2] = scenario("stateful", *[call(f"s{n}", CREATE, 201, body={"title": "x"}) for n in range(5)])
    first.append(scenario("fuzzing", call("g", GET, 200, path={"user_id": "ann", "task_id": 8})))
    spec, allowed = write_run(tmp_path, first)
    verdict = write_report(tmp_path, spec=spec, allow_list=allowed)
    assert verdict.failures() == ["link GetTask: never followed"]
    assert verdict.wants_more_stateful
    (tmp_path / "events-stateful-1.ndjson").write_text(complete_run()[2] + "\n")
    assert write_report(tmp_path, spec=spec, allow_list=allowed).passed
    assert json.loads((tmp_path / JSON_FILE).read_text())["event_reports"] == [
        "events-stateful-1.ndjson",
        "events.ndjson",
    ]


def test_a_missing_response_is_not_what_another_stateful_pass_is_for(tmp_path: Path) -> None:
    spec, allowed = write_run(tmp_path, complete_run(), allow_list="")
    assert not write_report(tmp_path, spec=spec, allow_list=allowed).wants_more_stateful
