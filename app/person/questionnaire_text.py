"""Every word of the questionnaire pages (``/q/{token}``), by message id: the catalogue section
of questionnaires from a link, in the same form as the self-referral page's (``text.py``), to
be folded into it (a Welsh ``cy`` dict with the same ids).

Plain English for a reading age of about 9. The question wording is shown only where its
licence allows: the ONS personal wellbeing (ONS4) and loneliness questions are Crown copyright,
published under the Open Government Licence v3.0. The Warwick-Edinburgh scales (SWEMWBS) need a
licence from Warwick and the UCLA scale's wording is not ours to ship (docs/outcomes.md): for
those the page shows the project's short labels (app/outcomes/instruments.py) and a note.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "service": "Get support near you",
    "skip": "Skip to the questions",
    "q.title": "How are you?",
    "q.hello": "Hello {name}",
    "q.hello.anon": "Hello",
    "q.intro": (
        "Your link worker would like to know how you are. "
        "There are no right or wrong answers. It takes about 2 minutes."
    ),
    "q.once": "You can use this link once, until {date}.",
    "q.short": (
        "These are short versions of the questions. "
        "Your link worker can show you the full questions if you like."
    ),
    "q.submit": "Send my answers",
    "q.scale.0": "not at all",
    "q.scale.10": "completely",
    "q.swemwbs.stem": "Over the last 2 weeks, how often have you felt like this?",
    "q.ucla3.stem": "How often do you feel like this?",
    # ONS4 (Crown copyright, Open Government Licence v3.0)
    "ONS4.stem": "Please answer from 0 to 10. 0 means not at all, 10 means completely.",
    "ONS4.life_satisfaction": "Overall, how satisfied are you with your life nowadays?",
    "ONS4.worthwhile": (
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?"
    ),
    "ONS4.happy": "Overall, how happy did you feel yesterday?",
    "ONS4.anxious": "Overall, how anxious did you feel yesterday?",
    # ONS direct loneliness question (Crown copyright, Open Government Licence v3.0)
    "ONS_LONELINESS.how_often": "How often do you feel lonely?",
    # problems
    "errors.title": "There is a problem",
    "errors.prefix": "Error:",
    "error.missing": "Choose an answer for: {question}",
    "error.csrf": "This page timed out. Please check your answers and send them again.",
    # after
    "done.title": "Thank you",
    "done.body": "We have your answers. Your link worker will see them.",
    "done.close": "You can close this page now.",
    "used.title": "This link has already been used",
    "used.body": "Thank you: we have your answers. Each link works only once.",
    "expired.title": "This link has expired",
    "expired.body": "Links work for {days} days. Your link worker can send you a new one.",
    "unknown.title": "We cannot find this page",
    "unknown.body": (
        "Check that you copied the whole link from your message. "
        "If it still does not work, your link worker can send you a new one."
    ),
    "limit.title": "Too many tries",
    "limit.body": "Please wait an hour and try again.",
    "failed.title": "We could not save your answers",
    "failed.body": "Sorry. Your link worker will contact you.",
    "help": "If you need help now, call your GP practice. In an emergency, call 999.",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN}


def text(key: str, language: str = "en", **values: str) -> str:
    """The words of ``key`` in ``language`` (English where the catalogue has no entry)."""
    words = CATALOGUES.get(language, EN).get(key) or EN[key]
    return words.format(**values) if values else words
