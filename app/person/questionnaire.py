"""The questionnaire pages as HTML (pure): the instrument as a form (again with its problems),
the thanks, and the kind pages of a used, expired or unknown link.

GOV.UK Design System patterns, self-hosted, no script, in the frame and style sheet of the
person's pages (``pages.document``): one fieldset of radios per item, an error summary at the
top linking to each unanswered item. Every word comes from ``text.py``; every value goes through
``e``. The page names the person by first name only. The question wording is the licensed one
only where the licence allows (ONS4, ONS loneliness); otherwise the project's short labels and a
note.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape as e

from app.outcomes.instruments import Instrument, Item
from app.person import forms, pages
from app.person.text import text

WORDED = frozenset({"ONS4", "ONS_LONELINESS"})  # wording under the Open Government Licence
STEMS = {"ONS4": "q.ONS4.stem", "SWEMWBS": "q.swemwbs.stem", "UCLA3": "q.ucla3.stem"}


def t(key: str, **values: str) -> str:
    return e(text(key, **values))


def document(title: str, main: str) -> str:
    """A questionnaire page: the person's pages' frame, and where to get help at the foot."""
    return pages.document(title, f'{main}\n<p class="help">{t("q.help")}</p>', "en", skip="q.skip")


def question(spec: Instrument, item: Item) -> str:
    """What an item asks: the licensed wording where allowed, else its short label."""
    if spec.code in WORDED:
        return text(f"q.{spec.code}.{item.id}")
    return item.label


def _choice_label(item: Item, index: int) -> str:
    value = item.values[index]
    if item.value_labels:
        return item.value_labels[index]
    if value == 0:
        return f"0 - {text('q.scale.0')}"
    if value == 10:
        return f"10 - {text('q.scale.10')}"
    return str(value)


def _item(spec: Instrument, item: Item, chosen: str, problem: bool) -> str:
    name = f"item-{item.id}"
    radios = "".join(
        f'<div class="choice"><input id="{name}-{i}" name="{e(item.id)}" type="radio" '
        f'value="{e(str(v))}"{" checked" if str(v) == chosen else ""}>'
        f'<label for="{name}-{i}">{e(_choice_label(item, i))}</label></div>'
        for i, v in enumerate(item.values)
    )
    error = (
        f'<p class="error-message" id="{name}-error"><span class="visually-hidden">'
        f"{t('errors.prefix')}</span> {t('q.error.missing', question=question(spec, item))}</p>"
        if problem
        else ""
    )
    described = f' aria-describedby="{name}-error"' if problem else ""
    group = "group group-error" if problem else "group"
    return (
        f'<div class="{group}"><fieldset class="fieldset" id="{name}"{described}>'
        f"<legend>{e(question(spec, item))}</legend>{error}"
        f'<div class="{"scale" if len(item.values) > 5 else "choices"}">{radios}</div>'
        "</fieldset></div>"
    )


def _summary(spec: Instrument, missing: list[str], csrf_failed: bool) -> str:
    if not missing and not csrf_failed:
        return ""
    items = {i.id: i for i in spec.items}
    links = "".join(
        f'<li><a href="#item-{e(m)}-0">{t("q.error.missing", question=question(spec, items[m]))}'
        "</a></li>"
        for m in missing
    )
    if csrf_failed:
        links = f"<li>{t('q.error.csrf')}</li>" + links
    return (
        '<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-title">'
        f'<h2 id="error-title">{t("errors.title")}</h2><ul>{links}</ul></div>'
    )


def form(
    spec: Instrument,
    *,
    action: str,
    first_name: str | None,
    expires: str,
    csrf_token: str,
    chosen: Mapping[str, str] | None = None,
    missing: list[str] | None = None,
    csrf_failed: bool = False,
) -> str:
    """The questionnaire page: ``chosen`` answers kept, ``missing`` items marked."""
    chosen, missing = chosen or {}, missing or []
    hello = t("q.hello", name=first_name) if first_name else t("q.hello.anon")
    stem = f'<p class="lead">{t(STEMS[spec.code])}</p>' if spec.code in STEMS else ""
    note = "" if spec.code in WORDED else f'<p class="inset">{t("q.short")}</p>'
    items = "".join(
        _item(spec, item, chosen.get(item.id, ""), item.id in missing) for item in spec.items
    )
    main = (
        _summary(spec, missing, csrf_failed)
        + f"<h1>{hello}</h1><p>{t('q.intro')}</p><p>{t('q.once', date=expires)}</p>{note}"
        f'<form method="post" action="{e(action)}" novalidate>'
        f'<input type="hidden" name="{forms.CSRF_FIELD}" value="{e(csrf_token)}">'
        f"{stem}{items}"
        f'<button class="button" type="submit">{t("q.submit")}</button></form>'
    )
    title = text("q.title")
    if missing or csrf_failed:
        title = f"{text('errors.prefix')} {title}"
    return document(title, main)


def notice(title_key: str, body_key: str, **values: str) -> str:
    """A page that only says something: the thanks, a used, expired or unknown link."""
    main = f"<h1>{t(title_key)}</h1><p>{t(body_key, **values)}</p>"
    if title_key == "q.done.title":
        main = (
            f'<div class="panel"><h1>{t(title_key)}</h1><p>{t(body_key)}</p></div>'
            f"<p>{t('q.done.close')}</p>"
        )
    return document(text(title_key), main)
