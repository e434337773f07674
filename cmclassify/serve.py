"""``cmclassify serve``: the review page on a local web server (Starlette under uvicorn).

A person pastes a title and an ad, reads the review, applies a fix or edits the text in place and
re-scores; the page compares the first version with the current one. Everything happens in forms
(no script runs on the page); every bad request gets a page that says what went wrong, and the
server goes on serving.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .review import LANGS, MAX_TEXT, MAX_TITLE, Review, apply_fix, page_css, render_page, review_ad, words

MAX_BODY = 8 * MAX_TEXT + 64_000
"""The largest form accepted, in bytes: the text, the first version and the scored version, escaped."""
_FIELDS = ("title", "text", "base_title", "base_text", "scored_title", "scored_text")
# One analysis at a time: the spaCy pipeline is shared.
_lock = threading.Lock()
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'sha256-{css}'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}


class _BadInput(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _lang(value: Any, default: str) -> str:
    return value if value in LANGS else default


def _page(html: str, status: int = 200) -> HTMLResponse:
    headers = dict(_HEADERS)
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].format(
        css=page_css()[1].removeprefix("sha256-"))
    return HTMLResponse(html, status_code=status, headers=headers)


def _reviewed(text: str, title: str, lang: str) -> Review:
    with _lock:
        return review_ad(text, title, lang)


async def _read_form(request: Request) -> dict[str, str]:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise _BadInput("too_large", 413)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise _BadInput("too_large", 413)
    try:
        form = await request.form(max_files=0, max_fields=len(_FIELDS) + 5, max_part_size=MAX_BODY)
    except Exception as exc:  # malformed bodies of any kind: the message names the problem
        raise _BadInput(str(exc) or type(exc).__name__) from None
    values = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise _BadInput("files are not accepted")
        values[key] = value.replace("\r\n", "\n").replace("\r", "\n")
    return values


def create_app(lang: str = "es") -> Starlette:
    """The review page's web application; ``lang`` is the language of a page that does not name one."""

    async def home(request: Request) -> Response:
        page_lang = _lang(request.query_params.get("lang"), lang)
        return _page(render_page(None, lang=page_lang, form={}))

    async def review(request: Request) -> Response:
        page_lang = lang
        form: dict[str, str] = {}
        try:
            form = await _read_form(request)
            page_lang = _lang(form.get("switch_lang") or form.get("lang"), lang)
            return await run_in_threadpool(_answer, form, page_lang)
        except _BadInput as problem:
            w = words(page_lang)
            message = w["body_limit"].format(max=MAX_TEXT) if problem.status == 413 \
                else w["bad_request"].format(why=problem)
            kept = {k: form.get(k, "") for k in _FIELDS}
            return _page(render_page(None, lang=page_lang, form=kept, message=message, message_kind="error"),
                         problem.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        message = f"{status}: {getattr(exc, 'detail', '')}"
        return _page(render_page(None, lang=lang, form={}, message=message, message_kind="error"), status)

    async def server_error(request: Request, exc: Exception) -> Response:
        return _server_error(request, exc)

    def _server_error(request: Request, exc: Exception) -> Response:
        message = words(lang)["error"].format(why=type(exc).__name__)
        return _page(render_page(None, lang=lang, form={}, message=message, message_kind="error"), 500)

    return Starlette(routes=[Route("/", home, methods=["GET"]), Route("/review", review, methods=["POST"]),
                             Route("/review", lambda request: RedirectResponse("/", status_code=303), methods=["GET"])],
                     exception_handlers={HTTPException: http_error, Exception: server_error})


def _answer(form: dict[str, str], lang: str) -> Response:
    """Review the posted ad: apply the fix asked for, re-score, compare with the first version."""
    w = words(lang)
    title, text = form.get("title", "").strip(), form.get("text", "")
    kept = {k: form.get(k, "") for k in _FIELDS}
    if len(title) > MAX_TITLE:
        return _page(render_page(None, lang=lang, form=kept, message=w["title_limit"].format(n=len(title), max=MAX_TITLE),
                                 message_kind="error"), 413)
    if len(text) > MAX_TEXT:
        return _page(render_page(None, lang=lang, form=kept, message=w["limit"].format(n=len(text), max=MAX_TEXT),
                                 message_kind="error"), 413)
    if not text.strip():
        return _page(render_page(None, lang=lang, form=kept, message=w["empty"], message_kind="error"), 400)
    message, kind = "", "info"
    if "apply" in form:
        text, title, message, kind = _apply(form, text, title, lang)
    current = _reviewed(text, title, lang)
    base_title, base_text = form.get("base_title", ""), form.get("base_text", "")
    if not base_text.strip() or len(base_text) > MAX_TEXT or len(base_title) > MAX_TITLE:
        base_title, base_text = title, text
    before = _reviewed(base_text, base_title, lang) if (base_text, base_title) != (text, title) else None
    fields = {"title": title, "text": text, "base_title": base_title, "base_text": base_text,
              "scored_title": title, "scored_text": text}
    return _page(render_page(current, lang=lang, form=fields, before=before, message=message, message_kind=kind))


def _apply(form: dict[str, str], text: str, title: str, lang: str) -> tuple[str, str, str, str]:
    w = words(lang)
    scored_title, scored_text = form.get("scored_title", ""), form.get("scored_text", "")
    try:
        number = int(form["apply"])
    except ValueError:
        raise _BadInput(f"apply={form['apply'][:20]!r}") from None
    if not scored_text.strip() or len(scored_text) > MAX_TEXT:
        return text, title, w["not_found"], "error"
    scored = _reviewed(scored_text, scored_title, lang)
    if not 0 <= number < len(scored.fixes):
        return text, title, w["not_found"], "error"
    fix = scored.fixes[number]
    done = apply_fix(text, title, fix)
    if done is None and (text, title) == (scored_text, scored_title):
        done = apply_fix(scored.text, title, fix)  # the sentence as cleaned (spaces, bullets) is in the clean text
    if done is None:
        return text, title, w["not_found"], "error"
    return done[0], done[1], w["applied"].format(n=number + 1), "info"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(host: str = "127.0.0.1", port: int = 8765, lang: str = "es") -> None:
    """Serve the review page until interrupted; the models load before the first request."""
    import uvicorn

    if not is_loopback(host):
        print(f"cmclassify: warning: serving on {host}, not only on this machine: anyone who can reach it can use "
              "the page, and the ads travel unencrypted (use --host 127.0.0.1 to keep it local)", file=sys.stderr)
    review_ad("Funciones:\n- Responder mensajes", "Community Manager", lang)
    print(f"cmclassify: review page at http://{host}:{port}/ (Ctrl+C to stop)", file=sys.stderr)
    uvicorn.run(create_app(lang), host=host, port=port, log_level="warning")
