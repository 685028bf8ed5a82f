"""GET /api/generations/: numbered pages (`?page=`) and cursors (`?before=` / `?after=`, from
the `pagination` block). Walking by cursor shows every generation once, in order, while new ones
arrive; the count is right after a create and a delete; a bad cursor is a 400 with a sentence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generations.models import ImageGeneration
from generations.selectors import Cursor

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

LIST = "/api/generations/"


def make_generations(user, count: int, *, start=None, tie_every=0, prompt="prompt"):
    """`count` generations, oldest first, a minute apart (groups of `tie_every` at the same
    moment: the id then decides)."""
    start = start or timezone.now() - timedelta(days=30)
    made = []
    for n in range(count):
        generation = ImageGeneration.objects.create(
            user=user, prompt=f"{prompt} {n}", status="completed"
        )
        moment = start + timedelta(minutes=n // tie_every if tie_every else n)
        ImageGeneration.objects.filter(pk=generation.pk).update(created_at=moment)
        generation.created_at = moment
        made.append(generation)
    return made


def newest_first(generations) -> list[str]:
    ordered = sorted(generations, key=lambda g: (g.created_at, g.pk), reverse=True)
    return [str(g.pk) for g in ordered]


def ids(answer: dict) -> list[str]:
    return [row["id"] for row in answer["data"]]


def test_walking_by_cursor_shows_every_generation_once_while_new_ones_arrive(logged_in, user):
    old = make_generations(user, 47, tie_every=3)
    expected = newest_first(old)
    seen, url = [], LIST
    for _ in range(10):
        answer = logged_in.get(url).json()
        seen += ids(answer)
        # Between two pages: new generations, one of them at the very moment of the boundary.
        make_generations(user, 2, start=timezone.now(), prompt="new")
        cursor = answer["pagination"]["next"]
        if cursor is None:
            break
        boundary = ImageGeneration.objects.create(user=user, prompt="same moment")
        moment = Cursor.decode(cursor).created_at
        ImageGeneration.objects.filter(pk=boundary.pk).update(created_at=moment)
        assert answer["pagination"]["page"] in (1, None)
        url = f"{LIST}?before={cursor}"
    old_seen = [pk for pk in seen if pk in set(expected)]
    assert old_seen == expected  # every old one, once, newest first
    assert len(seen) == len(set(seen))  # nothing twice


def test_previous_goes_back_to_exactly_the_page_before(logged_in, user):
    make_generations(user, 65)
    pages, url = [], LIST
    for _ in range(4):
        answer = logged_in.get(url).json()
        pages.append(answer)
        url = f"{LIST}?before={answer['pagination']['next']}"
    assert pages[3]["pagination"]["next"] is None  # 65 = 3 × 20 + 5: the last page
    assert len(pages[3]["data"]) == 5
    back = logged_in.get(f"{LIST}?after={pages[3]['pagination']['previous']}").json()
    assert ids(back) == ids(pages[2])
    back = logged_in.get(f"{LIST}?after={back['pagination']['previous']}").json()
    assert ids(back) == ids(pages[1])
    first = logged_in.get(f"{LIST}?after={back['pagination']['previous']}").json()
    assert ids(first) == ids(pages[0])
    assert first["pagination"]["previous"] is None


def test_numbered_pages_are_the_same_rows_as_the_cursors_and_end_with_the_last(logged_in, user):
    made = make_generations(user, 65, tie_every=4)
    expected = newest_first(made)
    by_number = [logged_in.get(LIST, {"page": n}).json() for n in (1, 2, 3, 4)]
    assert [pk for page in by_number for pk in ids(page)] == expected
    last = by_number[3]["pagination"]
    assert last == {
        "page": 4,
        "pages": 4,
        "count": 65,
        "page_size": 20,
        "next": None,
        "previous": last["previous"],
    }
    # A numbered page's cursors continue from it.
    second = by_number[1]["pagination"]
    assert ids(logged_in.get(LIST, {"before": second["next"]}).json()) == ids(by_number[2])
    assert ids(logged_in.get(LIST, {"after": second["previous"]}).json()) == ids(by_number[0])
    assert logged_in.get(LIST, {"page": 5}).status_code == 404


def test_numbered_pages_never_skip_a_generation_while_new_ones_arrive(logged_in, user):
    # A number counts from the newest, so each new generation moves the pages by one: the
    # rows at a page's edge may be listed again, none is ever missed.
    old = make_generations(user, 50)
    expected = newest_first(old)
    seen = []
    for number in range(1, 10):
        answer = logged_in.get(LIST, {"page": number})
        if answer.status_code == 404:
            break
        seen += ids(answer.json())
        make_generations(user, 3, start=timezone.now(), prompt="new")
    assert [pk for pk in dict.fromkeys(seen) if pk in set(expected)] == expected


def test_a_cursor_page_says_the_count_but_not_a_number(logged_in, user):
    make_generations(user, 25)
    first = logged_in.get(LIST).json()
    second = logged_in.get(LIST, {"before": first["pagination"]["next"]}).json()
    assert second["pagination"] == {
        "page": None,
        "pages": 2,
        "count": 25,
        "page_size": 20,
        "next": None,
        "previous": second["pagination"]["previous"],
    }
    assert len(second["data"]) == 5


@pytest.mark.parametrize(
    "query",
    [
        {"before": "garbage"},
        {"after": "1-" + "g" * 32},
        {"before": "9" * 19 + "-" + "a" * 32},
        {"before": "9" * 18 + "-" + "a" * 32},
        {"after": ""},
    ],
)
def test_a_damaged_cursor_is_a_400_with_a_sentence(logged_in, user, query):
    make_generations(user, 3)
    answer = logged_in.get(LIST, query)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("This cursor is not one Bambi gave out")


def test_the_cursor_sentence_follows_the_language(user):
    from django.test import Client

    french = Client(headers={"Accept-Language": "fr"})
    french.force_login(user)
    answer = french.get(LIST, {"before": "garbage"})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("Ce curseur n’a pas été donné par Bambi")


def test_a_page_and_a_cursor_together_are_a_400(logged_in, user):
    made = make_generations(user, 3)
    cursor = Cursor.of(made[1]).encode()
    for query in ({"page": 1, "before": cursor}, {"before": cursor, "after": cursor}):
        answer = logged_in.get(LIST, query)
        assert answer.status_code == 400
        assert "not several" in answer.json()["error"]


def test_another_users_cursor_lists_only_my_generations(logged_in, user, other_user):
    mine = make_generations(user, 5, prompt="mine")
    theirs = make_generations(other_user, 5, prompt="theirs", start=timezone.now())
    for name in ("before", "after"):
        answer = logged_in.get(LIST, {name: Cursor.of(theirs[2]).encode()}).json()
        assert all(row["prompt"].startswith("mine") for row in answer["data"])
    answer = logged_in.get(LIST, {"before": Cursor.of(theirs[0]).encode()}).json()
    assert ids(answer) == newest_first(mine)
    assert answer["pagination"]["count"] == 5


def test_the_count_is_right_after_a_create_and_after_a_delete(
    logged_in, user, django_capture_on_commit_callbacks
):
    made = make_generations(user, 30)
    assert logged_in.get(LIST).json()["pagination"]["count"] == 30
    with django_capture_on_commit_callbacks(execute=True):
        make_generations(user, 2, start=timezone.now())
    assert logged_in.get(LIST).json()["pagination"]["count"] == 32
    with django_capture_on_commit_callbacks(execute=True):
        assert logged_in.delete(f"{LIST}{made[0].pk}/").status_code == 200
    answer = logged_in.get(LIST).json()["pagination"]
    assert (answer["count"], answer["pages"]) == (31, 2)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post("/dashboard/gallery/delete/", {"ids": [g.pk for g in made[1:12]]})
    answer = logged_in.get(LIST).json()["pagination"]
    assert (answer["count"], answer["pages"]) == (20, 1)


def test_the_document_describes_the_cursors(client):
    operation = client.get("/api/openapi.json").json()["paths"][LIST]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"page", "before", "after"} <= names
