"""The page benchmark finds deep pages as a user does: through the list's "next" link."""

from __future__ import annotations

from benchmarks.pages import next_link


def test_next_link_of_numbered_pages() -> None:
    body = ('<nav class="pagination"><a href="?marketplace=ozon&amp;page=1">&larr; Назад</a><span>2</span>'
            '<a href="?marketplace=ozon&amp;page=3">Дальше &rarr;</a></nav>')
    assert next_link("http://h/orders/?marketplace=ozon&page=2", body) == "http://h/orders/?marketplace=ozon&page=3"


def test_next_link_of_keyset_cursors() -> None:
    body = ('<a href="/orders/?q=x">Сброс</a><nav><a rel="prev" href="?before=abc">←</a>'
            '<a class="btn" rel="next" href="?after=eyJpZCI6IDk5fQ%3D%3D&amp;scheme=FBO">Вперёд</a></nav>')
    assert next_link("http://h/orders/?scheme=FBO", body) == "http://h/orders/?after=eyJpZCI6IDk5fQ%3D%3D&scheme=FBO"


def test_no_next_link_on_the_last_page() -> None:
    assert next_link("http://h/orders/", '<nav><a href="?page=4">&larr; Previous</a></nav>') is None
