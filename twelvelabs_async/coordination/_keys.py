"""Every Redis key and channel a namespace uses, in one place (`docs/guides/many-workers.md`).

All of them start with `twelvelabs:{<namespace>}:`. The braces are a Redis Cluster hash tag:
every key of a namespace lives in one slot, so the scripts that touch several keys at once work
on a cluster too. Nothing here ever holds the API key, a request or a response body.
"""

from __future__ import annotations

import re

import attrs

from ..errors import ConfigurationError

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_KIND = re.compile(r"[a-z0-9_-]{1,32}")


def check_namespace(namespace: object) -> str:
    """The namespace, or `ConfigurationError` when it is not 1-64 of `A-Z a-z 0-9 _ . -`."""
    if not isinstance(namespace, str) or not _NAME.fullmatch(namespace):
        raise ConfigurationError(
            f"namespace must be 1-64 characters of A-Z a-z 0-9 _ . - (it names every Redis "
            f"key of one deployment), got {namespace!r}"
        )
    return namespace


def check_kind(kind: object) -> str:
    """The kind of object (a source's noun, `task`), or `ConfigurationError`."""
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ConfigurationError(
            f"kind must be 1-32 characters of a-z 0-9 _ - (a source's noun, such as 'task'), "
            f"got {kind!r}"
        )
    return kind


@attrs.frozen
class Keys:
    """The key and channel names of one namespace.

    Attributes:
        namespace: the deployment's namespace (`check_namespace`).
    """

    namespace: str

    @property
    def prefix(self) -> str:
        """`twelvelabs:{<namespace>}:`, the start of every key and channel."""
        return f"twelvelabs:{{{self.namespace}}}:"

    @property
    def bucket(self) -> str:
        """Hash: the shared token bucket (`tokens`, `ts` in server seconds, learned `rate`)."""
        return self.prefix + "bucket"

    @property
    def pause(self) -> str:
        """String: until when (Redis server time, seconds) every request waits; expires then."""
        return self.prefix + "pause"

    def lease(self, kind: str) -> str:
        """String: the member holding the sweep lease of one kind; expires with the lease."""
        return f"{self.prefix}lease:{kind}"

    @property
    def members(self) -> str:
        """Sorted set: live members (processes), scored by when their heartbeat runs out."""
        return self.prefix + "members"

    def ids(self, kind: str, member: str) -> str:
        """Set: the ids of one kind that one member tracks; expires without heartbeats."""
        return f"{self.prefix}ids:{kind}:{member}"

    def status_channel(self, member: str) -> str:
        """Pub/sub channel: statuses a sweep read, for the ids one member tracks."""
        return f"{self.prefix}status:{member}"

    @property
    def event_channel(self) -> str:
        """Pub/sub channel: verified webhook events, for every member."""
        return self.prefix + "events"
