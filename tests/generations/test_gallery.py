"""The gallery: keyset pages on (created_at, id), filters, search in prompts, the count, and
the generate form's defaults. Keyset pages must show every generation exactly once, newest
first, and a page's link must keep showing the same generations while new ones arrive."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from byok.models import ImageModel
from generations import selectors
from generations.models import Image, ImageGeneration
from generations.selectors import Cursor, GalleryFilters, gallery_page
from tests.factories import make_configuration

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

GALLERY = "/dashboard/gallery/"


def make_generations(
    user,
    count: int,
    *,
    start=None,
    step=timedelta(minutes=1),
    tie_every=0,
    prompt="prompt",
    **fields,
) -> list[ImageGeneration]:
    """`count` generations, oldest first, `step` apart; with `tie_every`, groups of that many
    share the same creation time (the id then decides their order)."""
    start = start or timezone.now() - timedelta(days=30)
    status = fields.pop("status", "completed")
    made = []
    for n in range(count):
        generation = ImageGeneration.objects.create(
            user=user, prompt=f"{prompt} {n}", status=status, **fields
        )
        slot = n // tie_every if tie_every else n
        moment = start + step * slot
        ImageGeneration.objects.filter(pk=generation.pk).update(created_at=moment)
        generation.created_at = moment
        made.append(generation)
    return made


def newest_first(generations) -> list:
    return [g.pk for g in sorted(generations, key=lambda g: (g.created_at, g.pk), reverse=True)]


def walk_older(user, filters: GalleryFilters | None = None, size=7) -> list:
    filters = filters or GalleryFilters()
    seen, before = [], None
    for _ in range(1000):
        page = gallery_page(user=user, filters=filters, before=before, size=size)
        seen += [g.pk for g in page.generations]
        if page.older is None:
            return seen
        before = page.older
    raise AssertionError("the pages never ended")


# --- keyset pages --------------------------------------------------------------------------------


def test_pages_are_newest_first_and_show_every_generation_once(user, other_user):
    mine = make_generations(user, 50, tie_every=3)  # ties: several share a creation time
    make_generations(other_user, 5)
    seen = walk_older(user)
    assert seen == newest_first(mine)
    assert len(set(seen)) == 50


def test_no_generation_is_skipped_or_repeated_while_new_ones_arrive(user):
    old = make_generations(user, 30, tie_every=2)
    expected = newest_first(old)
    seen, before, added = [], None, []
    while True:
        page = gallery_page(user=user, filters=GalleryFilters(), before=before, size=7)
        seen += [g.pk for g in page.generations]
        # Between two page views: new generations, some at the very moment of the boundary.
        added += make_generations(user, 3, start=timezone.now(), prompt="new")
        if page.older is not None:
            boundary = ImageGeneration.objects.create(user=user, prompt="same moment")
            ImageGeneration.objects.filter(pk=boundary.pk).update(created_at=page.older.created_at)
            added.append(boundary)
        if page.older is None:
            break
        before = page.older
    old_seen = [pk for pk in seen if pk in set(expected)]
    assert old_seen == expected  # every old row, once, in order
    assert len(seen) == len(set(seen))  # nothing twice


def test_newer_goes_back_to_exactly_the_page_before(user):
    make_generations(user, 40)
    pages, before = [], None
    for _ in range(4):
        page = gallery_page(user=user, filters=GalleryFilters(), before=before, size=8)
        pages.append([g.pk for g in page.generations])
        before = page.older
    third = gallery_page(user=user, filters=GalleryFilters(), before=None, size=8)
    for _ in range(2):
        third = gallery_page(user=user, filters=GalleryFilters(), before=third.older, size=8)
    back = gallery_page(user=user, filters=GalleryFilters(), after=third.newer, size=8)
    assert [g.pk for g in back.generations] == pages[1]
    first = gallery_page(user=user, filters=GalleryFilters(), after=back.newer, size=8)
    assert [g.pk for g in first.generations] == pages[0]
    assert first.newer is None  # the newest page offers no "newer"


def test_cursor_round_trips_and_refuses_anything_else():
    cursor = Cursor(timezone.now(), uuid.uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
    too_late = "9" * 18 + "-" + "a" * 32  # past the year 9999
    for bad in (
        "",
        "abc",
        "12-xyz",
        "1-" + "g" * 32,
        "9" * 19 + "-" + "a" * 32,
        "-" + "a" * 32,
        too_late,
    ):
        with pytest.raises(ValueError):
            Cursor.decode(bad)


def test_page_links_are_stable_and_shareable(logged_in, user):
    make_generations(user, 30)
    first = logged_in.get(GALLERY).content.decode()
    older = re.search(r'href="(/dashboard/gallery/\?before=[^"]+)" rel="next"', first).group(1)
    older = older.replace("&amp;", "&")
    before_new = logged_in.get(older).content.decode()
    make_generations(user, 5, start=timezone.now(), prompt="brand new")
    after_new = logged_in.get(older).content.decode()

    def prompts(html):
        return re.findall(r"prompt \d+", html)

    assert prompts(before_new) == prompts(after_new) and prompts(after_new)
    assert "brand new" in logged_in.get(GALLERY).content.decode()


def test_a_damaged_link_is_a_400_with_a_sentence(logged_in, user):
    make_generations(user, 3)
    response = logged_in.get(GALLERY + "?before=not-a-cursor")
    assert response.status_code == 400
    assert "This gallery link is damaged" in response.content.decode()


def test_past_the_oldest_row_the_page_offers_the_way_back(logged_in, user):
    made = make_generations(user, 3)
    cursor = Cursor.of(made[0]).encode()  # the oldest
    html = logged_in.get(f"{GALLERY}?before={cursor}").content.decode()
    assert "There is nothing older here." in html
    assert 'href="/dashboard/gallery/"' in html


def _gallery_prompts(html: str) -> list[str]:
    """The prompts of the page's tiles, in order (their captions)."""
    return re.findall(r'class="tile-caption"><a [^>]*>([^<]*)</a>', html)


def _link(html: str, label: str) -> str | None:
    found = re.search(rf'href="([^"]+)"[^>]*>{label}</a>', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_oldest_page_is_one_link_away_and_walks_back_to_the_newest(logged_in, user):
    made = make_generations(user, 60)  # "prompt 0" is the oldest
    first = logged_in.get(GALLERY).content.decode()
    assert _link(first, "Newest") is None and _link(first, "Newer") is None
    oldest_url = _link(first, "Oldest")
    assert oldest_url == GALLERY + "?oldest=1"
    oldest = logged_in.get(oldest_url).content.decode()
    # The 24 oldest, newest first; nothing older, so neither "Older" nor "Oldest".
    assert _gallery_prompts(oldest) == [f"prompt {n}" for n in range(23, -1, -1)]
    assert _link(oldest, "Older") is None and _link(oldest, "Oldest") is None
    assert _link(oldest, "Newest") == GALLERY
    # "Newer" from there: the next 24, then the newest page; every generation was shown.
    seen = _gallery_prompts(oldest)
    page = oldest
    for _ in range(5):
        newer = _link(page, "Newer")
        if newer is None:
            break
        page = logged_in.get(newer).content.decode()
        seen += _gallery_prompts(page)
    assert _link(page, "Newer") is None
    assert {f"prompt {n}" for n in range(60)} == set(seen)
    assert len(made) == 60


def test_walking_newer_from_the_oldest_page_shows_every_generation_in_order(user):
    mine = make_generations(user, 40, tie_every=3)
    expected = newest_first(mine)
    page = gallery_page(user=user, filters=GalleryFilters(), oldest=True, size=7)
    assert [g.pk for g in page.generations] == expected[-7:]
    assert page.older is None
    walked = [g.pk for g in page.generations]
    while page.newer is not None:
        page = gallery_page(user=user, filters=GalleryFilters(), after=page.newer, size=7)
        ids = [g.pk for g in page.generations]
        assert ids == sorted(ids, key=expected.index)  # each page newest first
        walked = ids + [pk for pk in walked if pk not in ids]
    assert walked == expected  # nothing skipped; the newest page is shown whole


def test_a_legacy_page_number_shows_that_page(logged_in, user):
    make_generations(user, 60)
    first = logged_in.get(GALLERY).content.decode()
    second = logged_in.get(_link(first, "Older")).content.decode()
    by_number = logged_in.get(GALLERY + "?page=2")
    assert by_number.status_code == 200
    html = by_number.content.decode()
    assert _gallery_prompts(html) == _gallery_prompts(second)
    # Its own links are cursors: stable when new generations arrive.
    assert "?before=" in _link(html, "Older") and "?after=" in _link(html, "Newer")
    third = logged_in.get(GALLERY + "?page=3").content.decode()
    assert _gallery_prompts(third) == [f"prompt {n}" for n in range(11, -1, -1)]
    assert _link(third, "Older") is None
    # Past the end: the oldest page; not a number: the first page.
    for number in ("999", "99999999999999999999"):
        last = logged_in.get(GALLERY, {"page": number}).content.decode()
        assert _gallery_prompts(last) == [f"prompt {n}" for n in range(23, -1, -1)]
    for junk in ("abc", "0", "-3", "2.5", "²"):
        response = logged_in.get(GALLERY, {"page": junk})
        assert response.status_code == 200
        assert _gallery_prompts(response.content.decode())[0] == "prompt 59"


def test_a_legacy_page_number_keeps_the_filters_and_the_search(logged_in, user):
    make_generations(user, 30, prompt="lamp")
    make_generations(user, 30, prompt="fawn", start=timezone.now() - timedelta(days=10))
    html = logged_in.get(GALLERY, {"q": "lamp", "page": "2"}).content.decode()
    assert _gallery_prompts(html) == [f"lamp {n}" for n in range(5, -1, -1)]
    html = logged_in.get(GALLERY, {"q": "lamp", "page": "1"}).content.decode()
    assert _gallery_prompts(html) == [f"lamp {n}" for n in range(29, 5, -1)]


def test_a_damaged_newer_link_is_a_400_page_with_a_sentence(logged_in, user):
    make_generations(user, 3)
    response = logged_in.get(GALLERY + "?after=12345-zz&page=2")
    assert response.status_code == 400
    html = response.content.decode()
    assert "This gallery link is damaged" in html and "<form" in html


def test_another_users_cursor_shows_only_my_generations(logged_in, user, other_user):
    mine = make_generations(user, 5, prompt="mine")
    theirs = make_generations(other_user, 5, prompt="theirs", start=timezone.now())
    for name in ("before", "after"):
        html = logged_in.get(GALLERY, {name: Cursor.of(theirs[2]).encode()}).content.decode()
        assert "theirs" not in html
    html = logged_in.get(GALLERY, {"before": Cursor.of(theirs[0]).encode()}).content.decode()
    assert _gallery_prompts(html) == [f"mine {n}" for n in range(4, -1, -1)]
    assert len(mine) == 5


# --- filters and search --------------------------------------------------------------------------


def test_filters_by_provider_model_status_and_date(logged_in, user, providers):
    openai, google = providers["openai"], providers["google"]
    mini = ImageModel.objects.get(model_id="gpt-image-1-mini")
    imagen = ImageModel.objects.get(model_id="imagen-4.0-generate-001")
    now = timezone.now()
    make_generations(user, 2, provider=openai, model=mini, prompt="openai ok", start=now)
    make_generations(
        user, 1, provider=openai, model=mini, prompt="openai failed", status="failed", start=now
    )
    make_generations(
        user, 1, provider=google, model=imagen, prompt="google old", start=now - timedelta(days=40)
    )

    def shown(query: str) -> set[str]:
        response = logged_in.get(GALLERY + query)
        assert response.status_code == 200, response.content.decode()[:500]
        return set(
            re.findall(r"((?:openai ok|openai failed|google old) \d)", response.content.decode())
        )

    assert shown("?provider=google") == {"google old 0"}
    assert shown(f"?model={mini.pk}") == {"openai ok 0", "openai ok 1", "openai failed 0"}
    assert shown("?status=failed") == {"openai failed 0"}
    assert shown("?hide_failed=1") == {"openai ok 0", "openai ok 1", "google old 0"}
    since = (now - timedelta(days=2)).date().isoformat()
    assert shown(f"?since={since}&provider=openai&hide_failed=1") == {"openai ok 0", "openai ok 1"}
    until = (now - timedelta(days=39)).date().isoformat()
    assert shown(f"?until={until}") == {"google old 0"}


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("?since=2026-13-40", "“From” is not a date"),
        ("?until=yesterday", "“Until” is not a date"),
        ("?since=2026-05-02&until=2026-05-01", "must be on or before"),
        ("?status=exploded", "Select a valid choice"),
    ],
)
def test_bad_filters_are_a_400_with_a_sentence(logged_in, user, query, sentence):
    make_generations(user, 2)
    response = logged_in.get(GALLERY + query)
    assert response.status_code == 400
    assert sentence in response.content.decode()


def test_search_finds_every_word_and_the_start_of_words(user, other_user):
    make_generations(user, 1, prompt="A lighthouse at dusk, oil painting")
    make_generations(user, 1, prompt="A fawn at the lighthouse")
    make_generations(user, 1, prompt="Café au lait, watercolour")
    make_generations(other_user, 1, prompt="Their lighthouse")

    def found(query: str) -> list[str]:
        filters = GalleryFilters(query=query)
        return sorted(g.prompt for g in gallery_page(user=user, filters=filters).generations)

    assert found("lighthouse") == [
        "A fawn at the lighthouse 0",
        "A lighthouse at dusk, oil painting 0",
    ]
    assert found("light") == found("lighthouse")  # the start of a word
    assert found("DUSK lighthouse") == ["A lighthouse at dusk, oil painting 0"]  # every word
    assert found("café") == ["Café au lait, watercolour 0"]
    assert found("submarine") == []


@pytest.mark.parametrize("query", ["fox & | ! ( ) :* <->", "'; DROP TABLE x; --", "\\", "%_%"])
def test_search_with_operators_or_quotes_is_plain_text(logged_in, user, query):
    make_generations(user, 2)
    response = logged_in.get(GALLERY, {"q": query})
    assert response.status_code == 200


def test_the_count_above_the_cap_is_kept_and_right_after_a_create_and_a_delete(
    logged_in, user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(selectors, "COUNT_EXACT_UP_TO", 5)
    made = make_generations(user, 8)
    assert "8 generations, newest first." in logged_in.get(GALLERY).content.decode()
    # Kept: the next view does not count the rows again.
    with CaptureQueriesContext(connection) as ctx:
        logged_in.get(GALLERY)
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    with django_capture_on_commit_callbacks(execute=True):
        make_generations(user, 2, start=timezone.now())
    assert "10 generations, newest first." in logged_in.get(GALLERY).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post("/dashboard/gallery/delete/", {"ids": [made[0].pk]})
    assert "9 generations, newest first." in logged_in.get(GALLERY).content.decode()
    # A deletion through the API forgets the count too.
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.delete(f"/api/generations/{made[1].pk}/")
    assert "8 generations, newest first." in logged_in.get(GALLERY).content.decode()


def test_a_small_gallery_is_counted_exactly_every_time(logged_in, user):
    make_generations(user, 3)
    assert "3 generations, newest first." in logged_in.get(GALLERY).content.decode()
    make_generations(user, 1, start=timezone.now())
    assert "4 generations, newest first." in logged_in.get(GALLERY).content.decode()


def _queries(client, url) -> int:
    client.get(url)  # warm: sessions, content types, the tile cache
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_queries_per_page_do_not_grow_with_the_gallery(client, user, other_user, providers):
    from tests.factories import make_user

    small, big = make_user(), make_user()
    for owner, count in ((small, 3), (big, 90)):
        for generation in make_generations(owner, count, provider=providers["openai"]):
            Image.objects.create(generation=generation, storage_path="x.png", width=8, height=8)
    counts = {}
    for owner in (small, big):
        client.force_login(owner)
        deep = gallery_page(user=owner, filters=GalleryFilters(), size=2).older.encode()
        counts[owner.pk] = (
            _queries(client, GALLERY),
            _queries(client, f"{GALLERY}?before={deep}"),
            _queries(client, f"{GALLERY}?q=prompt&hide_failed=1"),
        )
    # Never more for the big gallery (a search in a small one may take one query more: too few
    # rows to fill a page, so the GIN index is asked too).
    pairs = zip(counts[big.pk], counts[small.pk], strict=True)
    assert all(big_n <= small_n for big_n, small_n in pairs)
    assert counts[big.pk][:2] == counts[small.pk][:2]


# --- the generate form's defaults ----------------------------------------------------------------


def test_the_newest_model_is_the_default_never_dall_e_2(logged_in, user, providers):
    make_configuration(user, providers["openai"])
    page = logged_in.get("/dashboard/generate/").content.decode()
    selected = re.search(r'<option value="[^"]+" data-provider="[^"]+" selected\s*>([^<]+)<', page)
    assert selected.group(1) == "GPT Image 2"


def test_the_last_model_used_is_the_default(logged_in, user, providers):
    config = make_configuration(user, providers["openai"])
    dalle3 = ImageModel.objects.get(model_id="dall-e-3")
    ImageGeneration.objects.create(user=user, configuration=config, model=dalle3, prompt="x")
    page = logged_in.get("/dashboard/generate/").content.decode()
    selected = re.search(r'<option value="[^"]+" data-provider="[^"]+" selected\s*>([^<]+)<', page)
    assert selected.group(1) == "DALL·E 3"


def test_a_model_an_operator_adds_counts_as_the_newest(logged_in, user, providers):
    make_configuration(user, providers["openai"])
    ImageModel.objects.create(
        provider=providers["openai"],
        name="GPT Image 2.6 Sunburst",
        model_id="gpt-image-2.6-sunburst",
        capabilities={"max_images": 1, "price_per_image": "0.05"},
    )
    page = logged_in.get("/dashboard/generate/").content.decode()
    selected = re.search(r'<option value="[^"]+" data-provider="[^"]+" selected\s*>([^<]+)<', page)
    assert selected.group(1) == "GPT Image 2.6 Sunburst"


def test_settings_are_shown_in_words(logged_in, user, providers):
    config = make_configuration(user, providers["openai"])
    generation = ImageGeneration.objects.create(
        user=user,
        configuration=config,
        model=ImageModel.objects.get(model_id="gpt-image-1.5"),
        prompt="words",
        status="completed",
        duration_ms=7040,
        parameters={
            "model_id": "gpt-image-1.5",
            "count": 2,
            "size": "1536x1024",
            "quality": "high",
            "output_format": "png",
            "background": "transparent",
        },
    )
    page = logged_in.get(f"/dashboard/generations/{generation.pk}/").content.decode()
    for words in (
        "Quality: high",
        "Format: PNG",
        "Size: 1536 × 1024",
        "Images: 2",
        "Background: transparent",
        "7.0 s",
    ):
        assert words in page
    shown = page.split("<dt>Settings</dt>", 1)[1].split("</dd>", 1)[0]
    for api_name in ("output_format", "model_id", "1536x1024", "quality:"):
        assert api_name not in shown
    french = logged_in.get(
        f"/dashboard/generations/{generation.pk}/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    for words in (
        "Qualité\u00a0: élevée",
        "Format\u00a0: PNG",
        "Arrière-plan\u00a0: transparent",
        "7,0\u00a0s",
    ):
        assert words in french


def test_dates_and_prices_follow_the_language(logged_in, user, providers):
    config = make_configuration(user, providers["openai"])
    generation = ImageGeneration.objects.create(
        user=user,
        configuration=config,
        prompt="price",
        status="completed",
        cost_estimate="0.07",
    )
    ImageGeneration.objects.filter(pk=generation.pk).update(
        created_at=datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
    )
    english = logged_in.get(f"/dashboard/generations/{generation.pk}/").content.decode()
    french = logged_in.get(
        f"/dashboard/generations/{generation.pk}/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "29 Nov 2026, 14:05" in english and "$0.07" in english
    assert "29 nov. 2026 à 14:05" in french and "0,07\u00a0$" in french
