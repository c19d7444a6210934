"""The example apps' user flows over real HTTP, shared by the scenarios of both stacks."""

from __future__ import annotations

import html
import re
import uuid

from .web import Site


def post_guestbook_message(guestbook: Site) -> str:
    """Leave a message through the form (with its CSRF token); return the message text."""
    page = guestbook.get("/")
    assert page.status_code == 200, page.text[:500]
    assert "Guestbook" in page.text
    message = f"Hello from testinfra {uuid.uuid4().hex[:12]}"
    form = {"csrfmiddlewaretoken": guestbook.csrf_token(page.text), "name": "molecule"}
    resp = guestbook.post("/", {**form, "text": message})
    assert resp.status_code == 302, resp.text[:500]
    location = resp.headers["Location"]
    listed = guestbook.get(location if location.startswith("/") else "/")
    assert listed.status_code == 200
    assert message in listed.text
    return message


_RESULT_ROW_RE = re.compile(
    r'<th scope="row"><span class="choice-text">(.+?)</span>.*?<td class="votes">(\d+)</td>',
    re.S,
)


def poll_results(page: str) -> dict[str, int]:
    """{choice: votes} from the results table of a poll."""
    votes = {html.unescape(c): int(n) for c, n in _RESULT_ROW_RE.findall(page)}
    assert votes, f"no results table in {page[:1000]}"
    return votes


def vote_once(polls: Site) -> tuple[int, int]:
    """Vote for the first choice of the first question; return the total votes before, after."""
    index = polls.get("/")
    assert index.status_code == 200, index.text[:500]
    qid = re.search(r'href="/(\d+)/"', index.text)
    assert qid, index.text[:500]
    question = qid.group(1)
    detail = polls.get(f"/{question}/")
    assert detail.status_code == 200
    choice = re.search(r'name="choice" id="[^"]*" value="(\d+)"', detail.text) or re.search(
        r'name="choice" value="(\d+)"', detail.text
    )
    assert choice, detail.text[:1000]
    before = poll_results(polls.get(f"/{question}/results/").text)
    resp = polls.post(
        f"/{question}/vote/",
        {"csrfmiddlewaretoken": polls.csrf_token(detail.text), "choice": choice.group(1)},
    )
    assert resp.status_code == 302, resp.text[:500]
    assert resp.headers["Location"].endswith(f"/{question}/results/")
    after = poll_results(polls.get(f"/{question}/results/").text)
    return sum(before.values()), sum(after.values())
