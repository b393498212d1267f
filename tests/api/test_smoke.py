"""The service answers end to end: a task goes in over HTTP and comes back out of PostgreSQL."""

from tests.conftest import User


def test_a_created_task_can_be_read_back(alice: User) -> None:
    task = alice.create("Buy milk")
    response = alice.request("GET", alice.task_path(task["id"]))
    assert response.status_code == 200
    assert response.json() == task
