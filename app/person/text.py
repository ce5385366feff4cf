"""Every word the person's pages show (``/refer`` and the questionnaire page ``/q/{token}``), by
message id, in one catalogue per language.

Plain English for a reading age of about 9: short sentences, common words. A Welsh catalogue
(``cy``) is a second dict with the same ids; ``tests/person/test_schemas.py`` holds every id used
by the pages to the catalogue. ``{name}`` parts are filled in by ``text``. The questionnaire
page's own ids start ``q.``; the service's name and the error summary's words are shared.

The question wording is shown only where its licence allows: the ONS personal wellbeing (ONS4)
and loneliness questions are Crown copyright, published under the Open Government Licence v3.0.
The Warwick-Edinburgh scales (SWEMWBS) need a licence from Warwick and the UCLA scale's wording
is not ours to ship (docs/outcomes.md): for those the page shows the project's short labels
(app/outcomes/instruments.py) and a note.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # every page
    "service": "Get support near you",
    "errors.title": "There is a problem",
    "errors.prefix": "Error:",
    # the self-referral page (/refer)
    "refer.title": "Ask for support from a link worker",
    "refer.intro": (
        "A link worker can help you find groups and activities near you. "
        "They can help if you feel lonely, low or stressed, or need help with money or housing."
    ),
    "refer.who": "You need to be 16 or older to use this form.",
    "refer.time": "It takes about 5 minutes.",
    "refer.submit": "Send",
    "skip": "Skip to the form",
    "optional": "(optional)",
    # about you
    "you.legend": "About you",
    "given_name.label": "First name",
    "family_name.label": "Last name",
    "birth_date.legend": "Date of birth",
    "birth_date.hint": "For example, 27 3 1990",
    "birth_day.label": "Day",
    "birth_month.label": "Month",
    "birth_year.label": "Year",
    "postcode.label": "Postcode",
    "postcode.hint": "We use this to find the link worker team for your area.",
    # contact
    "contact.legend": "How can we contact you?",
    "contact.hint": "Give us a mobile number, an email address, or both.",
    "mobile.label": "Mobile phone number",
    "mobile.hint": "For example, 07700 900 982",
    "email.label": "Email address",
    # your words
    "about.label": "What is going on for you?",
    "about.hint": "Tell us in your own words. For example: I feel lonely since I moved here.",
    # preferences
    "prefs.legend": "What would suit you?",
    "prefs.hint": "These questions are all optional.",
    "attendance_mode.legend": "How would you like to take part?",
    "attendance_mode.in-person": "Meet people face to face",
    "attendance_mode.online": "Online, on a computer or phone",
    "attendance_mode.phone": "By phone",
    "attendance_mode.any": "Any of these",
    "digital_access.legend": "Do you use the internet?",
    "digital_access.full": "Yes, I am happy online",
    "digital_access.limited": "A little",
    "digital_access.none": "No",
    "available_days.legend": "Which days can you go?",
    "day.mon": "Monday",
    "day.tue": "Tuesday",
    "day.wed": "Wednesday",
    "day.thu": "Thursday",
    "day.fri": "Friday",
    "day.sat": "Saturday",
    "day.sun": "Sunday",
    "max_travel_km.label": "How far can you travel?",
    "max_travel_km.none": "Not sure",
    "max_travel_km.2": "Up to 2 km (about 1 mile)",
    "max_travel_km.5": "Up to 5 km (about 3 miles)",
    "max_travel_km.10": "Up to 10 km (about 6 miles)",
    "max_travel_km.20": "Up to 20 km (about 12 miles)",
    "free_only.label": "I can only go to things that are free",
    "language.label": "Which language would you like to use?",
    "language.none": "English is fine",
    "lang.ar": "Arabic",
    "lang.bn": "Bengali",
    "lang.cy": "Welsh (Cymraeg)",
    "lang.es": "Spanish",
    "lang.fa": "Persian (Farsi)",
    "lang.fr": "French",
    "lang.gu": "Gujarati",
    "lang.hi": "Hindi",
    "lang.ku": "Kurdish",
    "lang.lt": "Lithuanian",
    "lang.pa": "Punjabi",
    "lang.pl": "Polish",
    "lang.pt": "Portuguese",
    "lang.ro": "Romanian",
    "lang.ru": "Russian",
    "lang.so": "Somali",
    "lang.ta": "Tamil",
    "lang.ti": "Tigrinya",
    "lang.tr": "Turkish",
    "lang.uk": "Ukrainian",
    "lang.ur": "Urdu",
    "lang.yue": "Cantonese",
    "lang.zh": "Chinese (Mandarin)",
    "accessibility_needs.legend": "Do you need any of these?",
    "access.wheelchair": "Wheelchair access",
    "access.step-free": "No steps",
    "access.hearing-loop": "A hearing loop",
    "access.large-print": "Large print",
    "access.bsl": "A British Sign Language (BSL) interpreter",
    "access.quiet-space": "A quiet space",
    "group_preferences.legend": "What kind of group would you like?",
    "group.women-only": "Women only",
    "group.men-only": "Men only",
    "group.small-group": "A small group",
    "group.quiet": "A quiet group",
    "interests.legend": "What do you enjoy, or want to try?",
    "interest.arts-creative": "Art and crafts",
    "interest.music-singing": "Music and singing",
    "interest.heritage-museums": "Museums and history",
    "interest.libraries-reading": "Books and reading",
    "interest.nature-green": "Nature and the outdoors",
    "interest.gardening": "Gardening",
    "interest.physical-activity": "Sport and exercise",
    "interest.walking": "Walking",
    "interest.dance": "Dance",
    "interest.social-groups": "Meeting people",
    "interest.befriending": "A befriender to talk to",
    "interest.learning-skills": "Learning something new",
    "interest.volunteering": "Volunteering",
    "interest.advice-welfare": "Advice on money, benefits or housing",
    "interest.carers-support": "Help for carers",
    "interest.bereavement-support": "Help after someone has died",
    "interest.peer-support": "Talking with people who have been through the same",
    "interest.digital-skills": "Help with computers and phones",
    "interest.food-cooking": "Food and cooking",
    # GP and NHS number
    "health.legend": "Your GP and NHS number",
    "gp_practice.label": "Your GP practice",
    "gp_practice.hint": "The name of your GP surgery, or its code if you know it.",
    "nhs_number.label": "NHS number",
    "nhs_number.hint": "It is 10 digits, like 485 777 3456. You can find it in the NHS App.",
    # consent and the honeypot
    "consent.legend": "Your agreement",
    "consent.label": (
        "I agree to be referred to a link worker. I agree that the link worker team can see "
        "what I have written here and contact me."
    ),
    "website.label": "Leave this box empty",
    # errors
    "error.given_name": "Enter your first name",
    "error.family_name": "Enter your last name",
    "error.birth_date": "Enter your date of birth, for example 27 3 1990",
    "error.birth_date.future": "Your date of birth must be in the past",
    "error.birth_date.under_16": "You need to be 16 or older to use this form",
    "error.postcode": "Enter a real postcode, for example LS1 4AP",
    "error.contact": "Enter a mobile number or an email address",
    "error.mobile": "Enter a UK mobile number, for example 07700 900 982",
    "error.email": "Enter an email address like name@example.com",
    "error.about": "Tell us what is going on for you",
    "error.about.long": "Use fewer words: 2000 letters at most",
    "error.nhs_number": "Check your NHS number: it is 10 digits, like 485 777 3456",
    "error.consent": "Tick the box to say you agree",
    "error.choice": "Choose from the list",
    "error.too_long": "This is too long",
    "error.csrf": "This form timed out. Please fill it in again.",
    "error.no_service": "We cannot find a link worker team for your postcode yet.",
    # confirmation
    "done.title": "We have your request",
    "done.reference": "Your reference is",
    "done.next.title": "What happens next",
    "done.next.1": "A link worker from your local team will contact you.",
    "done.next.2": "They will ask you what matters to you.",
    "done.next.3": "If you need help sooner, call your GP practice.",
    "done.urgent": (
        "If you feel you might hurt yourself, call 999 now. For other urgent help, call 111."
    ),
    "done.again": "Keep your reference. You do not need to send this form again.",
    # refused pages
    "csrf.title": "This form has timed out",
    "limit.title": "Too many requests",
    "limit.body": "Please wait an hour and try again, or call your GP practice.",
    # the questionnaire page (/q/{token}; app/person/questionnaire.py)
    "q.skip": "Skip to the questions",
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
    "q.ONS4.stem": "Please answer from 0 to 10. 0 means not at all, 10 means completely.",
    "q.ONS4.life_satisfaction": "Overall, how satisfied are you with your life nowadays?",
    "q.ONS4.worthwhile": (
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?"
    ),
    "q.ONS4.happy": "Overall, how happy did you feel yesterday?",
    "q.ONS4.anxious": "Overall, how anxious did you feel yesterday?",
    # ONS direct loneliness question (Crown copyright, Open Government Licence v3.0)
    "q.ONS_LONELINESS.how_often": "How often do you feel lonely?",
    # the questionnaire's problems
    "q.error.missing": "Choose an answer for: {question}",
    "q.error.csrf": "This page timed out. Please check your answers and send them again.",
    # after the questionnaire
    "q.done.title": "Thank you",
    "q.done.body": "We have your answers. Your link worker will see them.",
    "q.done.close": "You can close this page now.",
    "q.used.title": "This link has already been used",
    "q.used.body": "Thank you: we have your answers. Each link works only once.",
    "q.expired.title": "This link has expired",
    "q.expired.body": "Links work for {days} days. Your link worker can send you a new one.",
    "q.unknown.title": "We cannot find this page",
    "q.unknown.body": (
        "Check that you copied the whole link from your message. "
        "If it still does not work, your link worker can send you a new one."
    ),
    "q.limit.title": "Too many tries",
    "q.limit.body": "Please wait an hour and try again.",
    "q.failed.title": "We could not save your answers",
    "q.failed.body": "Sorry. Your link worker will contact you.",
    "q.help": "If you need help now, call your GP practice. In an emergency, call 999.",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN}
LANGUAGES = tuple(CATALOGUES)


def text(key: str, language: str = "en", **values: str) -> str:
    """The words of ``key`` in ``language`` (English where the catalogue has no entry)."""
    words = CATALOGUES.get(language, EN).get(key) or EN[key]
    return words.format(**values) if values else words
