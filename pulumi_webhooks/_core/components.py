"""Component resources that expand to one subscription resource per topic (program side).

A component is not a dynamic resource: it has no provider, no state of its own and no platform call;
it groups its children under one name. Each child is named ``{component name}-{topic slug}``, so adding
or removing a topic touches only that topic's child, and the others keep their URNs.

Topics must be known while the program runs (a plain list, not an ``Output``): the component creates its
children then. Wrong topics fail the program, and with it ``pulumi preview``, before anything is
registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import pulumi

from pulumi_webhooks._core.errors import InputValidationError
from pulumi_webhooks._core.naming import slug


class ComponentInputError(InputValidationError, pulumi.RunError):
    """A component input is wrong. A ``pulumi.RunError``: the CLI shows the message, not a stack trace."""


class HasWebhookId(Protocol):
    @property
    def webhook_id(self) -> pulumi.Output[str]: ...


Child = TypeVar("Child", bound=HasWebhookId)


def child_name(component_name: str, topic: str) -> str:
    """The child resource name of one topic: stable, whatever the other topics are."""
    return f"{component_name}-{slug(topic)}"


def checked_topics(component_name: str, topics: object) -> list[str]:
    """The topics as a list, or a :class:`ComponentInputError` naming ``topics`` and what is wrong."""
    where = f"(component {component_name!r})"
    if isinstance(topics, (pulumi.Output, str)) or not isinstance(topics, Sequence):
        raise ComponentInputError(
            "topics",
            f"must be a list of topic names known when the program runs, got {type(topics).__name__} {where}: "
            "the component creates one subscription per topic, so it cannot wait for an Output",
        )
    found: list[str] = []
    by_slug: dict[str, str] = {}
    for topic in topics:
        if not isinstance(topic, str) or not topic.strip():
            raise ComponentInputError(
                "topics", f"each topic must be a non-empty string, got {topic!r} {where}"
            )
        if topic in found:
            raise ComponentInputError(
                "topics",
                f"lists {topic!r} more than once {where}: each topic is one subscription, list it once",
            )
        other = by_slug.get(slug(topic))
        if other is not None:
            raise ComponentInputError(
                "topics", f"{other!r} and {topic!r} would get the same child name {where}"
            )
        by_slug[slug(topic)] = topic
        found.append(topic)
    if not found:
        raise ComponentInputError("topics", f"must name at least one topic {where}")
    return found


class TopicSubscriptions(pulumi.ComponentResource, Generic[Child]):
    """Base of the ``Subscriptions`` components: validates the topics, registers the component, creates
    one child per topic with ``make_child(child_name, topic, child_options)`` and exposes them.

    ``webhooks`` maps each topic to its child resource; ``webhook_ids`` is the platform's id of each
    topic's subscription (an ``Output`` of a dict keyed by topic)."""

    webhooks: Mapping[str, Child]
    webhook_ids: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        type_token: str,
        resource_name: str,
        topics: object,
        make_child: Callable[[str, str, pulumi.ResourceOptions], Child],
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        checked = checked_topics(resource_name, topics)  # before registering: a wrong input leaves nothing
        super().__init__(type_token, resource_name, None, opts)
        child_opts = pulumi.ResourceOptions(parent=self)
        self.webhooks = {
            topic: make_child(child_name(resource_name, topic), topic, child_opts) for topic in checked
        }
        ids: pulumi.Output[Any] = pulumi.Output.all(
            **{topic: child.webhook_id for topic, child in self.webhooks.items()}
        )
        self.webhook_ids = ids
        self.register_outputs({"webhook_ids": self.webhook_ids})
