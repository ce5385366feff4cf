"""The benchmark's directory: 126 fictitious but real-shaped activities in Hackney, Islington and
Tower Hamlets, written compactly here and turned into the Open Referral UK services that
``POST /api/v1/directory/import`` (and ``assetlink import-directory``) accepts by `services()`.

The activities are chosen to set the situations of issue 19 side by side: a rent-and-bills
support line next to a job club and rough-sleeping outreach; bereavement groups next to general
singing and walking groups; groups held in Bengali, Turkish, Somali... next to sight-loss clubs;
women-only next to mixed gyms; online and phone options; quiet and small groups; weekday and
weekend days; free and paid; step-free, hearing-loop and wheelchair-accessible venues.

Coordinates are those of the area fixture's postcodes (the app's Hackney fixture plus this
directory's ``areas_postcodes.csv``). Run ``python -m bench.matching_quality.directory`` to print
the ORUK file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# key -> (name, address, postcode, latitude, longitude, accessibility as a directory writes it)
VENUES: dict[str, tuple[str, str, str, float, float, str]] = {
    # Hackney
    "clapton": ("Clapton Community Hall", "14 Rushmore Road", "E5 3UX", 51.559815, -0.054481,
                "Step-free access throughout, hearing loop in the main hall"),
    "homerton": ("Homerton Methodist Church Hall", "2 Ponsford Street", "E9 6BA", 51.543803,
                 -0.045731, "Two steps at the entrance"),
    "dalston": ("Dalston Library", "Dalston Square", "E8 3HJ", 51.545113, -0.063237,
                "Wheelchair accessible, lift to all floors, large print books, hearing loop"),
    "stokenewington": ("Stoke Newington Assembly Rooms", "Church Street", "N16 3AN", 51.559482,
                       -0.083200, "Wheelchair accessible, accessible toilet"),
    "springfield": ("Springfield Park Lodge", "Springfield Park", "E5 8NR", 51.565809, -0.043068,
                    "Level access from the park path"),
    "hoxton": ("Hoxton Hall", "130 Hoxton Street", "N1 6AU", 51.532403, -0.087032,
               "Stairs only to the upper hall"),
    "londonfields": ("London Fields Lido Gym", "London Fields West Side", "E8 1FB", 51.536116,
                     -0.051412, "Wheelchair accessible changing rooms"),
    "hackneycentre": ("Hackney Advice Centre", "300 Mare Street", "E8 8GW", 51.550765,
                      -0.069567, "Step-free access, quiet room for private appointments"),
    "shacklewell": ("Shacklewell Women's Centre", "1 Shacklewell Lane", "E8 6DZ", 51.543100,
                    -0.073689, "Step-free, quiet room"),
    "clissold": ("Clissold Park Café meeting point", "Clissold Park", "N16 5WY", 51.568008,
                 -0.089306, "Level paths"),
    # Islington
    "holloway": ("Holloway Neighbourhood Centre", "40 Hornsey Road", "N7 7BB", 51.556500,
                 -0.113000, "Wheelchair accessible, hearing loop"),
    "archway": ("Archway Methodist Hall", "Archway Close", "N19 3GH", 51.565500, -0.133000,
                "Step-free access"),
    "highbury": ("Highbury Leisure Centre", "Highbury Crescent", "N5 1NP", 51.553000, -0.098500,
                 "Wheelchair accessible, accessible changing"),
    "caledonian": ("Caledonian Road Library", "2 Thornhill Square", "N7 8CD", 51.550000,
                   -0.110000, "Level access, large print and audio books"),
    "tufnell": ("Tufnell Park Community Room", "5 Dalmeny Road", "N19 5LM", 51.562800, -0.128000,
                "First floor, no lift"),
    # Tower Hamlets
    "whitechapel": ("Whitechapel Idea Store", "321 Whitechapel Road", "E1 1UV", 51.517000,
                    -0.062000, "Wheelchair accessible, hearing loop, large print"),
    "brickhall": ("Brick Lane Community Hall", "45 Hanbury Street", "E1 2WX", 51.518500,
                  -0.056000, "Step-free access"),
    "bethnal": ("Bethnal Green Centre", "229 Bethnal Green Road", "E2 6EF", 51.530000, -0.055000,
                "Wheelchair accessible, quiet space"),
    "mileend": ("Mile End Park Pavilion", "Grove Road", "E3 4NP", 51.523500, -0.020000,
                "Level access"),
    "bow": ("Bow Community Hall", "Wellington Way", "E3 2JK", 51.527000, -0.025000,
            "Step-free, hearing loop"),
    "stepney": ("Stepney Green Mosque Hall", "Stepney Way", "E1 3YZ", 51.515000, -0.050000,
                "Ground floor, step-free"),
}

# key -> (name, charity number)
ORGANISATIONS: dict[str, tuple[str, str]] = {
    "cca": ("Clapton Community Association", "1100101"),
    "eemoney": ("East End Money and Rent Advice", "1100102"),
    "workstart": ("WorkStart Hackney", "1100103"),
    "streetlink": ("Northeast London Street Outreach", "1100104"),
    "lossandhope": ("Loss and Hope Bereavement Care", "1100105"),
    "singing": ("Sing Out East", "1100106"),
    "walkers": ("Lea Valley Walkers", "1100107"),
    "sight": ("Eastside Sight Loss Society", "1100108"),
    "bengali": ("Shapla Bengali Women's Association", "1100109"),
    "turkish": ("Day-Mer Turkish and Kurdish Community Centre", "1100110"),
    "somali": ("Somali Community Link", "1100111"),
    "polish": ("Polish Social Club London", "1100112"),
    "fitness": ("Better Together Leisure Trust", "1100113"),
    "carers": ("Hackney and Islington Carers Centre", "1100114"),
    "mind": ("Talk East Mental Wellbeing", "1100115"),
    "garden": ("Growing Together Gardens", "1100116"),
    "arts": ("Open Studio Arts", "1100117"),
    "libraries": ("Three Boroughs Libraries", "1100118"),
    "older": ("Later Life East", "1100119"),
    "foodbank": ("Lea Bridge Food Network", "1100120"),
    "digital": ("Get Online East", "1100121"),
    "volunteer": ("Volunteer Centre Three Boroughs", "1100122"),
    "mens": ("Men's Sheds East", "1100123"),
    "ltc": ("Living Well with Long-term Conditions", "1100124"),
}

ONLINE = "online"
PHONE = "phone"
DAYS = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}


@dataclass(frozen=True)
class A:
    """One activity, compactly: ``where`` is a venue key, `ONLINE` or `PHONE` (a tuple of venue
    keys plus ONLINE for a hybrid); ``days`` space-separated ``mon``..``sun`` (``2tue`` monthly);
    ``cost`` in pounds per session, 0 = free."""

    id: str
    name: str
    org: str
    where: str | tuple[str, ...]
    days: str
    hours: tuple[str, str]
    categories: tuple[str, ...]
    needs: tuple[str, ...]
    description: str
    cost: float = 0
    ages: tuple[int | None, int | None] = (18, None)
    gender: str | None = None
    languages: tuple[str, ...] = ()
    capacity: tuple[int, int] | None = None  # (maximum, available)
    areas: tuple[str, ...] = ()
    eligibility: str | None = None
    status: str = "active"
    valid_to: str | None = None


ACTIVITIES: tuple[A, ...] = (
    # --- money, rent, work, housing --------------------------------------------------------
    A("rent-bills-line", "Rent and Bills Support Line", "eemoney", PHONE, "mon tue wed thu fri",
      ("09:30", "16:30"), ("advice-welfare",), ("debt-finance", "housing"),
      "Free confidential phone line for anyone behind on rent, council tax or energy bills: an "
      "adviser checks your benefits, negotiates with your landlord or supplier and sets up a "
      "payment plan. Interpreters available."),
    A("money-clinic-clapton", "Money Advice Drop-in", "eemoney", "clapton", "tue thu",
      ("10:00", "13:00"), ("advice-welfare",), ("debt-finance",),
      "Face-to-face debt advice: priority debts, rent arrears, bailiffs, breathing space and "
      "debt relief orders. Bring your letters."),
    A("money-clinic-whitechapel", "Debt and Benefits Advice Surgery", "eemoney", "whitechapel",
      "mon wed", ("13:00", "16:00"), ("advice-welfare",), ("debt-finance", "housing"),
      "Advisers help with debts, rent arrears and benefit claims. Bengali and Sylheti speaking "
      "advisers on Wednesdays.", languages=("en", "bn")),
    A("money-clinic-holloway", "Money Matters Clinic", "eemoney", "holloway", "fri",
      ("10:00", "14:00"), ("advice-welfare",), ("debt-finance",),
      "Appointments and drop-in for debt, budgeting and benefit checks for Islington residents.",
      areas=("E09000019",)),
    A("housing-advice-hackney", "Housing Advice Service", "eemoney", "hackneycentre",
      "mon wed fri", ("10:00", "15:00"), ("advice-welfare",), ("housing",),
      "Advice for tenants facing eviction, disrepair or rent increases; help with housing "
      "applications."),
    A("job-club-dalston", "Dalston Job Club", "workstart", "dalston", "tue",
      ("10:00", "12:30"), ("learning-skills", "advice-welfare"), ("employment-learning",),
      "Weekly job club: CVs, job searching, interview practice and help with Universal Credit "
      "work-search commitments. For people looking for work."),
    A("job-club-whitechapel", "Whitechapel Work Club", "workstart", "whitechapel", "thu",
      ("13:30", "15:30"), ("learning-skills", "advice-welfare"), ("employment-learning",),
      "Support into work: CVs, applications and interview skills for unemployed residents."),
    A("rough-sleeping-outreach", "Street Outreach for People Sleeping Rough", "streetlink",
      "hackneycentre", "mon tue wed thu fri sat sun", ("07:00", "10:00"), ("advice-welfare",),
      ("housing",),
      "Outreach workers find and support people sleeping rough into emergency accommodation. "
      "For people with nowhere to stay tonight.",
      eligibility="People sleeping rough or at immediate risk of it"),
    A("day-centre-homeless", "Morning Day Centre", "streetlink", "brickhall", "mon wed fri",
      ("08:00", "11:00"), ("advice-welfare", "food-cooking"), ("housing",),
      "Breakfast, showers, laundry and housing caseworkers for people who are homeless.",
      eligibility="People who are homeless or sleeping rough"),
    A("energy-advice-phone", "Warm Home Energy Advice Line", "eemoney", PHONE, "mon wed",
      ("10:00", "16:00"), ("advice-welfare",), ("debt-finance",),
      "Phone advice on energy debt, warm home discount and grants for heating."),
    A("benefits-online", "Benefits Check Online Sessions", "eemoney", ONLINE, "thu",
      ("18:00", "19:00"), ("advice-welfare",), ("debt-finance",),
      "Evening video sessions with an adviser to check you get every benefit you are entitled to."),
    A("budget-cooking", "Cooking on a Budget", "foodbank", "clapton", "wed",
      ("11:00", "13:00"), ("food-cooking", "learning-skills"), (),
      "Learn cheap, healthy meals in a group and take food home; £1 a session.", cost=1),
    A("food-bank-lea", "Lea Bridge Food Bank and Advice Café", "foodbank", "clapton", "fri",
      ("12:00", "15:00"), ("food-cooking", "advice-welfare"), ("debt-finance",),
      "Emergency food parcels with a money adviser on hand. Referral voucher needed."),
    A("digital-job-skills", "Computer Skills for Work", "digital", "caledonian", "mon",
      ("14:00", "16:00"), ("digital-skills", "learning-skills"), ("employment-learning",),
      "Learn email, online forms and job websites. Laptops provided."),
    A("volunteer-centre", "Volunteering Drop-in", "volunteer", "bethnal", "wed",
      ("10:00", "13:00"), ("volunteering",), ("employment-learning", "loneliness-isolation"),
      "Find a volunteering role that suits you: a friendly chat with an adviser."),
    A("esol-work", "English for Work (ESOL)", "workstart", "brickhall", "mon wed",
      ("10:00", "12:00"), ("learning-skills",), ("employment-learning",),
      "Free English classes for job seekers, entry level to level 1."),
    # --- bereavement and loss -----------------------------------------------------------------
    A("bereavement-cafe-clapton", "Bereavement Café", "lossandhope", "clapton", "wed",
      ("14:00", "16:00"), ("bereavement-support", "peer-support"), ("bereavement",),
      "A gentle drop-in over tea and cake for anyone who has lost someone close, facilitated by "
      "trained volunteers."),
    A("bereavement-group-holloway", "After Loss Support Group", "lossandhope", "holloway",
      "2tue", ("18:00", "20:00"), ("bereavement-support", "peer-support"), ("bereavement",),
      "Monthly evening group for people bereaved in the last two years, small and confidential.",
      capacity=(12, 5)),
    A("bereavement-walk", "Walk and Talk for the Bereaved", "lossandhope", "springfield", "sat",
      ("10:30", "12:00"), ("bereavement-support", "walking"), ("bereavement",),
      "A slow walk through the park with others who have lost someone, ending with a coffee."),
    A("bereavement-phone", "Bereavement Listening Line", "lossandhope", PHONE,
      "mon tue wed thu fri", ("10:00", "20:00"), ("bereavement-support", "befriending"),
      ("bereavement",),
      "Regular phone calls with a trained bereavement volunteer, for up to twelve weeks."),
    A("bereavement-bengali", "Bengali Women's Bereavement Circle", "bengali", "stepney", "thu",
      ("11:00", "13:00"), ("bereavement-support", "peer-support"), ("bereavement",),
      "A small circle in Bengali and Sylheti for women who have lost a husband, parent or child.",
      gender="female", languages=("bn",)),
    A("widows-lunch", "Widowed and Young Lunch", "lossandhope", "bethnal", "1sun",
      ("12:30", "15:00"), ("bereavement-support", "social-groups", "food-cooking"),
      ("bereavement",),
      "Monthly Sunday lunch for people widowed under 60.", ages=(18, 60), cost=5),
    A("child-bereavement-parents", "Parents Bereaved of a Child", "lossandhope", ONLINE, "1wed",
      ("19:30", "21:00"), ("bereavement-support", "peer-support"), ("bereavement",),
      "Monthly online peer group for parents whose child has died."),
    A("suicide-bereavement", "Bereaved by Suicide Group", "lossandhope", "dalston", "3thu",
      ("18:30", "20:30"), ("bereavement-support", "peer-support"), ("bereavement",),
      "Monthly group for people bereaved by suicide, run with a counsellor."),
    # --- singing, music, walking (general) ---------------------------------------------------
    A("community-choir-hackney", "Hackney Community Choir", "singing", "stokenewington", "tue",
      ("19:00", "21:00"), ("music-singing", "social-groups"), ("loneliness-isolation",),
      "Big, friendly choir singing pop and soul; no auditions. £4 a session, first free.",
      cost=4),
    A("singing-wellbeing", "Singing for Wellbeing", "singing", "clapton", "thu",
      ("11:00", "12:30"), ("music-singing",), ("low-mood", "loneliness-isolation"),
      "Relaxed daytime singing for mental wellbeing; no experience needed."),
    A("silver-singers", "Silver Singers", "older", "bow", "mon", ("14:00", "15:30"),
      ("music-singing", "social-groups"), ("loneliness-isolation",),
      "Singing old favourites for people over 60, with tea afterwards.", ages=(60, None)),
    A("singing-lungs", "Singing for Lung Health", "ltc", "homerton", "wed", ("13:30", "15:00"),
      ("music-singing", "peer-support"), ("long-term-condition",),
      "Breathing and singing exercises for people with COPD and other lung conditions.",
      eligibility="People with a lung condition"),
    A("choir-islington", "Islington Sings", "singing", "archway", "wed", ("19:30", "21:30"),
      ("music-singing",), ("loneliness-isolation",),
      "Community choir for all voices; £6 a session.", cost=6),
    A("ukulele-club", "Ukulele Club", "arts", "tufnell", "sat", ("14:00", "16:00"),
      ("music-singing", "learning-skills"), (),
      "Learn the ukulele in a group; instruments to borrow. £3.", cost=3),
    A("drumming-circle", "Community Drumming", "arts", "bethnal", "fri", ("18:00", "19:30"),
      ("music-singing", "arts-creative"), ("low-mood",),
      "Loud, joyful drumming circle, all welcome."),
    A("health-walk-springfield", "Springfield Park Health Walk", "walkers", "springfield", "tue",
      ("10:00", "11:00"), ("walking", "physical-activity"), ("physical-inactivity",),
      "A one-hour led walk at an easy pace, every Tuesday, followed by tea."),
    A("health-walk-clissold", "Clissold Park Health Walk", "walkers", "clissold", "thu",
      ("10:30", "11:30"), ("walking",), ("physical-inactivity", "loneliness-isolation"),
      "Friendly led walk for all abilities; stops to rest."),
    A("health-walk-mileend", "Mile End Park Walk", "walkers", "mileend", "mon fri",
      ("10:00", "11:00"), ("walking", "nature-green"), ("physical-inactivity",),
      "Short led walks around Mile End Park and the canal."),
    A("nordic-walking", "Nordic Walking", "walkers", "springfield", "sat", ("09:00", "10:30"),
      ("walking", "physical-activity"), ("physical-inactivity",),
      "Brisk walking with poles along the Lea; poles provided. £5.", cost=5),
    A("walk-islington", "Highbury Fields Walk", "walkers", "highbury", "wed", ("11:00", "12:00"),
      ("walking",), ("physical-inactivity", "loneliness-isolation"),
      "Gentle led walk around Highbury Fields."),
    A("canal-walk-long", "Regent's Canal Long Walk", "walkers", "hoxton", "sun",
      ("10:00", "13:00"), ("walking", "nature-green"), (),
      "Three-hour walk along the canal for regular walkers; brisk pace."),
    # --- languages, cultural groups, sight loss ----------------------------------------------
    A("sight-loss-club-hackney", "Hackney Sight Loss Social Club", "sight", "dalston", "tue",
      ("13:00", "15:30"), ("social-groups", "peer-support"),
      ("long-term-condition", "loneliness-isolation"),
      "Social club for people who are blind or partially sighted: talks, games, tech help.",
      eligibility="People with sight loss"),
    A("sight-loss-club-bow", "Bow Visually Impaired Group", "sight", "bow", "thu",
      ("10:30", "12:30"), ("social-groups", "peer-support"),
      ("long-term-condition", "loneliness-isolation"),
      "Monthly talks and weekly coffee for people with sight loss and their friends.",
      eligibility="People with sight loss"),
    A("sight-loss-tech", "Tech for Sight Loss Phone Support", "sight", PHONE, "wed",
      ("10:00", "15:00"), ("digital-skills",), ("long-term-condition",),
      "Help over the phone using screen readers and magnifiers.",
      eligibility="People with sight loss"),
    A("talking-books", "Talking Books Group", "libraries", "caledonian", "fri",
      ("14:00", "15:30"), ("libraries-reading", "social-groups"),
      ("loneliness-isolation", "long-term-condition"),
      "Audio book club for people with sight loss; large print available.",
      eligibility="People with sight loss"),
    A("bengali-womens-group", "Bengali Women's Wellbeing Group", "bengali", "stepney", "tue",
      ("10:30", "12:30"), ("social-groups", "peer-support"),
      ("loneliness-isolation", "low-mood"),
      "Weekly group in Bengali and Sylheti: tea, chat, health talks and crafts.",
      gender="female", languages=("bn",)),
    A("bengali-elders", "Bengali Elders Lunch Club", "bengali", "brickhall", "wed",
      ("12:00", "14:30"), ("social-groups", "food-cooking"), ("loneliness-isolation",),
      "Hot lunch and company for Bengali-speaking elders, men and women.", ages=(55, None),
      languages=("bn",), cost=2),
    A("bengali-sewing", "Stitch and Chat (Bengali)", "bengali", "whitechapel", "fri",
      ("10:00", "12:00"), ("arts-creative", "social-groups"), ("loneliness-isolation",),
      "Sewing and embroidery group for women, held in Bengali.", gender="female",
      languages=("bn",)),
    A("turkish-womens-group", "Turkish and Kurdish Women's Group", "turkish", "homerton", "mon",
      ("11:00", "13:00"), ("social-groups", "peer-support"), ("loneliness-isolation", "low-mood"),
      "Weekly women's group in Turkish and Kurdish: conversation, crafts and wellbeing talks.",
      gender="female", languages=("tr", "ku")),
    A("turkish-elders", "Turkish Speaking Elders' Club", "turkish", "stokenewington", "thu",
      ("12:00", "15:00"), ("social-groups", "food-cooking"), ("loneliness-isolation",),
      "Lunch, backgammon and company for older Turkish speakers.", ages=(55, None),
      languages=("tr",)),
    A("turkish-walk", "Türkçe Yürüyüş Grubu (Turkish Walking Group)", "turkish", "clissold",
      "sat", ("10:00", "11:30"), ("walking", "social-groups"), ("physical-inactivity",),
      "A Saturday walk in Clissold Park in Turkish.", languages=("tr",)),
    A("somali-womens-group", "Somali Women's Coffee Morning", "somali", "bethnal", "wed",
      ("10:00", "12:00"), ("social-groups", "peer-support"), ("loneliness-isolation",),
      "Coffee morning in Somali with health and benefits talks.", gender="female",
      languages=("so",)),
    A("somali-elders", "Somali Elders Circle", "somali", "brickhall", "sat",
      ("13:00", "16:00"), ("social-groups",), ("loneliness-isolation",),
      "Meeting place for older Somali men and women.", ages=(50, None), languages=("so",)),
    A("somali-advice", "Somali Community Advice Surgery", "somali", "whitechapel", "tue",
      ("10:00", "13:00"), ("advice-welfare",), ("debt-finance", "housing"),
      "Benefits, housing and money advice in Somali.", languages=("so", "en")),
    A("polish-club", "Polish Social Club", "polish", "holloway", "sun", ("14:00", "17:00"),
      ("social-groups",), ("loneliness-isolation",),
      "Sunday afternoons of coffee, cards and conversation in Polish.", languages=("pl",)),
    A("polish-support-line", "Polish Mental Health Helpline", "polish", PHONE, "mon wed fri",
      ("17:00", "21:00"), ("peer-support",), ("low-mood", "anxiety-stress"),
      "Emotional support by phone in Polish.", languages=("pl",)),
    A("turkish-advice", "Turkish and Kurdish Advice Service", "turkish", "homerton", "wed",
      ("10:00", "13:00"), ("advice-welfare",), ("debt-finance", "housing"),
      "Advice on debt, rent and benefits in Turkish and Kurdish.", languages=("tr", "ku", "en")),
    A("esol-conversation", "English Conversation Club", "libraries", "dalston", "thu",
      ("14:00", "15:30"), ("learning-skills", "social-groups"), ("loneliness-isolation",),
      "Practise everyday English in a relaxed group; all levels."),
    # --- physical activity, gyms ------------------------------------------------------------
    A("womens-gym-shacklewell", "Women-only Gym Sessions", "fitness", "shacklewell",
      "mon wed fri", ("10:00", "12:00"), ("physical-activity",), ("physical-inactivity",),
      "Gym and studio sessions for women only, female instructors, £2 with a referral.",
      gender="female", cost=2),
    A("womens-swim", "Women-only Swim", "fitness", "londonfields", "sun", ("08:00", "10:00"),
      ("physical-activity",), ("physical-inactivity",),
      "Women-only swimming with female lifeguards.", gender="female", cost=3.5),
    A("womens-fitness-bow", "Women's Fitness Class", "fitness", "bow", "tue thu",
      ("10:00", "11:00"), ("physical-activity", "dance"), ("physical-inactivity",),
      "Gentle fitness for women in a closed hall, all sizes welcome. Free.", gender="female"),
    A("mixed-gym-londonfields", "London Fields Gym Referral Scheme", "fitness", "londonfields",
      "mon tue wed thu fri sat", ("07:00", "21:00"), ("physical-activity",),
      ("physical-inactivity", "long-term-condition"),
      "12-week GP exercise referral in the main gym with an instructor. £2.50 a session.",
      cost=2.5),
    A("mixed-gym-highbury", "Highbury Active Health", "fitness", "highbury", "mon wed fri",
      ("09:00", "20:00"), ("physical-activity",), ("physical-inactivity", "long-term-condition"),
      "Exercise referral scheme in the gym; mixed sessions.", cost=3),
    A("chair-exercise", "Chair-based Exercise", "older", "clapton", "mon", ("11:00", "12:00"),
      ("physical-activity",), ("physical-inactivity", "long-term-condition"),
      "Seated exercise to build strength and balance for older or less mobile people.",
      ages=(50, None)),
    A("falls-prevention", "Strength and Balance (Falls Prevention)", "ltc", "bow", "wed",
      ("10:00", "11:00"), ("physical-activity",), ("long-term-condition", "physical-inactivity"),
      "Evidence-based 24-week programme for people at risk of falls.", ages=(60, None)),
    A("tai-chi", "Tai Chi in the Park", "fitness", "clissold", "sat", ("09:30", "10:30"),
      ("physical-activity", "nature-green"), ("anxiety-stress", "physical-inactivity"),
      "Slow, calm tai chi for all ages."),
    A("seated-yoga-online", "Seated Yoga Online", "fitness", ONLINE, "tue fri",
      ("11:00", "11:45"), ("physical-activity",), ("physical-inactivity", "long-term-condition"),
      "Live seated yoga by video, for people who cannot easily get out."),
    A("dance-over-50", "Dance Fit for Over 50s", "fitness", "stokenewington", "fri",
      ("10:30", "11:30"), ("dance", "physical-activity"), ("physical-inactivity",),
      "Fun dance class to pop and disco, £3.", ages=(50, None), cost=3),
    A("walking-football", "Walking Football", "fitness", "mileend", "wed", ("14:00", "15:30"),
      ("physical-activity",), ("physical-inactivity", "loneliness-isolation"),
      "Slow-paced football for men and women over 50.", ages=(50, None), cost=2),
    A("boxing-fitness", "Boxing Fitness", "fitness", "bethnal", "mon thu", ("18:30", "19:30"),
      ("physical-activity",), ("physical-inactivity", "anxiety-stress"),
      "High-energy boxing circuits, £5.", cost=5, ages=(16, 45)),
    A("wheelchair-sports", "Inclusive Sports Club", "fitness", "highbury", "sat",
      ("11:00", "13:00"), ("physical-activity",), ("physical-inactivity", "long-term-condition"),
      "Wheelchair basketball, boccia and table tennis for disabled adults."),
    A("muslim-womens-swim", "Sisters' Swim", "fitness", "whitechapel", "sat",
      ("18:00", "19:30"), ("physical-activity",), ("physical-inactivity",),
      "Women-only swim with covered windows and female staff.", gender="female", cost=2),
    A("youth-football", "Youth Football Sessions", "fitness", "mileend", "tue thu",
      ("17:00", "18:30"), ("physical-activity",), ("physical-inactivity",),
      "Football coaching for young people aged 11-17.", ages=(11, 17)),
    # --- mental wellbeing, quiet/small groups -------------------------------------------------
    A("anxiety-group", "Managing Anxiety Course", "mind", "hackneycentre", "wed",
      ("14:00", "16:00"), ("peer-support", "learning-skills"), ("anxiety-stress",),
      "Six-week small course (8 people) teaching practical ways to manage anxiety.",
      capacity=(8, 3)),
    A("mindfulness-online", "Mindfulness Online", "mind", ONLINE, "mon", ("19:00", "20:00"),
      ("peer-support",), ("anxiety-stress", "low-mood"),
      "Weekly guided mindfulness by video; cameras optional."),
    A("peer-support-low-mood", "Low Mood Peer Support Group", "mind", "bethnal", "thu",
      ("14:00", "16:00"), ("peer-support",), ("low-mood",),
      "Small, quiet peer group for people living with depression. Maximum 10.",
      capacity=(10, 4)),
    A("mens-shed-hackney", "Hackney Men's Shed", "mens", "homerton", "tue thu",
      ("10:00", "15:00"), ("social-groups", "learning-skills", "volunteering"),
      ("loneliness-isolation", "low-mood"),
      "Woodwork and repairs side by side: a workshop for men to make things and talk.",
      gender="male"),
    A("mens-shed-bow", "Bow Men's Shed", "mens", "bow", "wed sat", ("10:00", "14:00"),
      ("social-groups", "learning-skills"), ("loneliness-isolation",),
      "Men's workshop: woodwork, bikes and tea.", gender="male"),
    A("talking-therapy-phone", "Wellbeing Phone Check-ins", "mind", PHONE, "mon tue wed thu fri",
      ("09:00", "17:00"), ("befriending", "peer-support"), ("low-mood", "anxiety-stress"),
      "Weekly phone call with a wellbeing coach for up to eight weeks."),
    A("quiet-art", "Quiet Art Room", "arts", "bethnal", "tue", ("13:00", "15:00"),
      ("arts-creative",), ("anxiety-stress", "low-mood"),
      "A calm, quiet studio for up to 6 people: drawing and painting at your own pace.",
      capacity=(6, 2)),
    A("art-studio-open", "Open Studio Painting", "arts", "hoxton", "wed sat", ("10:00", "13:00"),
      ("arts-creative",), ("low-mood", "loneliness-isolation"),
      "Busy open studio with materials; drop in any time. £3.", cost=3),
    A("creative-writing", "Creative Writing Group", "libraries", "caledonian", "thu",
      ("18:00", "19:30"), ("arts-creative", "libraries-reading"), ("low-mood",),
      "Write and share stories and poems in a small supportive group."),
    A("pottery", "Pottery for Wellbeing", "arts", "dalston", "mon", ("13:00", "15:00"),
      ("arts-creative",), ("low-mood", "anxiety-stress"),
      "Hand-building pottery in a small group of 8; £8 including clay.", cost=8,
      capacity=(8, 3)),
    A("hearing-voices", "Hearing Voices Group", "mind", "hackneycentre", "fri",
      ("14:00", "15:30"), ("peer-support",), ("other",),
      "Peer group for people who hear voices."),
    # --- social, befriending, older people -----------------------------------------------------
    A("befriending-phone", "Telephone Befriending", "older", PHONE, "mon tue wed thu fri",
      ("10:00", "18:00"), ("befriending",), ("loneliness-isolation",),
      "A weekly friendly call from the same volunteer, for people over 60 who feel alone.",
      ages=(60, None)),
    A("befriending-home", "Home Visiting Befrienders", "older", "clapton", "mon tue wed thu fri",
      ("10:00", "17:00"), ("befriending",), ("loneliness-isolation",),
      "A volunteer visits you at home for a chat each week; Hackney residents.",
      areas=("E09000012",), ages=(60, None)),
    A("lunch-club-clapton", "Clapton Lunch Club", "older", "clapton", "tue fri",
      ("12:00", "14:00"), ("social-groups", "food-cooking"), ("loneliness-isolation",),
      "Two-course lunch and company for older people, £3.", ages=(60, None), cost=3),
    A("coffee-morning-archway", "Archway Coffee Morning", "cca", "archway", "thu",
      ("10:00", "12:00"), ("social-groups",), ("loneliness-isolation",),
      "Drop-in coffee morning, all ages welcome."),
    A("knit-natter", "Knit and Natter", "libraries", "dalston", "mon", ("14:00", "16:00"),
      ("arts-creative", "social-groups"), ("loneliness-isolation",),
      "Bring your knitting or learn; tea provided."),
    A("book-club-whitechapel", "Idea Store Book Club", "libraries", "whitechapel", "2thu",
      ("18:30", "20:00"), ("libraries-reading", "social-groups"), ("loneliness-isolation",),
      "Monthly book club; books lent free."),
    A("bingo-social", "Afternoon Bingo and Tea", "cca", "bow", "fri", ("13:30", "16:00"),
      ("social-groups",), ("loneliness-isolation",), "Bingo, raffle and tea; 50p a card.",
      cost=0.5),
    A("online-social", "Online Cuppa and Chat", "older", ONLINE, "wed", ("15:00", "16:00"),
      ("social-groups",), ("loneliness-isolation",),
      "Friendly video chat for people who cannot get out."),
    A("lgbt-social", "Rainbow Elders Social", "cca", "hoxton", "2sat", ("14:00", "17:00"),
      ("social-groups",), ("loneliness-isolation",), "Monthly social for LGBTQ+ people over 50.",
      ages=(50, None)),
    A("young-adults-social", "Young Adults Meet-up", "cca", "bethnal", "thu", ("18:00", "20:00"),
      ("social-groups",), ("loneliness-isolation",),
      "Board games and food for 18-30s.", ages=(18, 30)),
    A("heritage-tours", "Museum of the Home Heritage Club", "cca", "hoxton", "tue",
      ("11:00", "13:00"), ("heritage-museums", "social-groups"), ("loneliness-isolation",),
      "Guided talks and reminiscence sessions at the museum."),
    A("closed-social-club", "Homerton Friendship Club", "cca", "homerton", "wed",
      ("14:00", "16:00"), ("social-groups",), ("loneliness-isolation",),
      "Friendship club, closed for refurbishment.", status="temporarily closed"),
    A("summer-picnic-club", "Summer Picnic Club", "cca", "springfield", "sun",
      ("12:00", "15:00"), ("social-groups", "nature-green"), ("loneliness-isolation",),
      "Picnics in the park through the summer.", valid_to="2026-09-30"),
    A("full-lunch-club", "Stoke Newington Lunch Club", "older", "stokenewington", "wed",
      ("12:00", "14:00"), ("social-groups", "food-cooking"), ("loneliness-isolation",),
      "Popular lunch club for older people, currently full.", ages=(60, None),
      capacity=(30, 0)),
    # --- carers ------------------------------------------------------------------------------
    A("carers-cafe", "Carers' Café", "carers", "clapton", "2wed", ("10:30", "12:30"),
      ("carers-support", "peer-support"), ("carer-support",),
      "Monthly café for unpaid carers: a break, a chat and advice on carers' rights."),
    A("carers-advice-line", "Carers' Advice Line", "carers", PHONE, "mon tue wed thu fri",
      ("09:00", "17:00"), ("carers-support", "advice-welfare"), ("carer-support",),
      "Advice for unpaid carers on assessments, benefits and breaks."),
    A("carers-online", "Carers' Evening Online Group", "carers", ONLINE, "tue",
      ("20:00", "21:00"), ("carers-support", "peer-support"), ("carer-support",),
      "Peer support by video once the person you care for is in bed."),
    A("dementia-carers", "Dementia Carers Group", "carers", "holloway", "1fri",
      ("14:00", "16:00"), ("carers-support", "peer-support"), ("carer-support",),
      "Monthly support group for people caring for someone with dementia."),
    A("young-carers", "Young Carers Club", "carers", "bethnal", "wed", ("16:30", "18:30"),
      ("carers-support", "social-groups"), ("carer-support",), "For carers aged 8-17.",
      ages=(8, 17)),
    A("carers-pamper", "Carers' Relax and Pamper Day", "carers", "bow", "1sat",
      ("10:00", "15:00"), ("carers-support", "social-groups"), ("carer-support",),
      "Massage, lunch and a rest for unpaid carers, monthly."),
    # --- long-term conditions -----------------------------------------------------------------
    A("diabetes-group", "Diabetes Peer Support", "ltc", "whitechapel", "1tue",
      ("14:00", "16:00"), ("peer-support", "food-cooking"), ("long-term-condition",),
      "Monthly group on living well with type 2 diabetes; Bengali interpreter present.",
      languages=("en", "bn")),
    A("pain-management", "Living with Pain Course", "ltc", "highbury", "mon", ("10:00", "12:30"),
      ("peer-support", "learning-skills"), ("long-term-condition",),
      "Six-week self-management course for persistent pain."),
    A("stroke-club", "Stroke Survivors Club", "ltc", "stokenewington", "thu", ("14:00", "16:00"),
      ("peer-support", "social-groups"), ("long-term-condition",),
      "Weekly club for stroke survivors and their families.", eligibility="After a stroke"),
    A("heart-online", "Heart Health Online", "ltc", ONLINE, "thu", ("11:00", "12:00"),
      ("peer-support", "physical-activity"), ("long-term-condition",),
      "Live exercise and talks for people with heart conditions."),
    A("parkinsons-dance", "Dance for Parkinson's", "ltc", "dalston", "fri", ("11:00", "12:30"),
      ("dance", "peer-support"), ("long-term-condition",),
      "Dance class designed for people with Parkinson's.", eligibility="People with Parkinson's"),
    A("fatigue-online", "Long Covid and Fatigue Group", "ltc", ONLINE, "2wed",
      ("14:00", "15:00"), ("peer-support",), ("long-term-condition",),
      "Monthly online support for people with long Covid or ME/CFS."),
    # --- nature, gardening, volunteering ---------------------------------------------------
    A("community-garden-clapton", "Clapton Community Garden", "garden", "springfield", "wed sat",
      ("10:00", "13:00"), ("gardening", "nature-green"), ("low-mood", "loneliness-isolation"),
      "Grow vegetables with others; no experience needed, tools provided."),
    A("therapeutic-garden", "Therapeutic Gardening", "garden", "mileend", "tue",
      ("10:00", "12:00"), ("gardening", "nature-green"), ("anxiety-stress", "low-mood"),
      "Small quiet group of 6 with a horticultural therapist.", capacity=(6, 2)),
    A("garden-islington", "Caledonian Park Growers", "garden", "caledonian", "thu",
      ("10:00", "12:00"), ("gardening", "volunteering"), ("loneliness-isolation",),
      "Volunteer gardening in the park."),
    A("conservation-volunteers", "Lea Valley Conservation Volunteers", "walkers", "springfield",
      "sun", ("10:00", "15:00"), ("volunteering", "nature-green"), ("low-mood",),
      "Practical conservation tasks outdoors; lunch provided."),
    A("food-volunteers", "Food Bank Volunteers", "foodbank", "clapton", "mon thu",
      ("09:00", "12:00"), ("volunteering", "food-cooking"),
      ("loneliness-isolation", "employment-learning"),
      "Sort and pack food parcels with a friendly team."),
    A("library-volunteers", "Library Digital Champions", "libraries", "whitechapel", "sat",
      ("10:00", "13:00"), ("volunteering", "digital-skills"), ("employment-learning",),
      "Volunteer to help visitors get online; training given."),
    A("birdwatch", "Walthamstow Wetlands Birdwatch", "walkers", "springfield", "2sun",
      ("08:00", "10:00"), ("nature-green", "walking"), ("anxiety-stress",),
      "Monthly quiet early-morning birdwatching walk."),
    # --- digital, learning --------------------------------------------------------------------
    A("digital-drop-in", "Get Online Drop-in", "digital", "dalston", "wed", ("10:00", "12:00"),
      ("digital-skills",), (),
      "One-to-one help with phones, tablets and email. Large print guides."),
    A("digital-phone-help", "Tech Help by Phone", "digital", PHONE, "mon thu",
      ("10:00", "16:00"), ("digital-skills",), (),
      "Help over the phone setting up a smartphone or video calls."),
    A("digital-bengali", "Smartphone Class in Bengali", "digital", "stepney", "mon",
      ("13:00", "15:00"), ("digital-skills", "learning-skills"), (),
      "Learn WhatsApp, NHS app and video calls, taught in Bengali.", languages=("bn",)),
    A("adult-learning", "Adult Learning Taster Courses", "libraries", "holloway", "tue",
      ("18:00", "20:00"), ("learning-skills",), ("employment-learning",),
      "Short courses in maths, English and computing; free for those on benefits.", cost=10),
    A("cooking-men", "Men Cook Too", "foodbank", "bow", "thu", ("17:00", "19:00"),
      ("food-cooking", "social-groups"), ("loneliness-isolation",),
      "Cook and eat together; for men living alone.", gender="male"),
    A("hybrid-book-club", "Book Club (in person and online)", "libraries",
      ("caledonian", ONLINE), "1mon", ("18:00", "19:30"),
      ("libraries-reading", "social-groups"), ("loneliness-isolation",),
      "Monthly book club that meets at the library and on video at the same time."),
    A("hybrid-singing", "Singing for the Brain (hybrid)", "singing", ("clapton", ONLINE), "fri",
      ("14:00", "15:30"), ("music-singing",), ("long-term-condition",),
      "Singing for people with dementia and their carers, in the hall or on video.",
      eligibility="People living with dementia and their carers"),
    A("hybrid-anxiety-course", "Stress Control (hall or online)", "mind",
      ("holloway", ONLINE), "mon", ("13:00", "14:30"), ("learning-skills", "peer-support"),
      ("anxiety-stress",), "Six-session stress control course, join in the hall or online."),
    A("dance-bengali-women", "Women's Zumba (Bengali-speaking instructor)", "bengali",
      "brickhall", "sat", ("11:00", "12:00"), ("dance", "physical-activity"),
      ("physical-inactivity",), "Women-only Zumba with a Bengali-speaking instructor.",
      gender="female", languages=("bn", "en")),
    A("somali-walk-women", "Somali Women's Walking Group", "somali", "mileend", "mon",
      ("10:00", "11:30"), ("walking", "social-groups"), ("physical-inactivity",),
      "Walk and talk in Somali around Mile End Park.", gender="female", languages=("so",)),
    A("turkish-exercise-women", "Kadınlar için Egzersiz (Women's Exercise in Turkish)",
      "turkish", "homerton", "thu", ("10:00", "11:00"), ("physical-activity",),
      ("physical-inactivity",), "Gentle exercise class for women, in Turkish.", gender="female",
      languages=("tr",)),
    A("mens-walk", "Men's Walking Group", "walkers", "clissold", "fri", ("11:00", "12:30"),
      ("walking", "social-groups"), ("physical-inactivity", "loneliness-isolation"),
      "Friendly walk and talk for men.", gender="male"),
    A("gamblers-support", "Gambling Harm Support Group", "mind", "hackneycentre", "tue",
      ("18:00", "19:30"), ("peer-support",), ("debt-finance", "other"),
      "Peer support for people harmed by gambling, with debt advice on hand."),
    A("bsl-social", "Deaf Social Club (BSL)", "cca", "whitechapel", "1fri", ("18:00", "21:00"),
      ("social-groups",), ("loneliness-isolation",),
      "Monthly social in British Sign Language.", languages=("bfi",)),
    A("tenants-association", "Tenants' Rights Workshop", "eemoney", "bethnal", "3wed",
      ("18:00", "20:00"), ("advice-welfare", "learning-skills"), ("housing",),
      "Monthly workshop on tenants' rights, repairs and rent increases."),
    A("grief-art", "Art for Grief", "lossandhope", "tufnell", "wed", ("14:00", "16:00"),
      ("bereavement-support", "arts-creative"), ("bereavement",),
      "Small art group for people grieving, upstairs room.", capacity=(8, 3)),
    A("bereavement-counselling", "Bereavement Counselling (waiting list)", "lossandhope",
      "holloway", "mon tue wed thu", ("09:00", "17:00"), ("bereavement-support",),
      ("bereavement",), "One-to-one counselling; currently full.", capacity=(20, 0)),
)


def _location(key: str) -> dict[str, Any]:
    name, address, postcode, lat, lon, access = VENUES[key]
    return {
        "location": {
            "id": f"loc-{key}",
            "name": name,
            "location_type": "physical",
            "latitude": lat,
            "longitude": lon,
            "addresses": [
                {"address_1": address, "city": "London", "postal_code": postcode,
                 "country": "GB", "address_type": "physical"}
            ],
            "accessibility": [{"description": access}],
        }
    }


def _schedules(a: A) -> list[dict[str, Any]]:
    monthly = [d for d in a.days.split() if d[0].isdigit() or d[0] == "-"]
    weekly = [d for d in a.days.split() if d not in monthly]
    out = []
    for freq, days in (("WEEKLY", weekly), ("MONTHLY", monthly)):
        if days:
            byday = ",".join(d[:-3] + DAYS[d[-3:]] for d in days)
            out.append({"freq": freq, "byday": byday, "opens_at": a.hours[0],
                        "closes_at": a.hours[1], "valid_from": "2026-01-01",
                        **({"valid_to": a.valid_to} if a.valid_to else {})})
    return out


def service(a: A) -> dict[str, Any]:
    """One activity as an ORUK service (HSDS 3.0 UK profile, fully nested)."""
    places = a.where if isinstance(a.where, tuple) else (a.where,)
    venues = [p for p in places if p not in (ONLINE, PHONE)]
    attending = (
        "hybrid" if venues and ONLINE in places
        else "in-person" if venues else "online" if ONLINE in places else "phone"
    )
    org_name, charity = ORGANISATIONS[a.org]
    row: dict[str, Any] = {
        "id": f"bench-{a.id}",
        "name": a.name,
        "description": a.description,
        "status": a.status,
        "attending_type": attending,
        "organization": {
            "id": f"bench-org-{a.org}",
            "name": org_name,
            "organization_identifiers": [
                {"identifier_scheme": "GB-CHC", "identifier_type": "charity", "identifier": charity}
            ],
        },
        "minimum_age": a.ages[0],
        "maximum_age": a.ages[1],
        "eligibility": {"description": a.eligibility, "gender": a.gender},
        "service_at_locations": [_location(v) for v in venues],
        "schedules": _schedules(a),
        "attributes": [
            {"taxonomy_term": {"id": code, "name": code, "taxonomy": "activity-category"}}
            for code in a.categories
        ]
        + [{"taxonomy_term": {"id": code, "name": code, "taxonomy": "need"}} for code in a.needs],
        "cost_options": [
            {"amount": a.cost, "currency": "GBP", "option": "per session"}
            if a.cost else {"amount": 0, "currency": "GBP", "option": "Free"}
        ],
        "languages": [{"code": code} for code in a.languages],
        "service_areas": [{"extent": code} for code in a.areas],
    }
    if a.capacity is not None:
        row["capacities"] = [{"maximum": a.capacity[0], "available": a.capacity[1]}]
    return row


def services() -> list[dict[str, Any]]:
    """The whole directory as the list of ORUK services the import accepts."""
    return [service(a) for a in ACTIVITIES]


def activity_ids() -> set[str]:
    return {f"bench-{a.id}" for a in ACTIVITIES}


if __name__ == "__main__":
    print(json.dumps(services(), indent=1, ensure_ascii=False))
