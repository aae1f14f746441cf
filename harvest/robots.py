"""robots.txt rules of one origin, as the fetcher obeys them (RFC 9309).

Split from ``harvest.fetch``: fetching robots.txt goes through the fetcher's own request path
(politeness, retries, logging); what the answer means is decided here.
"""

from __future__ import annotations

import urllib.robotparser
from dataclasses import dataclass


@dataclass(slots=True)
class RobotsRules:
    """The parsed rules (None: no rules), or ``disallow_all`` for this run, with the reason."""

    parser: urllib.robotparser.RobotFileParser | None
    disallow_all: bool = False
    reason: str = ""


def parse_robots(robots_url: str, content: bytes) -> RobotsRules:
    """Rules from the bytes of a robots.txt (undecodable bytes replaced, never fatal)."""
    parser = urllib.robotparser.RobotFileParser(robots_url)
    text = content.decode("utf-8", errors="replace")
    parser.parse(text.splitlines())
    return RobotsRules(parser)
