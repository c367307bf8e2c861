"""The public Instagram mapping: instaloader nodes and Graph API media dicts map alike."""

from __future__ import annotations

import pytest

from compliance.inputs import InputFormatError, instagram_post
from compliance.model import Post

# A media dict as the Graph API returns it (user media and business discovery pages).
GRAPH_MEDIA = {
    "id": "18748019849138927",
    "caption": "3 eggs, 3 ways #sponsored #goldenmillpartner",
    "comments_count": 362,
    "like_count": 3446,
    "media_product_type": "REELS",
    "media_type": "VIDEO",
    "permalink": "https://www.instagram.com/reel/JlOQ1tGkPsC/",
    "timestamp": "2021-08-17T19:00:42+0000",
    "username": "sunnysideup.sofia",
}

# The same post as instaloader writes it.
INSTALOADER_NODE = {
    "__typename": "GraphVideo",
    "id": "3301234567890123456",
    "shortcode": "JlOQ1tGkPsC",
    "taken_at_timestamp": 1629226842,
    "is_video": True,
    "owner": {"id": "123", "username": "sunnysideup.sofia"},
    "edge_media_to_caption": {
        "edges": [{"node": {"text": "3 eggs, 3 ways #sponsored #goldenmillpartner"}}]
    },
    "edge_media_to_sponsor_user": {"edges": []},
}


def test_graph_api_media_dict():
    post = instagram_post(GRAPH_MEDIA, "media[0]", "GB")
    assert post == Post(
        caption="3 eggs, 3 ways #sponsored #goldenmillpartner",
        id="18748019849138927",
        platform="instagram",
        author="@sunnysideup.sofia",
        url="https://www.instagram.com/reel/JlOQ1tGkPsC/",
        posted_at="2021-08-17T19:00:42+00:00",
        is_video=True,
        jurisdiction="GB",
    )


@pytest.mark.parametrize("shape", ["bare", "wrapped"])
def test_instaloader_node_bare_or_wrapped_maps_to_the_same_post(shape):
    node = INSTALOADER_NODE if shape == "bare" else {"node": INSTALOADER_NODE}
    post = instagram_post(node, "x.json")
    graph = instagram_post(GRAPH_MEDIA, "media[0]")
    # The two shapes agree on everything both carry.
    same = ("caption", "platform", "author", "posted_at", "is_video")
    assert {f: getattr(post, f) for f in same} == {f: getattr(graph, f) for f in same}
    assert (post.id, post.url) == ("JlOQ1tGkPsC", "https://www.instagram.com/p/JlOQ1tGkPsC/")
    assert post.paid_partnership is False  # instaloader says "no sponsor"; Graph API does not say
    assert graph.paid_partnership is None


def test_not_a_post_names_where():
    with pytest.raises(InputFormatError) as info:
        instagram_post({"like_count": 3}, "page.json[2]")
    assert str(info.value) == "page.json[2]: not an Instagram post: no shortcode, id or caption"


def test_bad_timestamp_names_the_field():
    with pytest.raises(InputFormatError) as info:
        instagram_post({**GRAPH_MEDIA, "timestamp": "yesterday"}, "m")
    assert "field 'timestamp'" in str(info.value)
