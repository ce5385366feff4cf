"""The person's pages as HTML (pure): the ``/refer`` form (empty, or again with its problems),
the confirmation, and the pages that refuse (timed out, too many, too long).

GOV.UK Design System patterns, self-hosted: an error summary at the top linking to each field,
each problem again beside its field, "Error: " before the title, hints tied to their fields by
``aria-describedby``, ``autocomplete`` on what a browser can fill in. Every word comes from
``text.py``; every value goes through ``e``. No script: the style sheet is
``static/person.css`` (that of every page of the person's), and the CSP allows nothing else
(app/ops/abuse.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape as e

from app.ops.middleware import PERSON_ASSETS
from app.person import forms
from app.person.schemas import LANGUAGES, TRAVEL_KM
from app.person.text import text
from app.terminology.codesystems import activity_category_codes

ATTENDANCE = ("in-person", "online", "phone", "any")
DIGITAL = ("full", "limited", "none")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACCESS = ("wheelchair", "step-free", "hearing-loop", "large-print", "bsl", "quiet-space")
GROUPS = ("small-group", "quiet", "women-only", "men-only")
ANCHORS = {  # the field a problem's link in the summary goes to
    "birth_date": "birth_day",
    "contact": "mobile",
    "preferences.interests": "interests-" + sorted(activity_category_codes())[0],
    "preferences.group_preferences": "group_preferences-small-group",
}


class Form:
    """What the form shows: the values posted (none at first) and the problems found."""

    def __init__(self, fields: forms.Fields, errors: Mapping[str, str], language: str) -> None:
        self.fields, self.errors, self.language = fields, errors, language

    def t(self, key: str) -> str:
        return e(text(key, self.language))

    def value(self, name: str) -> str:
        return e(forms.one(self.fields, name))

    def chosen(self, name: str) -> set[str]:
        return set(self.fields.get(name, []))

    def error(self, field: str) -> str:
        """The problem shown beside a field (empty when none)."""
        if field not in self.errors:
            return ""
        message = self.t(self.errors[field])
        return (
            f'<p class="error-message" id="{field}-error">'
            f'<span class="visually-hidden">{self.t("errors.prefix")}</span> {message}</p>'
        )

    def group(self, field: str, body: str) -> str:
        kind = "group group-error" if field in self.errors else "group"
        return f'<div class="{kind}">{body}</div>'

    def described(self, field: str, hint: bool) -> str:
        ids = [f"{field}-hint"] if hint else []
        ids += [f"{field}-error"] if field in self.errors else []
        return f' aria-describedby="{" ".join(ids)}"' if ids else ""

    def text_input(
        self, name: str, *, autocomplete: str = "off", kind: str = "text", hint: bool = False
    ) -> str:
        width = {"postcode": " short", "nhs_number": " medium", "gp_practice": ""}.get(name, "")
        invalid = ' aria-invalid="true"' if name in self.errors else ""
        optional = (
            f' <span class="optional">{self.t("optional")}</span>'
            if name in ("gp_practice", "nhs_number", "mobile", "email")
            else ""
        )
        hint_html = (
            f'<div class="hint" id="{name}-hint">{self.t(f"{name}.hint")}</div>' if hint else ""
        )
        return self.group(
            name,
            f'<label for="{name}">{self.t(f"{name}.label")}{optional}</label>{hint_html}'
            f"{self.error(name)}"
            f'<input class="input{width}" id="{name}" name="{name}" type="{kind}" '
            f'value="{self.value(name)}" autocomplete="{autocomplete}"'
            f"{self.described(name, hint)}{invalid}>",
        )

    def choices(
        self, name: str, codes: Sequence[str], label: str, *, many: bool, field: str | None = None
    ) -> str:
        """Radios (one) or checkboxes (``many``) in a fieldset; ``label``: the message id
        prefix of each code's words."""
        field = field or name
        chosen = self.chosen(name)
        kind = "checkbox" if many else "radio"
        items = "".join(
            f'<div class="choice"><input id="{name}-{c}" name="{name}" type="{kind}" '
            f'value="{c}"{" checked" if c in chosen else ""}>'
            f'<label for="{name}-{c}">{self.t(f"{label}.{c}")}</label></div>'
            for c in codes
        )
        return self.group(
            field,
            f'<fieldset class="fieldset"{self.described(field, False)}>'
            f"<legend>{self.t(f'{name}.legend')}</legend>{self.error(field)}{items}</fieldset>",
        )

    def select(self, name: str, options: Sequence[tuple[str, str]]) -> str:
        current = forms.one(self.fields, name)
        items = "".join(
            f'<option value="{e(v)}"{" selected" if v == current else ""}>{e(words)}</option>'
            for v, words in options
        )
        field = f"preferences.{name}"
        return self.group(
            field,
            f'<label for="{name}">{self.t(f"{name}.label")}</label>{self.error(field)}'
            f'<select class="select" id="{name}" name="{name}">{items}</select>',
        )


def document(title: str, main: str, language: str, *, skip: str = "skip") -> str:
    """A page of the person's: ``skip`` is the message id of the link to the main part."""
    return f"""<!doctype html>
<html lang="{"cy" if language == "cy" else "en-GB"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} - {e(text("service", language))}</title>
<link rel="stylesheet" href="{PERSON_ASSETS}/person.css">
</head>
<body>
<a class="skip" href="#main">{e(text(skip, language))}</a>
<header class="top"><p class="brand">{e(text("service", language))}</p></header>
<main id="main" tabindex="-1">
{main}
</main>
</body>
</html>
"""


def _summary(form: Form) -> str:
    if not form.errors:
        return ""
    links = "".join(
        f'<li><a href="#{ANCHORS.get(field, field.removeprefix("preferences."))}">'
        f"{form.t(message)}</a></li>"
        for field, message in form.errors.items()
    )
    return (
        '<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-title">'
        f'<h2 id="error-title">{form.t("errors.title")}</h2><ul>{links}</ul></div>'
    )


def _about_you(form: Form) -> str:
    invalid = ' aria-invalid="true"' if "birth_date" in form.errors else ""
    birth = "".join(
        f'<div class="date-item"><label for="birth_{p}">{form.t(f"birth_{p}.label")}</label>'
        f'<input class="input {"year" if p == "year" else "day"}" id="birth_{p}" '
        f'name="birth_{p}" inputmode="numeric" value="{form.value(f"birth_{p}")}" '
        f'autocomplete="bday-{p}"{invalid}></div>'
        for p in ("day", "month", "year")
    )
    return (
        f'<fieldset class="fieldset"><legend class="heading">{form.t("you.legend")}</legend>'
        + form.text_input("given_name", autocomplete="given-name")
        + form.text_input("family_name", autocomplete="family-name")
        + form.group(
            "birth_date",
            '<fieldset class="fieldset" role="group" aria-describedby="birth_date-hint'
            + (' birth_date-error"' if "birth_date" in form.errors else '"')
            + f"><legend>{form.t('birth_date.legend')}</legend>"
            f'<div class="hint" id="birth_date-hint">{form.t("birth_date.hint")}</div>'
            f'{form.error("birth_date")}<div class="date">{birth}</div></fieldset>',
        )
        + form.text_input("postcode", autocomplete="postal-code", hint=True)
        + "</fieldset>"
    )


def _contact(form: Form) -> str:
    return form.group(
        "contact",
        f'<fieldset class="fieldset" aria-describedby="contact-hint'
        f'{" contact-error" if "contact" in form.errors else ""}">'
        f'<legend class="heading">{form.t("contact.legend")}</legend>'
        f'<div class="hint" id="contact-hint">{form.t("contact.hint")}</div>'
        f"{form.error('contact')}"
        + form.text_input("mobile", autocomplete="tel", kind="tel", hint=True)
        + form.text_input("email", autocomplete="email", kind="email")
        + "</fieldset>",
    )


def _about(form: Form) -> str:
    invalid = ' aria-invalid="true"' if "about" in form.errors else ""
    return form.group(
        "about",
        f'<h2 class="heading"><label for="about">{form.t("about.label")}</label></h2>'
        f'<div class="hint" id="about-hint">{form.t("about.hint")}</div>{form.error("about")}'
        f'<textarea class="textarea" id="about" name="about" rows="6"'
        f"{form.described('about', True)}{invalid}>{form.value('about')}</textarea>",
    )


def _preferences(form: Form) -> str:
    travel = [("", text("max_travel_km.none", form.language))] + [
        (str(km), text(f"max_travel_km.{km}", form.language)) for km in TRAVEL_KM
    ]
    languages = [("", text("language.none", form.language))] + [
        (code, text(f"lang.{code}", form.language)) for code in LANGUAGES
    ]
    interests = sorted(activity_category_codes())
    free = "checked" if forms.one(form.fields, "free_only") == "yes" else ""
    return (
        f'<h2 class="heading">{form.t("prefs.legend")}</h2>'
        f'<p class="hint">{form.t("prefs.hint")}</p>'
        + form.choices("interests", interests, "interest", many=True, field="preferences.interests")
        + form.choices("attendance_mode", ATTENDANCE, "attendance_mode", many=False)
        + form.choices("digital_access", DIGITAL, "digital_access", many=False)
        + form.choices("available_days", DAYS, "day", many=True)
        + form.select("max_travel_km", travel)
        + f'<div class="group"><div class="choice"><input id="free_only" name="free_only" '
        f'type="checkbox" value="yes" {free}><label for="free_only">{form.t("free_only.label")}'
        "</label></div></div>"
        + form.select("language", languages)
        + form.choices("accessibility_needs", ACCESS, "access", many=True)
        + form.choices(
            "group_preferences",
            GROUPS,
            "group",
            many=True,
            field="preferences.group_preferences",
        )
    )


def refer_form(
    fields: forms.Fields, errors: Mapping[str, str], csrf_token: str, language: str = "en"
) -> str:
    """The ``/refer`` page: the form, with ``fields`` as posted and their ``errors``."""
    form = Form(fields, errors, language)
    consent_checked = " checked" if forms.one(fields, "consent") == "yes" else ""
    main = (
        _summary(form)
        + f'<h1>{form.t("refer.title")}</h1><p class="lead">{form.t("refer.intro")}</p>'
        f"<p>{form.t('refer.who')} {form.t('refer.time')}</p>"
        f'<form method="post" action="/refer" novalidate>'
        f'<input type="hidden" name="{forms.CSRF_FIELD}" value="{e(csrf_token)}">'
        + _about_you(form)
        + _contact(form)
        + _about(form)
        + _preferences(form)
        + f'<fieldset class="fieldset"><legend class="heading">{form.t("health.legend")}</legend>'
        + form.text_input("gp_practice", hint=True)
        + form.text_input("nhs_number", hint=True)
        + "</fieldset>"
        + f'<div class="hp" aria-hidden="true"><label for="{forms.HONEYPOT}">'
        f'{form.t("website.label")}</label><input id="{forms.HONEYPOT}" name="{forms.HONEYPOT}" '
        'type="text" tabindex="-1" autocomplete="off"></div>'
        + form.group(
            "consent",
            '<fieldset class="fieldset">'
            f'<legend class="heading">{form.t("consent.legend")}</legend>'
            f'{form.error("consent")}<div class="choice"><input id="consent" name="consent" '
            f'type="checkbox" value="yes"{consent_checked}{form.described("consent", False)}>'
            f'<label for="consent">{form.t("consent.label")}</label></div></fieldset>',
        )
        + f'<button class="button" type="submit">{form.t("refer.submit")}</button></form>'
    )
    title = text("refer.title", language)
    if errors:
        title = f"{text('errors.prefix', language)} {title}"
    return document(title, main, language)


def confirmation(reference: str, language: str = "en") -> str:
    """Only the reference and what happens next: nothing the person wrote."""

    def t(key: str) -> str:
        return e(text(key, language))

    steps = "".join(f"<li>{t(f'done.next.{n}')}</li>" for n in (1, 2, 3))
    main = (
        f'<div class="panel"><h1>{t("done.title")}</h1>'
        f'<p>{t("done.reference")}<br><strong class="reference">{e(reference)}</strong></p></div>'
        f'<h2 class="heading">{t("done.next.title")}</h2><ol class="list">{steps}</ol>'
        f'<p>{t("done.again")}</p><p class="warning"><strong>{t("done.urgent")}</strong></p>'
    )
    return document(text("done.title", language), main, language)


def refusal(title_key: str, body_key: str, language: str = "en") -> str:
    """A page that says why the form was not accepted, with a way back to it."""
    main = (
        f"<h1>{e(text(title_key, language))}</h1><p>{e(text(body_key, language))}</p>"
        f'<p><a href="/refer">{e(text("refer.title", language))}</a></p>'
    )
    return document(text(title_key, language), main, language)
