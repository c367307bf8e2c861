"""Tests for compliance.inputs: JSON Lines, CSV, Instagram JSON and stdin into Posts."""

from __future__ import annotations

import io
import json
import lzma
import sys
from pathlib import Path

import pytest

from compliance.inputs import (
    HARMLESS_FIELDS,
    InputError,
    InputFormatError,
    post_from_record,
    read_posts,
)
from compliance.model import PLATFORMS, Campaign, Post

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
INSTASYNTH = SHARED / "corpora" / "instasynth" / "synthetic_captions.csv"
FIXTURES = SHARED / "fixtures"


def write_jsonl(path: Path, *records: object) -> Path:
    """Write one line per record: dicts are JSON-encoded, strings written as they are."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def posts_and_errors(items: list[Post | InputError]) -> tuple[list[Post], list[InputError]]:
    posts = [i for i in items if isinstance(i, Post)]
    errors = [i for i in items if isinstance(i, InputError)]
    assert len(posts) + len(errors) == len(items)
    return posts, errors


def only_error(path: Path, **kwargs) -> InputError:
    """Read ``path`` and return its single item, which must be an InputError."""
    items = list(read_posts(path, **kwargs))
    assert len(items) == 1, items
    assert isinstance(items[0], InputError), items[0]
    return items[0]


# --- JSON Lines ---------------------------------------------------------------------------


def test_jsonl_full_record_is_normalised(tmp_path):
    record = {
        "id": 12345,
        "platform": "Instagram",
        "caption": "#ad Loving my serum from @glowlab",
        "author": "@maya",
        "url": "https://www.instagram.com/p/abc/",
        "posted_at": "2024-05-01T12:00:00Z",
        "paid_partnership": True,
        "is_video": False,
        "transcript": "  hi all  ",
        "jurisdiction": "gb",
        "language": "ES",
        "campaign": {
            "brand": "GlowLab",
            "aliases": "Glow Lab",
            "handles": ["glowlab", "@glowlab_uk"],
            "hashtags": "glowlabpartner",
            "promo_codes": ["MAYA15"],
            "domains": ["GlowLab.com"],
            "relationship": "Free Product",
        },
    }
    [post] = read_posts(write_jsonl(tmp_path / "posts.jsonl", record))
    assert post == Post(
        caption="#ad Loving my serum from @glowlab",
        id="12345",
        platform="instagram",
        author="@maya",
        url="https://www.instagram.com/p/abc/",
        posted_at="2024-05-01T12:00:00+00:00",
        paid_partnership=True,
        is_video=False,
        transcript="  hi all  ",
        jurisdiction="GB",
        language="es",
        campaign=Campaign(
            brand="GlowLab",
            aliases=("Glow Lab",),
            handles=("@glowlab", "@glowlab_uk"),
            hashtags=("#glowlabpartner",),
            promo_codes=("MAYA15",),
            domains=("glowlab.com",),
            relationship="free_product",
        ),
    )


def test_jsonl_minimal_record_and_empty_caption(tmp_path):
    posts = list(read_posts(write_jsonl(tmp_path / "p.jsonl", {"caption": "hi"}, {"caption": ""})))
    assert posts == [Post(caption="hi"), Post(caption="")]
    assert posts[0].platform == "other"


def test_jsonl_ndjson_extension_and_null_fields(tmp_path):
    record = {
        "caption": "x",
        "platform": None,
        "paid_partnership": None,
        "campaign": None,
        "id": None,
    }
    [post] = read_posts(write_jsonl(tmp_path / "p.ndjson", record))
    assert post == Post(caption="x")


def test_jsonl_empty_campaign_becomes_none(tmp_path):
    [post] = read_posts(
        write_jsonl(tmp_path / "p.jsonl", {"caption": "x", "campaign": {"handles": []}})
    )
    assert post.campaign is None


def test_jsonl_posted_at_offsets_are_normalised(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        {"caption": "a", "posted_at": "2021-08-17T19:00:42+0000"},
        {"caption": "b", "posted_at": "2026-11-12T17:10:44.123Z"},
        {"caption": "c", "posted_at": "2024-05-01"},
    )
    assert [p.posted_at for p in read_posts(path)] == [
        "2021-08-17T19:00:42+00:00",
        "2026-11-12T17:10:44.123000+00:00",
        "2024-05-01T00:00:00",
    ]


def test_jsonl_blank_lines_skipped_and_line_numbers_kept(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", {"caption": "one"}, "", "   ", {"caption": 5})
    posts, errors = posts_and_errors(list(read_posts(path)))
    assert [p.caption for p in posts] == ["one"]
    assert [e.where for e in errors] == [f"{path}:4"]


def test_jsonl_bad_line_in_the_middle_does_not_stop_the_rest(tmp_path):
    path = write_jsonl(
        tmp_path / "posts.jsonl",
        {"caption": "first"},
        '{"caption": "broken",',
        {"caption": "third", "platform": "tiktok"},
        {"caption": "fourth", "platform": "myspace"},
        {"caption": "fifth"},
    )
    items = list(read_posts(path))
    assert [type(i).__name__ for i in items] == ["Post", "InputError", "Post", "InputError", "Post"]
    assert [i.caption for i in items if isinstance(i, Post)] == ["first", "third", "fifth"]
    assert items[1].where == f"{path}:2"
    assert items[1].message.startswith("invalid JSON: ")
    assert items[3].where == f"{path}:4"


def test_jsonl_invalid_json_message(tmp_path):
    error = only_error(write_jsonl(tmp_path / "posts.jsonl", "{caption: 'x'}"))
    assert (
        str(error)
        == f"{tmp_path / 'posts.jsonl'}:1: invalid JSON: Expecting property name enclosed in double quotes at column 2"
    )


@pytest.mark.parametrize("comment", ["// a comment", "# a comment"])
def test_jsonl_comment_lines_are_errors(tmp_path, comment):
    path = write_jsonl(tmp_path / "p.jsonl", comment, {"caption": "kept"})
    items = list(read_posts(path))
    assert isinstance(items[0], InputError)
    assert items[0].where == f"{path}:1"
    assert "comment lines are not allowed" in items[0].message
    assert items[1] == Post(caption="kept")


# Each bad record, the field its message must name, and a fragment of the message.
BAD_RECORDS = [
    ({}, "'caption'", "is required"),
    ({"caption": None}, "'caption'", "expected a string, got null"),
    ({"caption": ["a"]}, "'caption'", "expected a string, got an array"),
    ({"caption": "x", "id": True}, "'id'", "expected a string or an integer, got true"),
    ({"caption": "x", "id": 1.5}, "'id'", "got 1.5"),
    (
        {"caption": "x", "platform": "myspace"},
        "'platform'",
        "unknown platform 'myspace' (allowed: instagram, tiktok",
    ),
    ({"caption": "x", "platform": 3}, "'platform'", "expected a string, got 3"),
    (
        {"caption": "x", "jurisdiction": "USA"},
        "'jurisdiction'",
        "2-letter country code such as US or GB, got 'USA'",
    ),
    ({"caption": "x", "jurisdiction": "U1"}, "'jurisdiction'", "got 'U1'"),
    ({"caption": "x", "jurisdiction": 1}, "'jurisdiction'", "expected a string, got 1"),
    (
        {"caption": "x", "posted_at": "yesterday"},
        "'posted_at'",
        "ISO-8601 date-time such as 2024-05-01T12:00:00Z, got 'yesterday'",
    ),
    (
        {"caption": "x", "posted_at": 1714564800},
        "'posted_at'",
        "expected an ISO-8601 date-time string, got 1714564800",
    ),
    (
        {"caption": "x", "paid_partnership": "yes please"},
        "'paid_partnership'",
        "expected true, false or null, got 'yes please'",
    ),
    (
        {"caption": "x", "is_video": "true"},
        "'is_video'",
        "expected true, false or null, got 'true'",
    ),
    ({"caption": "x", "is_video": 1}, "'is_video'", "got 1"),
    ({"caption": "x", "author": 7}, "'author'", "expected a string, got 7"),
    ({"caption": "x", "url": {"href": "u"}}, "'url'", "expected a string, got an object"),
    ({"caption": "x", "transcript": False}, "'transcript'", "expected a string, got false"),
    (
        {"caption": "x", "language": "english"},
        "'language'",
        "language code such as en or es, got 'english'",
    ),
    ({"caption": "x", "language": ["en"]}, "'language'", "expected a string, got an array"),
    (
        {"caption": "x", "campaign": "GlowLab"},
        "'campaign'",
        "expected an object or null, got 'GlowLab'",
    ),
    (
        {"caption": "x", "campaign": {"hashtag": ["#a"]}},
        "'campaign'",
        "unknown key 'hashtag' (did you mean 'hashtags'?)",
    ),
    ({"caption": "x", "campaign": {"brand": 5}}, "'campaign.brand'", "expected a string, got 5"),
    (
        {"caption": "x", "campaign": {"relationship": "sponsor"}},
        "'campaign.relationship'",
        "unknown relationship 'sponsor' (allowed: paid, free_product",
    ),
    (
        {"caption": "x", "campaign": {"relationship": True}},
        "'campaign.relationship'",
        "expected a string, got true",
    ),
    (
        {"caption": "x", "campaign": {"handles": ["@a", 2]}},
        "'campaign.handles'",
        "item 2 is not a string: 2",
    ),
    (
        {"caption": "x", "campaign": {"hashtags": {"a": 1}}},
        "'campaign.hashtags'",
        "expected a string or a list of strings, got an object",
    ),
    ({"caption": "x", "campaign": {"promo_codes": 15}}, "'campaign.promo_codes'", "got 15"),
    (
        {"caption": "x", "campaign": {"domains": [None]}},
        "'campaign.domains'",
        "item 1 is not a string: null",
    ),
    ({"caption": "x", "campaign": {"aliases": True}}, "'campaign.aliases'", "got true"),
]


@pytest.mark.parametrize(("record", "field", "fragment"), BAD_RECORDS)
def test_jsonl_validation_errors_name_line_and_field(tmp_path, record, field, fragment):
    path = write_jsonl(tmp_path / "posts.jsonl", {"caption": "ok"}, {"caption": "ok"}, record)
    items = list(read_posts(path))
    assert items[:2] == [Post(caption="ok"), Post(caption="ok")]
    error = items[2]
    assert isinstance(error, InputError)
    assert error.where == f"{path}:3"
    assert error.message.startswith(f"field {field}: "), error.message
    assert fragment in error.message
    assert "\n" not in error.message


def test_paid_partnership_message_matches_documented_wording(tmp_path):
    error = only_error(
        write_jsonl(tmp_path / "posts.jsonl", {"caption": "x", "paid_partnership": "yes please"})
    )
    assert (
        error.message == "field 'paid_partnership': expected true, false or null, got 'yes please'"
    )
    assert str(error) == f"{tmp_path / 'posts.jsonl'}:1: {error.message}"


def test_unknown_platform_lists_every_allowed_platform(tmp_path):
    error = only_error(write_jsonl(tmp_path / "p.jsonl", {"caption": "x", "platform": "vine"}))
    for platform in PLATFORMS:
        assert platform in error.message


def test_unknown_top_level_field_is_an_error_with_a_suggestion(tmp_path):
    error = only_error(write_jsonl(tmp_path / "p.jsonl", {"captoin": "x", "caption": "y"}))
    assert error.message == "unknown field 'captoin' (did you mean 'caption'?)"


def test_several_unknown_fields_are_named_together(tmp_path):
    error = only_error(write_jsonl(tmp_path / "p.jsonl", {"caption": "y", "zzz": 1, "qqq": 2}))
    assert error.message.startswith("unknown fields 'qqq', 'zzz' (known fields: id, platform")


def test_record_that_is_not_an_object(tmp_path):
    error = only_error(write_jsonl(tmp_path / "p.jsonl", '["caption"]'))
    assert error.message == "expected a JSON object, got an array"


def test_harmless_extra_fields_are_ignored(tmp_path):
    record = {"caption": "x", "_private": 1, **{name: "anything" for name in HARMLESS_FIELDS}}
    assert {"sponsored", "label", "notes", "expected"} <= HARMLESS_FIELDS
    assert list(read_posts(write_jsonl(tmp_path / "p.jsonl", record))) == [Post(caption="x")]


def test_platform_alias_and_jurisdiction_alias(tmp_path):
    [post] = read_posts(
        write_jsonl(tmp_path / "p.jsonl", {"caption": "x", "platform": "X", "jurisdiction": "uk"})
    )
    assert (post.platform, post.jurisdiction) == ("twitter", "GB")


def test_defaults_fill_only_missing_platform_and_jurisdiction(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        {"caption": "a"},
        {"caption": "b", "platform": "youtube", "jurisdiction": "DE"},
    )
    posts = list(read_posts(path, default_platform="TikTok", default_jurisdiction="gb"))
    assert [(p.platform, p.jurisdiction) for p in posts] == [("tiktok", "GB"), ("youtube", "DE")]


def test_invalid_defaults_raise_value_error(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", {"caption": "a"})
    with pytest.raises(ValueError, match="default_platform"):
        read_posts(path, default_platform="myspace")
    with pytest.raises(ValueError, match="default_jurisdiction"):
        read_posts(path, default_jurisdiction="USA")


def test_repeated_campaigns_are_equal_and_still_validated(tmp_path):
    campaign = {"brand": "GlowLab", "handles": ["glowlab"], "relationship": "paid"}
    path = write_jsonl(
        tmp_path / "p.jsonl",
        {"caption": "a", "campaign": campaign},
        {"caption": "b", "campaign": campaign},
        {"caption": "c", "campaign": {**campaign, "relationship": "bribe"}},
    )
    first, second, error = read_posts(path)
    assert (
        first.campaign
        == second.campaign
        == Campaign(brand="GlowLab", handles=("@glowlab",), relationship="paid")
    )
    assert isinstance(error, InputError)
    assert error.where == f"{path}:3"


def test_jsonl_line_that_is_not_utf8_is_one_error(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"caption": "a"}\n{"caption": "caf\xe9"}\n{"caption": "c"}\n')
    items = list(read_posts(path))
    assert items[0] == Post(caption="a") and items[2] == Post(caption="c")
    assert isinstance(items[1], InputError)
    assert items[1].where == f"{path}:2"
    assert "not valid UTF-8" in items[1].message


def test_jsonl_with_bom(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"caption": "a"}\n')
    assert list(read_posts(path)) == [Post(caption="a")]


def test_jsonl_is_read_lazily(tmp_path, monkeypatch):
    """The first post comes out before the rest of the input has been read."""
    consumed: list[int] = []

    class Stream:
        def __iter__(self):
            for n in range(1, 40_001):
                consumed.append(n)
                yield json.dumps({"caption": f"post {n}"}) + "\n"

    monkeypatch.setattr(sys, "stdin", Stream())
    items = read_posts("-")
    assert next(items) == Post(caption="post 1")
    assert len(consumed) <= 2


def test_instagram_objects_inside_jsonl_are_read_as_instagram(tmp_path):
    node = {"shortcode": "ABC", "edge_media_to_caption": {"edges": [{"node": {"text": "hello"}}]}}
    [post] = read_posts(write_jsonl(tmp_path / "p.jsonl", {"node": node}))
    assert (post.caption, post.id, post.platform) == ("hello", "ABC", "instagram")


# --- post_from_record -----------------------------------------------------------------------


def test_post_from_record_raises_input_format_error():
    assert post_from_record({"caption": "x", "platform": "tiktok"}, where="w:1") == Post(
        caption="x", platform="tiktok"
    )
    with pytest.raises(InputFormatError) as info:
        post_from_record(
            {"caption": "x", "campaign": {"relationship": "boss"}}, where="posts.jsonl:17"
        )
    assert info.value.where == "posts.jsonl:17"
    assert info.value.message.startswith(
        "field 'campaign.relationship': unknown relationship 'boss'"
    )
    assert str(info.value) == f"posts.jsonl:17: {info.value.message}"


# --- CSV ----------------------------------------------------------------------------------------


def write_csv(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_columns_with_flat_campaign(tmp_path):
    path = write_csv(
        tmp_path / "posts.csv",
        "id,platform,caption,paid_partnership,is_video,brand,handles,hashtags,promo_codes,domains,relationship,jurisdiction,posted_at\n"
        '7,TikTok,"#ad hi, all",Yes,0,GlowLab,"glowlab|@glow_uk",#a #b,"MAYA15, MAYA20",GlowLab.com,paid,us,2024-05-01T12:00:00Z\n',
    )
    [post] = read_posts(path)
    assert post == Post(
        caption="#ad hi, all",
        id="7",
        platform="tiktok",
        paid_partnership=True,
        is_video=False,
        jurisdiction="US",
        posted_at="2024-05-01T12:00:00+00:00",
        campaign=Campaign(
            brand="GlowLab",
            handles=("@glowlab", "@glow_uk"),
            hashtags=("#a", "#b"),
            promo_codes=("MAYA15", "MAYA20"),
            domains=("glowlab.com",),
            relationship="paid",
        ),
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("1", True),
        ("False", False),
        ("no", False),
        ("0", False),
        ("", None),
        (" ", None),
    ],
)
def test_csv_booleans(tmp_path, cell, expected):
    [post] = read_posts(write_csv(tmp_path / "p.csv", f"caption,paid_partnership\nx,{cell}\n"))
    assert post.paid_partnership is expected


def test_csv_bad_boolean_names_field_and_line(tmp_path):
    path = write_csv(
        tmp_path / "posts.csv", "caption,paid_partnership\nok,\nbad,yes please\nok,no\n"
    )
    items = list(read_posts(path))
    assert items[0] == Post(caption="ok") and items[2] == Post(caption="ok", paid_partnership=False)
    assert str(items[1]) == (
        f"{path}:3: field 'paid_partnership': expected true, false, yes, no, 1, 0 or empty, got 'yes please'"
    )


def test_csv_aliases_split_only_on_pipe_and_comma(tmp_path):
    [post] = read_posts(
        write_csv(tmp_path / "p.csv", 'caption,brand,aliases\nx,GlowLab,"Glow Lab|Glow-Lab, GL"\n')
    )
    assert post.campaign == Campaign(brand="GlowLab", aliases=("Glow Lab", "Glow-Lab", "GL"))


def test_csv_campaign_json_column_merges_with_flat_columns(tmp_path):
    text = 'caption,campaign,relationship\nx,"{""brand"": ""GlowLab"", ""handles"": ""glowlab""}",affiliate\n'
    [post] = read_posts(write_csv(tmp_path / "p.csv", text))
    assert post.campaign == Campaign(
        brand="GlowLab", handles=("@glowlab",), relationship="affiliate"
    )


@pytest.mark.parametrize(
    ("cell", "field", "fragment"),
    [
        ('"{""brand"": "', "'campaign'", "invalid JSON"),
        ('"[1, 2]"', "'campaign'", "expected a JSON object, got an array"),
        (
            '"{""relationship"": ""paid""}"',
            "'campaign.relationship'",
            "given both in the 'campaign' column and the 'relationship' column",
        ),
        ('"{""brandname"": ""x""}"', "'campaign'", "unknown key 'brandname'"),
    ],
)
def test_csv_campaign_column_errors(tmp_path, cell, field, fragment):
    path = write_csv(tmp_path / "p.csv", f"caption,campaign,relationship\nok,,\nx,{cell},paid\n")
    items = list(read_posts(path))
    assert items[0] == Post(caption="ok")
    error = items[1]
    assert isinstance(error, InputError)
    assert error.where == f"{path}:3"
    assert error.message.startswith(f"field {field}: ")
    assert fragment in error.message


def test_csv_validation_errors_use_json_field_names(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        "caption,platform,jurisdiction,relationship\na,vine,,\nb,,USA,\nc,,,sponsor\n",
    )
    errors = list(read_posts(path))
    assert [e.where for e in errors] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert [e.message.split(":")[0] for e in errors] == [
        "field 'platform'",
        "field 'jurisdiction'",
        "field 'campaign.relationship'",
    ]


def test_csv_unknown_columns_are_ignored_silently(tmp_path):
    path = write_csv(tmp_path / "p.csv", "Likes,Caption,Comments,sponsored\n10,hello,3,True\n")
    assert list(read_posts(path)) == [Post(caption="hello")]


def test_csv_multiline_quoted_captions_keep_line_numbers(tmp_path):
    path = write_csv(
        tmp_path / "posts.csv",
        'caption,is_video\n"line one\nline two\nline three",no\n"single",maybe\n"again\ntwo",yes\nlast,maybe\n',
    )
    items = list(read_posts(path))
    assert items[0] == Post(caption="line one\nline two\nline three", is_video=False)
    assert isinstance(items[1], InputError) and items[1].where == f"{path}:5"
    assert items[2] == Post(caption="again\ntwo", is_video=True)
    assert isinstance(items[3], InputError) and items[3].where == f"{path}:8"


def test_csv_crlf_and_bom(tmp_path):
    path = write_csv(tmp_path / "p.csv", '\ufeffcaption,platform\r\n"a\r\nb",youtube\r\nc,\r\n')
    assert list(read_posts(path)) == [Post(caption="a\r\nb", platform="youtube"), Post(caption="c")]


def test_csv_blank_and_empty_rows_are_skipped(tmp_path):
    path = write_csv(tmp_path / "p.csv", "caption,platform\n\na,\n,,\n,\nb,tiktok\n")
    assert list(read_posts(path)) == [Post(caption="a"), Post(caption="b", platform="tiktok")]


def test_csv_row_wider_than_header_is_an_error(tmp_path):
    path = write_csv(tmp_path / "p.csv", "caption,platform\nhello, world,tiktok\nok,,\n")
    items = list(read_posts(path))
    assert isinstance(items[0], InputError)
    assert items[0].where == f"{path}:2"
    assert "row has 3 cells but the header has 2" in items[0].message
    assert items[1] == Post(caption="ok")


def test_csv_short_rows_are_padded(tmp_path):
    assert list(
        read_posts(write_csv(tmp_path / "p.csv", "platform,caption,author\ntiktok,hi\n"))
    ) == [Post(caption="hi", platform="tiktok")]


def test_csv_semicolon_and_tab_delimiters(tmp_path):
    semi = write_csv(tmp_path / "p.csv", "caption;platform\nhi, there;tiktok\n")
    tab = write_csv(tmp_path / "p.tsv", "caption\tplatform\nhi, there\ttiktok\n")
    expected = [Post(caption="hi, there", platform="tiktok")]
    assert list(read_posts(semi)) == expected
    assert list(read_posts(tab)) == expected


def test_csv_defaults(tmp_path):
    path = write_csv(tmp_path / "p.csv", "caption,platform\na,\nb,youtube\n")
    posts = list(read_posts(path, default_platform="tiktok", default_jurisdiction="CA"))
    assert [(p.platform, p.jurisdiction) for p in posts] == [("tiktok", "CA"), ("youtube", "CA")]


def test_csv_without_caption_column_is_a_file_error(tmp_path):
    path = write_csv(tmp_path / "posts.csv", "text,platform\nhi,tiktok\n")
    with pytest.raises(InputFormatError) as info:
        read_posts(path)
    assert info.value.where == str(path)
    assert "no 'caption' column" in info.value.message
    assert "'text'" in info.value.message


def test_empty_csv_is_a_file_error(tmp_path):
    with pytest.raises(InputFormatError, match="header row"):
        read_posts(write_csv(tmp_path / "p.csv", ""))


def test_csv_duplicate_known_column_is_a_file_error(tmp_path):
    with pytest.raises(InputFormatError, match="'caption' twice"):
        read_posts(write_csv(tmp_path / "p.csv", "caption,Caption\na,b\n"))


def test_csv_line_that_is_not_utf8_is_one_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"caption\na\ncaf\xe9\nc\n")
    items = list(read_posts(path))
    assert items[0] == Post(caption="a") and items[2] == Post(caption="c")
    assert isinstance(items[1], InputError) and items[1].where == f"{path}:3"


def test_instasynth_corpus_reads_as_1999_posts():
    if not INSTASYNTH.is_file():
        pytest.skip(f"instasynth corpus not found at {INSTASYNTH} (../shared is not checked out)")
    posts, errors = posts_and_errors(list(read_posts(INSTASYNTH)))
    assert errors == []
    assert len(posts) == 1999
    assert all(p.caption for p in posts)
    assert posts[0].caption.startswith("So excited to try out these new hair care products")


# --- Instagram JSON -----------------------------------------------------------------------------


def instagram_node(**overrides: object) -> dict[str, object]:
    """A post node in instaloader's GraphQL shape."""
    node: dict[str, object] = {
        "__typename": "GraphImage",
        "id": "3301234567890123456",
        "shortcode": "C5xYz12AbCd",
        "taken_at_timestamp": 1714564800,
        "is_video": False,
        "owner": {"id": "123", "username": "glowwithmara"},
        "edge_media_to_caption": {"edges": [{"node": {"text": "#ad new serum @lumenskin"}}]},
        "edge_media_to_sponsor_user": {"edges": [{"node": {"sponsor": {"username": "lumenskin"}}}]},
    }
    node.update(overrides)
    return node


def instaloader_file(node: dict[str, object], node_type: str = "Post") -> dict[str, object]:
    return {"node": node, "instaloader": {"version": "4.13", "node_type": node_type}}


EXPECTED_INSTAGRAM_POST = Post(
    caption="#ad new serum @lumenskin",
    id="C5xYz12AbCd",
    platform="instagram",
    author="@glowwithmara",
    url="https://www.instagram.com/p/C5xYz12AbCd/",
    posted_at="2024-05-01T12:00:00+00:00",
    paid_partnership=True,
    is_video=False,
)


def test_instaloader_wrapped_node(tmp_path):
    path = tmp_path / "2024-05-01_12-00-00_UTC.json"
    path.write_text(json.dumps(instaloader_file(instagram_node()), indent=4))
    assert list(read_posts(path)) == [EXPECTED_INSTAGRAM_POST]


def test_bare_node_and_node_wrapper_without_metadata(tmp_path):
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(instagram_node()))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"node": instagram_node()}))
    assert list(read_posts(bare)) == list(read_posts(wrapped)) == [EXPECTED_INSTAGRAM_POST]


def test_json_xz_file(tmp_path):
    path = tmp_path / "2024-05-01_12-00-00_UTC.json.xz"
    with lzma.open(path, "wt", check=lzma.CHECK_NONE) as fh:
        json.dump(instaloader_file(instagram_node()), fh, separators=(",", ":"))
    assert list(read_posts(path)) == [EXPECTED_INSTAGRAM_POST]


def test_info_file_is_instagram_json(tmp_path):
    path = tmp_path / "post.info"
    path.write_text(json.dumps(instaloader_file(instagram_node())))
    assert list(read_posts(path)) == [EXPECTED_INSTAGRAM_POST]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, True),
        ({"edge_media_to_sponsor_user": {"edges": []}}, False),
        ({"edge_media_to_sponsor_user": None}, None),
        ({"edge_media_to_sponsor_user": None, "is_paid_partnership": True}, True),
        ({"edge_media_to_sponsor_user": None, "is_paid_partnership": False}, False),
    ],
)
def test_instagram_paid_partnership(tmp_path, overrides, expected):
    node = instagram_node(**overrides)
    if overrides.get("edge_media_to_sponsor_user", "keep") is None:
        del node["edge_media_to_sponsor_user"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(node))
    [post] = read_posts(path)
    assert post.paid_partnership is expected


@pytest.mark.parametrize(
    ("overrides", "caption"),
    [
        ({"edge_media_to_caption": {"edges": []}}, ""),
        (
            {"edge_media_to_caption": {"edges": []}, "caption": "top-level caption"},
            "top-level caption",
        ),
        (
            {"edge_media_to_caption": None, "caption": {"text": "web api caption", "pk": "1"}},
            "web api caption",
        ),
        ({"edge_media_to_caption": None, "caption": None}, ""),
    ],
)
def test_instagram_caption_sources(tmp_path, overrides, caption):
    node = instagram_node(**overrides)
    if node["edge_media_to_caption"] is None:
        del node["edge_media_to_caption"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(node))
    [post] = read_posts(path)
    assert post.caption == caption


def test_instagram_newer_web_api_shape(tmp_path):
    """The v1 web API: ``code``, ``caption.text``, ``taken_at``, ``user``, ``media_type``."""
    item = {
        "pk": "3301234567890123456",
        "code": "C5xYz12AbCd",
        "taken_at": 1714564800,
        "media_type": 2,
        "user": {"username": "glowwithmara"},
        "caption": {"text": "#ad new serum @lumenskin"},
        "is_paid_partnership": True,
    }
    path = tmp_path / "info.json"
    path.write_text(json.dumps({"items": [item], "num_results": 1}))
    [post] = read_posts(path)
    assert post == Post(
        caption="#ad new serum @lumenskin",
        id="C5xYz12AbCd",
        platform="instagram",
        author="@glowwithmara",
        url="https://www.instagram.com/p/C5xYz12AbCd/",
        posted_at="2024-05-01T12:00:00+00:00",
        paid_partnership=True,
        is_video=True,
    )


def test_instagram_id_fallback_without_shortcode(tmp_path):
    node = instagram_node()
    del node["shortcode"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(node))
    [post] = read_posts(path)
    assert (post.id, post.url) == ("3301234567890123456", None)


def test_instagram_graphql_shortcode_media_wrapper(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"graphql": {"shortcode_media": instagram_node()}}))
    assert list(read_posts(path)) == [EXPECTED_INSTAGRAM_POST]


def test_instagram_list_of_posts(tmp_path):
    path = tmp_path / "posts.json"
    second = instagram_node(
        shortcode="B2", edge_media_to_caption={"edges": [{"node": {"text": 5}}]}
    )
    third = instagram_node(shortcode="C3")
    path.write_text(json.dumps([instaloader_file(instagram_node()), second, third]))
    first, error, last = read_posts(path)
    assert first == EXPECTED_INSTAGRAM_POST
    assert isinstance(error, InputError)
    assert error.where == f"{path}[1]"
    assert (
        error.message
        == "field 'edge_media_to_caption.edges[0].node.text': expected a string, got 5"
    )
    assert last.id == "C3"


def test_instagram_bad_timestamp_is_a_record_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(instagram_node(taken_at_timestamp="yesterday")))
    error = only_error(path)
    assert error.message == "field 'taken_at_timestamp': expected epoch seconds, got 'yesterday'"


def test_instagram_object_that_is_not_a_post(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"foo": 1}))
    assert only_error(path).message == "not an Instagram post: no shortcode, id or caption"


def test_instagram_graph_api_fixture_page():
    fixture = FIXTURES / "instagram_user_media.json"
    if not fixture.is_file():
        pytest.skip(f"shared fixture not found at {fixture}")
    posts = list(read_posts(fixture))
    assert [type(p) for p in posts] == [Post, Post]
    assert posts[0].author == "@sunnysideup.sofia"
    assert posts[0].posted_at == "2026-11-13T16:02:11+00:00"
    assert posts[1].url == "https://www.instagram.com/reel/JlOQ1tGkPsC/"
    assert posts[1].is_video is True
    assert posts[0].paid_partnership is None


def test_directory_reads_posts_and_skips_the_rest(tmp_path):
    folder = tmp_path / "glowwithmara"
    folder.mkdir()
    (folder / "2024-05-02_09-00-00_UTC.json").write_text(
        json.dumps(instaloader_file(instagram_node(shortcode="SECOND")), indent=4)
    )
    with lzma.open(folder / "2024-05-01_12-00-00_UTC.json.xz", "wt") as fh:
        json.dump(instaloader_file(instagram_node()), fh)
    # instaloader's profile metadata, in its wrapped form and as a bare profile node
    (folder / "glowwithmara_123.json").write_text(
        json.dumps(instaloader_file({"username": "glowwithmara", "id": "123"}, "Profile"))
    )
    (folder / "zz_profile.json").write_text(
        json.dumps({"node": {"username": "glowwithmara", "id": "123"}})
    )
    (folder / "2024-05-01_12-00-00_UTC_comments.json").write_text(
        json.dumps([{"id": "9", "text": "nice"}])
    )
    (folder / "2024-05-01_12-00-00_UTC.jpg").write_bytes(b"\xff\xd8\xff\xe0 not json")
    (folder / "2024-05-01_12-00-00_UTC.txt").write_text("#ad new serum @lumenskin")
    (folder / "2024-05-01_12-00-00_UTC.json.bak").write_text("{}")
    (folder / "broken.json").write_text('{"node": ')
    (folder / "broken2.json.xz").write_bytes(b"this is not xz")
    sub = folder / "tagged"
    sub.mkdir()
    (sub / "2024-05-03_10-00-00_UTC.json").write_text(json.dumps(instagram_node(shortcode="THIRD")))

    items = list(read_posts(folder))
    assert [i.id if isinstance(i, Post) else i.where for i in items] == [
        "C5xYz12AbCd",
        "SECOND",
        str(folder / "broken.json"),
        str(folder / "broken2.json.xz"),
        "THIRD",
    ]
    assert items[0] == EXPECTED_INSTAGRAM_POST
    assert items[2].message.startswith("invalid JSON: ")
    assert items[3].message.startswith("not a valid .xz file")


def test_directory_default_jurisdiction_applies_to_instagram_posts(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(instagram_node()))
    [post] = read_posts(tmp_path, default_jurisdiction="gb")
    assert post.jurisdiction == "GB"


def test_empty_directory_is_a_file_error(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(InputFormatError, match="no Instagram post files"):
        read_posts(tmp_path)


def test_json_file_holding_json_lines_is_read_as_json_lines(tmp_path):
    path = tmp_path / "posts.json"
    path.write_text('{"caption": "a"}\n{"caption": "b", "platform": "tiktok"}\n')
    assert list(read_posts(path)) == [Post(caption="a"), Post(caption="b", platform="tiktok")]


# --- Whole-file errors -----------------------------------------------------------------------


def test_missing_file_is_a_file_error(tmp_path):
    path = tmp_path / "nope.jsonl"
    with pytest.raises(InputFormatError) as info:
        read_posts(path)
    assert info.value.where == str(path)
    assert info.value.message == "no such file or directory"


def test_utf16_file_is_a_file_error(tmp_path):
    path = write_csv(tmp_path / "p.csv", "\ufeffcaption\nhello\n", encoding="utf-16")
    with pytest.raises(InputFormatError, match="UTF-16"):
        read_posts(path)


def test_binary_file_is_a_file_error(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\x00\x01\x02caption")
    with pytest.raises(InputFormatError, match="not a text file"):
        read_posts(path)


def test_unknown_extension_is_sniffed(tmp_path):
    jsonl = write_jsonl(tmp_path / "posts.txt", {"caption": "a"}, {"caption": "b"})
    csv_file = write_csv(tmp_path / "export", "caption,platform\nhi,tiktok\n")
    document = tmp_path / "dump"
    document.write_text(json.dumps(instaloader_file(instagram_node()), indent=4))
    assert list(read_posts(jsonl)) == [Post(caption="a"), Post(caption="b")]
    assert list(read_posts(csv_file)) == [Post(caption="hi", platform="tiktok")]
    assert list(read_posts(document)) == [EXPECTED_INSTAGRAM_POST]


def test_unknown_extension_that_is_nothing_known_is_a_file_error(tmp_path):
    path = write_csv(tmp_path / "notes", "just some\nnotes\n")
    with pytest.raises(InputFormatError) as info:
        read_posts(path)
    assert info.value.where == str(path)
    assert info.value.message.startswith("unknown format: not JSON Lines or JSON, and as CSV: ")
    assert "no 'caption' column" in info.value.message


# --- stdin ----------------------------------------------------------------------------------------


def test_stdin_jsonl(monkeypatch):
    monkeypatch.setattr(
        sys, "stdin", io.StringIO('\n{"caption": "a"}\n{"caption": 1}\n{"caption": "c"}\n')
    )
    items = list(read_posts("-", default_platform="tiktok"))
    assert items[0] == Post(caption="a", platform="tiktok")
    assert isinstance(items[1], InputError) and items[1].where == "<stdin>:3"
    assert items[2] == Post(caption="c", platform="tiktok")


def test_stdin_csv(monkeypatch):
    monkeypatch.setattr(
        sys, "stdin", io.StringIO('\ufeffcaption,is_video\n"multi\nline",yes\nx,nope\n')
    )
    items = list(read_posts("-"))
    assert items[0] == Post(caption="multi\nline", is_video=True)
    assert isinstance(items[1], InputError) and items[1].where == "<stdin>:4"


def test_stdin_bytes_buffer(monkeypatch):
    raw = io.BytesIO(
        b'\xef\xbb\xbf{"caption": "a"}\n{"caption": "caf\xe9"}\n{"caption": "\xc3\xa9"}\n'
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8"))
    items = list(read_posts("-"))
    assert items[0] == Post(caption="a")
    assert isinstance(items[1], InputError) and items[1].where == "<stdin>:2"
    assert items[2] == Post(caption="é")


def test_stdin_instagram_document(monkeypatch):
    monkeypatch.setattr(
        sys, "stdin", io.StringIO(json.dumps(instaloader_file(instagram_node()), indent=2))
    )
    assert list(read_posts("-")) == [EXPECTED_INSTAGRAM_POST]


def test_empty_stdin_yields_nothing(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n\n"))
    assert list(read_posts("-")) == []


def test_csv_unclosed_quote_is_reported_not_swallowed(tmp_path):
    path = write_csv(tmp_path / "p.csv", 'caption\nok\n"never closed\nsecond\nthird\n')
    items = list(read_posts(path))
    assert items[0] == Post(caption="ok")
    assert len(items) == 2
    assert isinstance(items[1], InputError) and items[1].where == f"{path}:3"
    assert "never closed" in items[1].message


def test_csv_text_after_closing_quote_is_an_error(tmp_path):
    path = write_csv(tmp_path / "p.csv", 'caption\n"quoted"tail\nafter\n')
    items = list(read_posts(path))
    assert isinstance(items[0], InputError) and items[0].where == f"{path}:2"
    assert items[0].message.startswith("malformed CSV: ")
    assert items[1] == Post(caption="after")


def test_graph_api_media_without_caption_is_a_post_not_a_profile(tmp_path):
    path = tmp_path / "media.json"
    item = {
        "id": "1788",
        "media_type": "IMAGE",
        "username": "sofia",
        "timestamp": "2026-11-13T16:02:11+0000",
    }
    path.write_text(json.dumps({"data": [item]}))
    [post] = read_posts(path)
    assert post == Post(
        caption="",
        id="1788",
        platform="instagram",
        author="@sofia",
        posted_at="2026-11-13T16:02:11+00:00",
        is_video=False,
    )


def test_csv_campaign_column_null_means_no_campaign(tmp_path):
    path = write_csv(tmp_path / "p.csv", "caption,campaign\nx,null\n")
    assert list(read_posts(path)) == [Post(caption="x")]


def test_json_lines_in_a_json_file_keep_line_separators_inside_strings(tmp_path):
    path = tmp_path / "posts.json"
    path.write_text(
        json.dumps({"caption": "a\u2028b"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"caption": "c"})
        + "\n",
        encoding="utf-8",
    )
    assert list(read_posts(path)) == [Post(caption="a\u2028b"), Post(caption="c")]


def test_pretty_json_with_trailing_garbage_is_one_error(tmp_path):
    path = tmp_path / "post.json"
    path.write_text(json.dumps(instagram_node(), indent=4) + "\n}\n")
    error = only_error(path)
    assert error.where == str(path)
    assert error.message.startswith("invalid JSON: Extra data at line")
