"""The engine feed orders deliveries by their channel's delivery tags: a delivery is not taken
while an earlier one has not reached the consumer, whatever order the client's tasks ran in."""

from __future__ import annotations

from services.bus.engine_feed import GAP_PATIENCE, DeliveryTags


def test_a_gap_holds_the_later_tags_until_the_missing_one_arrives() -> None:
    tags = DeliveryTags()
    for tag in (1, 2, 4, 5):
        tags.arrived(tag)
    assert tags.complete_to(0.0) == 2  # 4 and 5 wait for 3
    tags.arrived(3)
    assert tags.complete_to(0.1) is None and tags.contiguous == 5


def test_a_tag_that_never_arrives_holds_the_others_only_for_a_while() -> None:
    tags = DeliveryTags()
    for tag in (1, 3, 4):
        tags.arrived(tag)
    assert tags.complete_to(10.0) == 1
    assert tags.complete_to(10.0 + GAP_PATIENCE / 2) == 1
    assert tags.complete_to(10.0 + GAP_PATIENCE * 2) is None and tags.contiguous == 4


def test_a_new_channel_numbers_its_deliveries_from_one_again() -> None:
    tags = DeliveryTags()
    for tag in (1, 2, 3):
        tags.arrived(tag)
    tags.arrived(1)
    assert tags.contiguous == 1 and tags.complete_to(0.0) is None
