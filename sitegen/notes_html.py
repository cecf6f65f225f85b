"""Notes as HTML: Markdown with raw HTML switched off, then sanitized with nh3 (Ammonia).

Raw HTML in a note is shown as text, not interpreted. The allowlist keeps formatting tags, drops
images (they could load from outside the site) and keeps only http, https and mailto links.
"""
from __future__ import annotations

import functools

ALLOWED_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
                "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
                "tbody", "td", "th", "thead", "tr", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}, "abbr": {"title"}}
URL_SCHEMES = {"http", "https", "mailto"}


@functools.cache
def _markdown():
    """The converter's modules and extensions, imported on first use: a build that renders no note
    (a rebuild of one run, say) skips some 40 ms of imports."""
    import markdown
    import nh3
    from markdown.extensions import Extension

    class NoRawHtml(Extension):
        """Escape raw HTML instead of passing it through (python-markdown has no safe mode since 3.0)."""

        def extendMarkdown(self, md):  # noqa: N802 (the Markdown API's name)
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")

    return markdown, nh3, [NoRawHtml(), "fenced_code", "tables", "sane_lists"]


def render_markdown(text: str | None) -> str:
    """Markdown -> sanitized HTML; safe to insert into a page unescaped."""
    if not text:
        return ""
    markdown, nh3, extensions = _markdown()
    html = markdown.markdown(text, extensions=extensions)
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow")
