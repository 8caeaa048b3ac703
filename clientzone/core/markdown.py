"""Markdown written by staff, rendered to HTML that is safe to show as is.

markdown-it-py (CommonMark, raw HTML off) renders; nh3 (the Ammonia
sanitizer) then keeps only a small set of tags and attributes and only
http, https and mailto links, so neither a `<script>` nor a `javascript:` link
survives whatever the source says. Links open with rel="noopener noreferrer".
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

TAGS = {
    "a", "p", "br", "hr", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str) -> str:
    """Sanitized HTML for `source`."""
    return nh3.clean(
        _RENDERER.render(source),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
