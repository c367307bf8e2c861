"""A deterministic generator of realistic creator posts for the benchmarks.

The captions are built to look (to a tokenizer and to the engine) like real
Instagram/TikTok/YouTube captions:

* length: log-normal with a median of about 350 characters and a long tail up to
  each platform's limit (Instagram and TikTok 2,200, YouTube descriptions ~3,000,
  X/Twitter 280, Bluesky 300, Mastodon 500);
* several sentences of casual English per post, ~10% Spanish, German or French;
* emoji-dense: an emoji run every ~6-10 words, runs of 1-4, some glued to the
  word before, with skin-tone modifiers, ZWJ sequences (👩‍💻, 🏃🏽‍♀️), flags and
  variation selectors;
* line breaks, ``.\\n.\\n.`` spacers, @mentions, photo credits, a trailing block of
  5-30 hashtags on many posts, URLs on some;
* ~35% sponsored (the record's ``sponsored`` label, a field the input reader
  accepts and ignores); promo codes on ~15% of all posts; a disclosure on ~25% of
  the sponsored ones, at the start, at the end or buried in the hashtag pile;
  ambiguous tags (#sp, #spon, #collab) and traps (#adventure, #adidas, "add",
  #adulting, "Ad" as a name) that must not count as disclosures.

Records follow the JSON Lines input schema of ``compliance check --input``: id,
platform, caption, author, posted_at, sometimes paid_partnership, sometimes
campaign, plus ``sponsored`` (the generator's ground truth).

Import it (``generate(n, seed=0)``) or run it::

    python bench/corpus.py -n 40000 -o /tmp/posts.jsonl [--seed 0] [--check]

``--check`` also times a warm ``spacy.blank("en").tokenizer.pipe`` pass over the
captions, the yardstick the project's performance targets are stated against
(about 4,000-7,000 captions/s on the project's 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

# --- Platforms -----------------------------------------------------------------------

PLATFORM_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("tiktok", 0.40),
    ("instagram", 0.35),
    ("youtube", 0.10),
    ("twitter", 0.05),
    ("facebook", 0.04),
    ("pinterest", 0.03),
    ("twitch", 0.015),
    ("bluesky", 0.01),
    ("mastodon", 0.005),
)
CAPTION_LIMITS = {
    "instagram": 2200,
    "tiktok": 2200,
    "youtube": 3000,
    "twitter": 280,
    "bluesky": 300,
    "mastodon": 500,
    "facebook": 2200,
    "pinterest": 500,
    "twitch": 300,
}
# Typical captions are shorter on the short-form text platforms.
LENGTH_MEDIAN = {"twitter": 160, "bluesky": 170, "twitch": 140, "pinterest": 220, "mastodon": 260}
DEFAULT_MEDIAN = 225  # log-normal median of the *target*; the result's median is ~350
LENGTH_SIGMA = 0.72

SPONSORED_SHARE = 0.35
DISCLOSED_SHARE = 0.25  # of sponsored posts
PROMO_SHARE = 0.15  # of all posts
FOREIGN_SHARE = 0.10
COMPOUND_TAG_SHARE = 0.75  # of hashtags in a block that are coined compounds
TYPO_RATE = 0.025  # of words: two letters swapped
ELONGATION_RATE = 0.25  # of the words people stretch ("sooo", "yesss")
EMOJI_PER_WORD = 0.1  # chance of an emoji run after a word inside a sentence
EMOJI_PER_SENTENCE = 0.4  # chance of an emoji run closing a sentence

# --- Emoji ---------------------------------------------------------------------------

_SKIN = ("\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff")
_PLAIN_EMOJI = (
    "✨ 🔥 😍 💕 🙌 😂 🥰 💯 👏 🌸 🌊 🍕 💪 😭 🤍 🖤 💜 💙 💚 💛 🧡 🤎 🥹 😅 🤩 😎 🫶 👀 💅 "
    "🌿 🍃 🌞 🌙 ⭐ 🌈 🍓 🥑 🍋 🥂 🍾 🍷 ☕ 🧋 🍰 🎂 🎉 🎶 🎧 📸 🎥 💄 👗 👟 👜 🛍 🧴 🧖 "
    "🏖 🏝 🗺 🚗 🚀 💻 📱 🎮 🐶 🐱 🐾 🌻 🌷 🍂 ❄ 🎄 💫 🙏 🤞 👋 👌 🤙 🥳 😴 🤤 😋 🤯 🫠 "
    "💖 💗 💓 💞 🌺 🥗 🍜 🍣 🌮 🍔 🏋 🧘 🚴 🏄 ⚡ 💎 🪴 🕯 🧁 🍩 🥐 🫐"
).split()
# Emoji that take a variation selector in the wild (❤️ ☀️ ✔️).
_VS16_EMOJI = ("❤", "☀", "✔", "☺", "✌", "❣", "☁", "⛰", "✈", "☘", "♥", "⚽")
_SKINNABLE = ("👍", "🙌", "💪", "👋", "👌", "🤞", "👏", "🙏", "✌", "🤙", "💅", "🫶", "👊")
_ZWJ = (
    "👩\u200d💻",
    "👨\u200d🍳",
    "👩\u200d🍳",
    "👩\u200d🎤",
    "🧑\u200d🎨",
    "👨\u200d👩\u200d👧",
    "👩\u200d👩\u200d👦",
    "🏳️\u200d🌈",
    "🧑\u200d🤝\u200d🧑",
    "❤️\u200d🔥",
    "😮\u200d💨",
    "🐻\u200d❄️",
    "🏃\u200d♀️",
    "🏋️\u200d♀️",
    "🤷\u200d♀️",
    "🤦\u200d♂️",
    "🧘\u200d♀️",
    "🚴\u200d♂️",
)
_SKIN_ZWJ = (
    "🏃{}\u200d♀️",
    "🤷{}\u200d♀️",
    "🤦{}\u200d♀️",
    "🧘{}\u200d♀️",
    "👩{}\u200d💻",
    "🙋{}\u200d♀️",
)
_FLAGS = tuple(
    "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in cc)
    for cc in "US GB ES FR DE IT MX JP BR CA AU PT GR TH ID NL KR".split()
)


def _emoji(rng: random.Random) -> str:
    """One emoji, drawn so that ~25% carry a modifier, a ZWJ sequence, a flag or VS16."""
    r = rng.random()
    if r < 0.72:
        return rng.choice(_PLAIN_EMOJI)
    if r < 0.80:
        return rng.choice(_VS16_EMOJI) + "\ufe0f"
    if r < 0.88:
        return rng.choice(_SKINNABLE) + rng.choice(_SKIN)
    if r < 0.93:
        return rng.choice(_ZWJ)
    if r < 0.96:
        return rng.choice(_SKIN_ZWJ).format(rng.choice(_SKIN))
    return rng.choice(_FLAGS)


def _emoji_run(rng: random.Random) -> str:
    """A run of 1-4 emoji, often the same one repeated (🔥🔥🔥)."""
    n = rng.choices((1, 2, 3, 4), weights=(42, 30, 18, 10))[0]
    if n > 1 and rng.random() < 0.35:
        return _emoji(rng) * n
    return "".join(_emoji(rng) for _ in range(n))


# --- Words ---------------------------------------------------------------------------

TOPICS = ("beauty", "fitness", "food", "travel", "fashion", "tech", "home", "parenting", "pets")

_PRODUCTS: dict[str, tuple[str, ...]] = {
    "beauty": tuple(
        "serum|moisturizer|lip oil|mascara|foundation|concealer|toner|cleanser|sunscreen|blush|"
        "highlighter|eyeliner|primer|setting spray|face mask|retinol|night cream|brow gel|"
        "lip liner|bronzer|hair mask|dry shampoo|curl cream|lip gloss|eye cream|cleansing balm|"
        "vitamin C serum|tinted moisturizer|body lotion|hair oil".split("|")
    ),
    "fitness": tuple(
        "protein powder|pre-workout|leggings|sports bra|running shoes|resistance bands|"
        "kettlebell|yoga mat|smart watch|water bottle|shaker|creatine|recovery drink|foam roller|"
        "gym bag|lifting straps|electrolytes|massage gun|protein bar|training shorts".split("|")
    ),
    "food": tuple(
        "pasta sauce|granola|oat milk|cold brew|hot sauce|protein bar|meal kit|smoothie|"
        "sourdough|olive oil|matcha|kombucha|spice blend|frozen pizza|ramen|snack box|"
        "chili crisp|nut butter|sparkling water|pancake mix|bone broth|iced coffee".split("|")
    ),
    "travel": tuple(
        "suitcase|carry-on|travel pillow|hotel|resort|boutique hotel|villa|camera|backpack|"
        "packing cubes|headphones|rooftop bar|guesthouse|rental car|cabin|travel adapter|"
        "luggage tag|day pack|beach towel|travel journal".split("|")
    ),
    "fashion": tuple(
        "denim jacket|linen set|summer dress|sneakers|tote bag|sunglasses|trench coat|"
        "cargo pants|knit sweater|slip dress|loafers|bucket hat|gold hoops|mini skirt|"
        "leather belt|ballet flats|oversized blazer|crossbody bag|white tee|wide leg jeans".split(
            "|"
        )
    ),
    "tech": tuple(
        "phone case|laptop stand|mechanical keyboard|earbuds|ring light|microphone|tablet|"
        "power bank|webcam|monitor|gaming chair|controller|smart speaker|phone|laptop|"
        "charging cable|desk mat|streaming deck|e-reader|action camera".split("|")
    ),
    "home": tuple(
        "candle|diffuser|throw blanket|air fryer|robot vacuum|coffee machine|bedding set|"
        "plant pot|duvet cover|rug|storage baskets|blender|mattress|floor lamp|linen sheets|"
        "shower head|dish soap|laundry detergent|wall art|mirror".split("|")
    ),
    "parenting": tuple(
        "stroller|baby carrier|diaper bag|teething toy|bottle warmer|play mat|baby monitor|"
        "kids snacks|car seat|sippy cup|sound machine|swaddle|high chair|bath toys|"
        "lunch box|kids shoes".split("|")
    ),
    "pets": tuple(
        "dog food|cat tree|chew toy|harness|pet bed|grooming kit|treat pouch|litter|leash|"
        "dog shampoo|cat food|water fountain|lick mat|dog jacket|scratching post|dental chews".split(
            "|"
        )
    ),
}
_ADJ = tuple(
    "amazing|gorgeous|insane|unreal|underrated|lightweight|cozy|dreamy|perfect|iconic|elite|"
    "cute|so good|the best|so soft|buttery smooth|game-changing|next level|budget-friendly|"
    "glowy|hydrating|silky|spicy|crispy|fresh|comfy|sturdy|sleek|minimal|bold|vibrant|"
    "chef's kiss|lowkey amazing|actually good|worth it".split("|")
)
_PLACES = (
    "Lisbon|Bali|Tulum|Paris|the Amalfi coast|Tokyo|Mexico City|Santorini|Bangkok|Cape Town|"
    "Barcelona|NYC|LA|Austin|Nashville|Miami|Seoul|Marrakech|Iceland|the Dolomites|Lake Como|"
    "Joshua Tree|Big Sur|Mykonos|Kyoto|Berlin|London|Copenhagen"
).split("|")
_TIMES = (
    "this morning",
    "last night",
    "today",
    "this week",
    "all month",
    "over the weekend",
    "every single day",
    "for 3 weeks now",
    "since January",
    "after work",
    "on my day off",
    "before my shift",
)
_PEOPLE = (
    "my bestie",
    "my mom",
    "my sister",
    "the hubby",
    "my bf",
    "my gf",
    "the kids",
    "my roommate",
    "my trainer",
    "my whole family",
    "the girls",
    "my dog",
)
_FIRST = (
    "maya sofia lena chloe jess ava mia zoe nina lily emma kayla tasha priya aisha hana yuki "
    "marco leo sam alex jordan ty noah eli kai luca omar diego ben max theo jay ryan chris dani"
).split()
_LAST_BITS = (
    "moves eats glow fit travels style home life codes cooks lifts runs plays makes reads "
    "beauty wellness daily vibes journal diaries studio creates films world"
).split()
_BRAND_A = (
    "glow lumi sol nova pure terra velvet bloom ember kind wild bare true flux peak north "
    "olive coco mint luna aura sage cloud oak urban zen fresh happy golden"
).split()
_BRAND_B = (
    "lab skin co beauty labs wear fit foods kitchen studio goods threads home tech audio "
    "botanics naturals nutrition active supply collective society house"
).split()

_LINK_DOMAINS = (
    "linktr.ee/{h}",
    "beacons.ai/{h}",
    "stan.store/{h}",
    "{b}.com",
    "www.{b}.com/shop",
    "https://{b}.com/products/{p}",
    "https://shopmy.us/{h}",
    "https://liketk.it/{x}",
    "https://amzn.to/{x}",
    "https://rstyle.me/+{x}",
    "https://{b}.com/?ref={h}",
    "https://youtu.be/{x}",
    "https://bit.ly/{x}",
)

# Sentence templates. Slots: {p} product, {a} adjective, {t} time, {pl} place,
# {pe} person, {m} a @mention of a friend, {n} a number.
_SENTENCES: dict[str, tuple[str, ...]] = {
    "any": (
        "ok I'm actually obsessed with this {p}",
        "not me using this {p} {t} again",
        "{t} was a whole vibe tbh",
        "y'all asked so here it is",
        "honestly didn't expect to love it this much",
        "swipe to see the before and after",
        "comment below if you want a part {n}",
        "save this for later, you'll thank me",
        "this is your sign to try it",
        "I've been testing this {t} and here are my thoughts",
        "can we talk about how {a} this is",
        "POV: you finally found the {p} of your dreams",
        "little update on life lately",
        "trying to be more consistent with posting here",
        "let me know what you think in the comments",
        "{pe} keeps stealing mine lol",
        "it's giving main character energy",
        "no thoughts just vibes",
        "rating everything I tried {t}",
        "drop a {e} if you relate",
        "the way I screamed when I saw this",
        "still thinking about {t} ngl",
        "shot this with {m} and we couldn't stop laughing",
        "who else is obsessed with {p} content",
        "I promise this isn't a phase",
        "been a crazy week but we made it",
        "tag someone who needs to see this",
        "part {n} of my {a} series",
        "follow for more {a} stuff",
        "link is in my bio if you want the details",
        "answering your questions from my last post",
        "I had to add this to my routine",
        "don't forget to add it to your cart before it sells out",
        "Ad from accounting keeps asking me for recs lol",
        "ranked from worst to best",
        "no gatekeeping here, here's everything I use",
        "ignore the mess in the background",
        "happy friday everyone",
        "Monday motivation because we all need it",
        "the comments on my last video were so sweet thank you",
        "if you know you know",
        "this took me {n} tries to film",
        "okay but why is nobody talking about this",
        "reminder to drink your water and be kind to yourself",
        "3 things I wish I knew sooner",
        "would you try this",
        "everyone's been asking about my {p}",
        "adding this to the list of things I can't live without",
    ),
    "beauty": (
        "my skin has never looked this {a}",
        "full glam in under {n} minutes with this {p}",
        "this {p} is {a} for dry skin",
        "shade match is {a}, I'm wearing the lightest one",
        "get ready with me for date night",
        "my current skincare routine, morning edition",
        "the {p} that finally fixed my texture",
        "wore this for {n} hours and it didn't budge",
        "dewy skin season is officially here",
        "no filter, just a good {p}",
    ),
    "fitness": (
        "leg day done and I can't feel my legs",
        "new PR on deadlifts today, {n} kg",
        "fueling up with my {p} before training",
        "this {p} makes early workouts so much easier",
        "{n} weeks progress, consistency is everything",
        "full body workout you can do at home",
        "my trainer said this was {a} form so I'm taking it",
        "rest days are part of the plan too",
        "hit {n}k steps {t}",
        "this hybrid training block is no joke",
    ),
    "food": (
        "made this {p} {t} and it was {a}",
        "easy dinner idea that takes {n} minutes",
        "recipe is in the caption, save it",
        "this {p} slaps, no notes",
        "meal prep Sunday is back",
        "trying every {p} in {pl} so you don't have to",
        "the crunch on this is {a}",
        "high protein and actually tastes good",
        "brunch with {pe} was exactly what I needed",
        "5 ingredients, one pan, zero stress",
    ),
    "travel": (
        "{n} days in {pl} and I never want to leave",
        "sunset in {pl} hits different",
        "hidden gem alert in {pl}",
        "woke up to this view {t}",
        "everything I packed for {n} days in {pl}",
        "this {p} made the trip so much easier",
        "best coffee I've had in {pl}",
        "itinerary for {pl} in the comments",
        "we got lost in {pl} and found this",
        "travel tip: book early and go midweek",
    ),
    "fashion": (
        "outfit details for {t}",
        "styled this {p} {n} ways",
        "this {p} goes with literally everything",
        "fit check before brunch",
        "thrifted vs new, can you tell",
        "capsule wardrobe update for the season",
        "found the {a} {p} and I'm not sharing",
        "size up in this one, runs small",
        "wearing my {p} on repeat {t}",
        "neutral tones forever",
    ),
    "tech": (
        "my desk setup is finally done",
        "this {p} changed my workflow",
        "unboxing the new {p}",
        "battery lasts {n} hours which is {a}",
        "honest review after {n} weeks",
        "what's on my phone {t}",
        "the {p} I use to film all my videos",
        "gaming setup tour part {n}",
        "sound quality is {a} for the price",
        "productivity apps I actually use",
    ),
    "home": (
        "apartment refresh on a budget",
        "this {p} makes the room so {a}",
        "cleaning motivation for the weekend",
        "our living room makeover is done",
        "small space hacks that actually work",
        "the {p} everyone asks about",
        "sunday reset routine",
        "cozy corner update",
        "before and after of the bedroom",
        "organising my pantry with {pe}",
    ),
    "parenting": (
        "mom life is {a} and exhausting",
        "the {p} that saved our mornings",
        "toddler approved, that's all that matters",
        "first day of school feels",
        "what's in our diaper bag {t}",
        "bedtime routine that actually works",
        "this {p} is a lifesaver",
        "{pe} made breakfast and it was chaos",
        "parenting hack you didn't know you needed",
        "we survived another week",
    ),
    "pets": (
        "he gets so excited for his {p}",
        "she approves of the new {p}",
        "zoomies at {n}am",
        "spoiled? never heard of her",
        "tried the {p} everyone's talking about",
        "adopt don't shop",
        "walkies with {pe}",
        "his face when he hears the treat bag",
        "ten out of ten good boy",
        "nap time is the best time",
    ),
}

_FOREIGN: dict[str, tuple[str, ...]] = {
    "es": (
        "no puedo con lo bonito que quedó",
        "llevo {n} días usando este {p} y estoy enamorada",
        "hoy les traigo algo diferente",
        "este lugar en {pl} es un sueño",
        "qué opinan, ¿me queda bien?",
        "la verdad es que no me arrepiento",
        "mi {p} favorito de toda la vida",
        "ya saben que los amo",
        "día de descanso con mi familia",
        "no olviden seguirme para más contenido",
        "esto cambió mi rutina por completo",
        "les comparto mi rutina de mañana",
        "este {p} es increíble, lo amo",
        "qué día tan bonito en {pl}",
        "gracias por todo el apoyo, los quiero",
        "guarda este video para después",
        "probando cosas nuevas esta semana",
        "mi lugar favorito para desayunar",
        "no me lo esperaba para nada",
        "cuéntenme en los comentarios qué opinan",
    ),
    "de": (
        "ich bin so verliebt in diesen Look",
        "seit {n} Tagen benutze ich dieses {p} und bin begeistert",
        "heute zeige ich euch etwas Neues",
        "dieser Ort in {pl} ist ein Traum",
        "was sagt ihr, steht mir das",
        "ehrlich gesagt bereue ich nichts",
        "mein liebstes {p} aller Zeiten",
        "ihr wisst, dass ich euch liebe",
        "entspannter Sonntag mit der Familie",
        "folgt mir für mehr Inhalte",
        "das hat meine Routine komplett verändert",
        "meine Morgenroutine für euch",
        "das {p} ist echt der Wahnsinn",
        "endlich wieder Sonne in {pl}",
        "danke für eure lieben Nachrichten",
        "speichert euch das Video für später",
        "heute gibt es etwas ganz Neues",
        "mein Lieblingscafé in der Stadt",
        "habt ihr das schon ausprobiert",
        "schreibt mir eure Meinung in die Kommentare",
    ),
    "fr": (
        "je suis tellement fan de ce look",
        "ça fait {n} jours que j'utilise ce {p} et je l'adore",
        "aujourd'hui je vous montre quelque chose de nouveau",
        "cet endroit à {pl} est un rêve",
        "vous en pensez quoi, ça me va",
        "franchement je ne regrette rien",
        "mon {p} préféré de tous les temps",
        "vous savez que je vous aime",
        "dimanche tranquille en famille",
        "abonnez-vous pour plus de contenu",
        "ça a complètement changé ma routine",
        "ma routine du matin pour vous",
        "ce {p} est vraiment incroyable",
        "journée parfaite à {pl}",
        "merci pour tous vos messages",
        "enregistre cette vidéo pour plus tard",
        "on teste quelque chose de nouveau",
        "mon café préféré du quartier",
        "vous avez déjà essayé",
        "dites-moi tout en commentaire",
    ),
}
_FOREIGN_TAGS = {
    "es": "viral parati fyp estilo belleza viajes comida recetas moda amor".split(),
    "de": "liebe reisen essen mode schönheit alltag sport fyp foryou deutschland".split(),
    "fr": "amour voyage cuisine mode beauté quotidien sport pourtoi france paris".split(),
}
_FOREIGN_DISCLOSURES = {
    "es": ("#publicidad", "Publicidad |", "#patrocinado", "colaboración pagada con @{b}"),
    "de": ("Werbung |", "#werbung", "Anzeige:", "#anzeige"),
    "fr": ("#publicité", "Publicité |", "collaboration commerciale avec @{b}", "#pub"),
}

_GENERIC_TAGS = (
    "fyp foryou foryoupage viral trending explore explorepage instagood photooftheday love "
    "instadaily reels reelsinstagram tiktokmademebuyit amazonfinds dayinmylife grwm ootd "
    "selfcare motivation lifestyle aesthetic vlog weekendvibes mondaymotivation contentcreator "
    "smallcreator relatable funny couplegoals momlife"
).split()
_TOPIC_TAGS = {
    "beauty": "skincare makeup skincareroutine glowyskin beautytips makeuptutorial cleanbeauty "
    "skincaretips grwmmakeup beautyhacks dewyskin lipcombo".split(),
    "fitness": "fitness gym workout fitnessmotivation gymtok legday homeworkout fitfam "
    "strengthtraining runner protein gains".split(),
    "food": "foodie recipe easyrecipes foodtok healthyfood mealprep dinnerideas baking "
    "brunch comfortfood foodporn homecooking".split(),
    "travel": "travel wanderlust travelgram traveltok bucketlist vacation beachvibes "
    "travelblogger hiddengems solotravel roadtrip".split(),
    "fashion": "fashion outfitinspo ootd styleinspo thrifted streetstyle fashiontok "
    "capsulewardrobe outfitideas fitcheck".split(),
    "tech": "tech desksetup gadgets techtok gaming setup productivity unboxing techreview "
    "pcbuild workfromhome".split(),
    "home": "homedecor interiordesign cleantok organization cozyhome homemakeover "
    "apartmenttherapy smallspace diy".split(),
    "parenting": "momlife parenting toddlermom dadlife motherhood babytok familytime "
    "momhacks newmom".split(),
    "pets": "dogsofinstagram catsoftiktok puppy doglover petsofinstagram goldenretriever "
    "rescuedog catlife".split(),
}
# Hashtags that start with "ad"/contain brand-like words but disclose nothing.
_TRAP_TAGS = (
    "adventure adventuretime adidas adidasoriginals adulting adorable addicted advice "
    "adayinthelife adhd adoptdontshop advent adelaide adrenaline adultingishard "
    "partnerworkout lifepartner gympartner partnerinCrime "
    "sponsorme spacollective spf sport"
).split()
_AMBIGUOUS = ("#sp", "#spon", "#collab", "#partner", "#ambassador", "#pr", "#gift", "#thanks{bt}")
_CLEAR_DISCLOSURES_START = (
    "#ad",
    "#Ad",
    "AD |",
    "Ad:",
    "#sponsored",
    "Sponsored:",
    "[AD]",
    "#gifted",
    "Paid partnership with @{b}",
    "#ad #{b}partner",
)
_CLEAR_DISCLOSURES_END = (
    "#ad",
    "#sponsored",
    "Thanks @{b} for sponsoring this post! #ad",
    "This post is sponsored by @{b}.",
    "#{b}partner",
    "#{b}ambassador",
    "#gifted",
    "gifted by @{b}",
    "I earn a commission from purchases made through my links.",
    "#paidpartnership",
    "In partnership with @{b}.",
)
_BURIED_DISCLOSURES = ("#ad", "#sponsored", "#gifted", "#{b}partner", "#paid", "#ads")


class _Ctx:
    """Per-post choices shared by the pieces of a caption."""

    __slots__ = ("brand", "brand_handle", "friends", "lang", "rng", "sponsored", "topic")

    def __init__(
        self, rng: random.Random, topic: str, lang: str, brand: str, sponsored: bool
    ) -> None:
        self.rng = rng
        self.sponsored = sponsored
        self.topic = topic
        self.lang = lang
        self.brand = brand
        self.brand_handle = brand.replace(" ", "").lower()
        self.friends = [_handle(rng) for _ in range(rng.randint(1, 3))]


def _handle(rng: random.Random) -> str:
    """A creator-style handle: maya.moves, theo_eats22, jessglowdaily."""
    first = rng.choice(_FIRST)
    sep = rng.choice(("", ".", "_", ""))
    tail = rng.choice(_LAST_BITS)
    num = str(rng.randint(1, 99)) if rng.random() < 0.3 else ""
    return f"{first}{sep}{tail}{num}"


def _brand(rng: random.Random) -> str:
    """A made-up brand name such as 'Lumi Skin' or 'Terra Labs'."""
    return f"{rng.choice(_BRAND_A).title()} {rng.choice(_BRAND_B).title()}"


def _fill(template: str, ctx: _Ctx) -> str:
    """Fill a sentence template's slots."""
    rng = ctx.rng
    if "{" not in template:
        return template
    return template.format(
        p=rng.choice(_PRODUCTS[ctx.topic]),
        a=rng.choice(_ADJ),
        t=rng.choice(_TIMES),
        pl=rng.choice(_PLACES),
        pe=rng.choice(_PEOPLE),
        m="@" + rng.choice(ctx.friends),
        n=rng.randint(2, 30),
        e=_emoji(rng),
        b=ctx.brand_handle,
    )


_OPENERS = (
    "omg",
    "ngl",
    "lowkey",
    "okay so",
    "honestly",
    "PSA:",
    "update:",
    "not gonna lie,",
    "real talk:",
    "y'all,",
    "ok but",
    "fun fact:",
    "guys.",
    "wait",
    "yes I know,",
)
_CLOSERS = (
    "and I'm not even sorry",
    "fr",
    "no cap",
    "tbh",
    "istg",
    "and honestly same",
    "10/10 would recommend",
    "which is wild",
    "don't @ me",
    "for real this time",
    "lol",
    "haha",
    "I'm crying",
    "send help",
)


_STRETCHY = frozenset(
    "so yes omg love way obsessed good soft my no please wait okay ok girl cute hi guys "
    "yum sooo yay ugh literally really".split()
)


def _mutate(word: str, rng: random.Random) -> str:
    """Typos and elongations ("sooo", "yesss") as people type them."""
    r = rng.random()
    if r < TYPO_RATE and len(word) > 3 and word.isalpha():
        i = rng.randrange(len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if r < TYPO_RATE + ELONGATION_RATE and word.lower() in _STRETCHY:
        return word + word[-1] * rng.randint(1, 4)
    return word


class _Pool:
    """Sentence templates of a post, drawn without repeats until they run out."""

    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx
        self.left: list[str] = []

    def _refill(self) -> None:
        ctx = self.ctx
        pool = list(_SENTENCES["any"]) + list(_SENTENCES[ctx.topic]) * 2
        if ctx.lang != "en":
            pool = list(_FOREIGN[ctx.lang]) * 12 + pool
        ctx.rng.shuffle(pool)
        self.left = pool

    def next(self) -> str:
        if not self.left:
            self._refill()
        return self.left.pop()


def _sentence(ctx: _Ctx, pool: _Pool) -> str:
    """One casual sentence with its closing punctuation and some emoji."""
    rng = ctx.rng
    s = _fill(pool.next(), ctx)
    if rng.random() < 0.2:
        s = f"{rng.choice(_OPENERS)} {s}"
    if rng.random() < 0.12:
        s = f"{s} {rng.choice(_CLOSERS)}"
    r = rng.random()
    if r < 0.04 and len(s) < 60:
        s = s.upper()
    elif r < 0.6:
        s = s[0].upper() + s[1:]
    words = s.split(" ")
    # An emoji run every ~6-10 words: glued to the word before it half the time.
    out: list[str] = []
    for i, w in enumerate(words):
        out.append(_mutate(w, rng))
        if i < len(words) - 1 and rng.random() < EMOJI_PER_WORD:
            run = _emoji_run(rng)
            if rng.random() < 0.5:
                out[-1] += run
            else:
                out.append(run)
    s = " ".join(out)
    end = rng.choices(
        ("", ".", "!", "!!", "!!!", "?", "...", " lol", " 😂"), (22, 22, 16, 6, 4, 6, 8, 4, 3)
    )[0]
    s += end
    if rng.random() < EMOJI_PER_SENTENCE:
        s += (" " if rng.random() < 0.6 else "") + _emoji_run(rng)
    return s


def _sentences(ctx: _Ctx, target: int) -> list[str]:
    """Sentences until about ``target`` characters."""
    pool = _Pool(ctx)
    out: list[str] = []
    size = 0
    while size < target:
        s = _sentence(ctx, pool)
        out.append(s)
        size += len(s) + 1
    return out


_TAG_SUFFIXES = (
    "tok life lover lovers addict goals inspo vibes daily diaries gram ofinstagram oftiktok "
    "community club era check hack hacks tips 2024 2025 season time mood"
).split()
_TAG_PREFIXES = "my the best daily new summer winter fall spring weekend sunday cozy".split()


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _compound_tag(ctx: _Ctx) -> str:
    """A long-tail hashtag as creators coin them: #sundaymorningvibes, #lumiskinglow."""
    rng = ctx.rng
    r = rng.random()
    if r < 0.25:
        return _squash(rng.choice(_PRODUCTS[ctx.topic])) + rng.choice(_TAG_SUFFIXES)
    if r < 0.45:
        return rng.choice(_TAG_PREFIXES) + _squash(rng.choice(_PRODUCTS[ctx.topic]))
    if r < 0.6:
        return _squash(rng.choice(_PLACES)) + rng.choice(
            ("", "travel", "food", "life", "eats", *_TAG_SUFFIXES[:6])
        )
    if r < 0.75:
        return _squash(rng.choice(_ADJ)) + _squash(rng.choice(_PRODUCTS[ctx.topic]))
    if r < 0.85:
        return _squash(rng.choice(ctx.friends))
    if r < 0.93 or not ctx.sponsored:
        return rng.choice(_TAG_PREFIXES) + ctx.topic + rng.choice(_TAG_SUFFIXES)
    return _squash(ctx.brand) + rng.choice(("", "", "love", "glow", "fam", "squad"))


def _hashtag_block(ctx: _Ctx, n: int) -> list[str]:
    """``n`` hashtags: generic, topical, trap and the odd foreign tag, no duplicates."""
    rng = ctx.rng
    tags: list[str] = []
    pools: list[Sequence[str]] = [_GENERIC_TAGS, _TOPIC_TAGS[ctx.topic], _TOPIC_TAGS[ctx.topic]]
    if ctx.lang != "en":
        pools.append(_FOREIGN_TAGS[ctx.lang])
    seen: set[str] = set()
    for _ in range(n * 2):
        if len(tags) >= n:
            break
        r = rng.random()
        if r < 0.06:
            tag = rng.choice(_TRAP_TAGS)
        elif r < COMPOUND_TAG_SHARE:
            tag = _compound_tag(ctx)
        else:
            tag = rng.choice(rng.choice(pools))
        if tag.lower() in seen:
            continue
        seen.add(tag.lower())
        tags.append("#" + tag)
    return tags


def _url(ctx: _Ctx, affiliate: bool) -> str:
    """A link: bio-link services, brand shops, affiliate and short links."""
    rng = ctx.rng
    choices = _LINK_DOMAINS[6:11] if affiliate else _LINK_DOMAINS[:4] + _LINK_DOMAINS[11:]
    x = "".join(
        rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(7)
    )
    return rng.choice(choices).format(
        h=rng.choice(ctx.friends),
        b=ctx.brand_handle,
        p=rng.choice(_PRODUCTS[ctx.topic]).replace(" ", "-"),
        x=x,
    )


def _promo(ctx: _Ctx) -> tuple[str, str]:
    """A promo-code sentence and the code."""
    rng = ctx.rng
    code = f"{rng.choice(_FIRST).upper()}{rng.choice((10, 15, 20, 25, 30))}"
    if ctx.lang == "de" and rng.random() < 0.7:
        return f"Mit dem Code {code} spart ihr {rng.randint(10, 30)}%", code
    if ctx.lang == "es" and rng.random() < 0.7:
        return f"Usa mi código {code} para un {rng.randint(10, 30)}% de descuento", code
    templates = (
        "Use code {c} for {n}% off",
        "use my code {c} at checkout",
        "code {c} saves you {n}%",
        "Code: {c} 🏷️",
        "Don't forget my discount code {c}!",
        "{n}% off with code {c} this week only",
    )
    return rng.choice(templates).format(c=code, n=rng.randint(10, 30)), code


def _mention_line(ctx: _Ctx) -> str:
    """Photo credits and friend tags: @mentions that are no brand."""
    rng = ctx.rng
    f = rng.choice(ctx.friends)
    return rng.choice(
        (
            f"📸 @{f}",
            f"📷: @{f}",
            f"with @{f}",
            f"w/ @{f} {_emoji(rng)}",
            f"@{f} you're the best",
            f"shot by @{f}",
        )
    )


def _caption(
    rng: random.Random, platform: str, topic: str, lang: str, sponsored: bool
) -> tuple[str, dict[str, Any]]:
    """A caption and facts about it (brand, code, disclosure) for the record's extras."""
    brand = _brand(rng)
    ctx = _Ctx(rng, topic, lang, brand, sponsored)
    limit = CAPTION_LIMITS[platform]
    median = LENGTH_MEDIAN.get(platform, DEFAULT_MEDIAN)
    target = int(median * math.exp(rng.gauss(0.0, LENGTH_SIGMA)))
    if platform == "youtube":
        target = int(target * 1.3)
    target = max(25, min(target, limit))
    short_platform = limit <= 500

    # Hashtag block: common on Instagram/TikTok, shorter elsewhere.
    n_tags = 0
    if rng.random() < (0.7 if platform in ("instagram", "tiktok") else 0.35):
        n_tags = 2 + int(rng.paretovariate(1.6) * 3) if short_platform else rng.randint(5, 30)
        n_tags = min(n_tags, 5 if short_platform else 30)
    tags = _hashtag_block(ctx, n_tags) if n_tags else []
    tag_chars = sum(len(t) + 1 for t in tags)
    body_target = max(20, target - tag_chars)
    body_sentences = _sentences(ctx, body_target)

    facts: dict[str, Any] = {"brand": brand, "code": None, "disclosure": None}
    extras: list[str] = []  # sentences inserted into the body
    # @mentions of friends and brands people simply like.
    if rng.random() < 0.3:
        extras.append(_mention_line(ctx))
    if not sponsored and rng.random() < 0.08:
        extras.append(
            f"my fave @{_brand(rng).replace(' ', '').lower()} {rng.choice(_PRODUCTS[topic])} (bought it myself lol)"
            if rng.random() < 0.3
            else f"wearing @{_brand(rng).replace(' ', '').lower()} {_emoji(rng)}"
        )
    if not sponsored and rng.random() < 0.03:
        extras.append(
            rng.choice(
                (
                    "not sponsored, I just love it",
                    "#notsponsored",
                    "not an ad, just obsessed",
                    "nobody paid me to say this",
                )
            )
        )
    if not sponsored and rng.random() < 0.03:
        extras.append(rng.choice(("#collab", "collab with @" + rng.choice(ctx.friends), "#sp")))
    if rng.random() < 0.1:
        extras.append(_url(ctx, affiliate=False))

    paid_partnership: bool | None = None
    if sponsored:
        kind = rng.choices(("paid", "gifted", "affiliate"), (55, 25, 20))[0]
        facts["kind"] = kind
        handle = ctx.brand_handle
        cues = {
            "paid": (
                f"Loving my new {rng.choice(_PRODUCTS[topic])} from @{handle}",
                f"so happy to be working with @{handle} on this",
                f"teamed up with @{handle} to bring you this",
                f"@{handle} is my go-to {rng.choice(_PRODUCTS[topic])} now",
                f"Obsessed with the new drop from @{handle}",
                f"huge thanks to @{handle} for making this happen",
            ),
            "gifted": (
                f"@{handle} sent me their new {rng.choice(_PRODUCTS[topic])}",
                f"thanks @{handle} for sending this over",
                f"PR package from @{handle} just arrived",
                f"unboxing my PR haul from @{handle}",
                f"kindly sent by @{handle}",
            ),
            "affiliate": (
                "everything is linked in my bio",
                "shop my favourites with my link",
                f"linked the @{handle} {rng.choice(_PRODUCTS[topic])} below",
                "all links in my LTK",
            ),
        }[kind]
        extras.append(rng.choice(cues))
        if kind == "affiliate" or rng.random() < 0.1:
            extras.append(_url(ctx, affiliate=True))
        label_share = {"paid": 0.45, "gifted": 0.08, "affiliate": 0.1}[kind]
        if (
            platform in ("instagram", "tiktok", "youtube", "facebook")
            and rng.random() < label_share
        ):
            paid_partnership = True
        if rng.random() < 0.18:
            extras.append(rng.choice(_AMBIGUOUS).format(bt=handle))
    elif platform in ("instagram", "tiktok") and rng.random() < 0.3:
        paid_partnership = False

    # Promo codes: ~15% of all posts, almost all of them sponsored.
    if (sponsored and rng.random() < PROMO_SHARE / SPONSORED_SHARE * 0.93) or (
        not sponsored and rng.random() < PROMO_SHARE * 0.07 / (1 - SPONSORED_SHARE)
    ):
        line, code = _promo(ctx)
        extras.append(line)
        facts["code"] = code

    # Body: (sentence, protected); inserted extras carry the signals and survive trimming.
    body: list[tuple[str, bool]] = [(x, False) for x in body_sentences]
    for e in extras:
        body.insert(rng.randint(0, len(body)), (e, True))

    # Disclosure: ~25% of sponsored posts, at the start, the end or in the tag pile.
    disclosure_pos = None
    buried_tag = None
    if sponsored and rng.random() < DISCLOSED_SHARE:
        disclosure_pos = rng.choices(("start", "end", "buried", "middle"), (35, 30, 25, 10))[0]
        if lang != "en" and rng.random() < 0.6:
            text = rng.choice(_FOREIGN_DISCLOSURES[lang]).format(b=ctx.brand_handle)
        elif disclosure_pos == "start":
            text = rng.choice(_CLEAR_DISCLOSURES_START).format(b=ctx.brand_handle)
        elif disclosure_pos == "buried":
            text = rng.choice(_BURIED_DISCLOSURES).format(b=ctx.brand_handle)
        else:
            text = rng.choice(_CLEAR_DISCLOSURES_END).format(b=ctx.brand_handle)
        if disclosure_pos == "buried":
            if not tags:
                tags = _hashtag_block(ctx, rng.randint(5, 15))
            buried_tag = text if text.startswith("#") else "#ad"
            text = buried_tag
            tags.insert(rng.randint(1, len(tags)), buried_tag)
        elif disclosure_pos == "middle":
            body.insert(rng.randint(0, len(body)), (text, True))
        facts["disclosure"] = (disclosure_pos, text)

    # Separators between sentences: spaces, line breaks, blank lines, "." spacers.
    seps = rng.choices((" ", "\n", "\n\n", "\n.\n"), (55, 25, 15, 5), k=len(body))
    lead = rng.choice((" ", " ", "\n", " ✨ "))
    tail = rng.choice(("\n\n", "\n", " "))
    spacer = rng.choices(
        ("\n\n", "\n.\n.\n.\n", "\n.\n.\n.\n.\n.\n", "\n", " ", "\n⠀\n⠀\n"), (35, 25, 8, 17, 10, 5)
    )[0]
    tag_sep = " " if rng.random() < 0.95 else ""

    def assemble() -> str:
        caption = "".join(
            (sep if i else "") + text
            for i, ((text, _), sep) in enumerate(zip(body, seps, strict=True))
        )
        if disclosure_pos == "start":
            caption = facts["disclosure"][1] + lead + caption
        elif disclosure_pos == "end":
            caption = caption + tail + facts["disclosure"][1]
        if tags:
            caption = caption + spacer + tag_sep.join(tags)
        return caption

    # Fit the platform's limit by dropping whole sentences and tags, never a signal.
    caption = assemble()
    while len(caption) > limit:
        droppable = [i for i, (_, protected) in enumerate(body) if not protected]
        spare_tags = [i for i, t in enumerate(tags) if t != buried_tag]
        if len(tags) > 3 and spare_tags:
            tags.pop(spare_tags[-1])
        elif droppable and len(body) > 1:
            i = droppable[-1]
            body.pop(i)
            seps.pop(i)
        elif spare_tags:
            tags.pop(spare_tags[-1])
        else:
            caption = caption[:limit].rsplit(" ", 1)[0]
            break
        caption = assemble()
    facts["paid_partnership"] = paid_partnership
    return caption, facts


def _record(rng: random.Random, i: int, start: datetime) -> dict[str, Any]:
    """One post record in the JSON Lines input schema (plus the ``sponsored`` label)."""
    platform = rng.choices([p for p, _ in PLATFORM_WEIGHTS], [w for _, w in PLATFORM_WEIGHTS])[0]
    topic = rng.choice(TOPICS)
    lang = "en"
    if rng.random() < FOREIGN_SHARE:
        lang = rng.choice(("es", "es", "de", "fr"))
    sponsored = rng.random() < SPONSORED_SHARE
    caption, facts = _caption(rng, platform, topic, lang, sponsored)
    record: dict[str, Any] = {
        "id": f"{platform[:2]}-{i:07d}",
        "platform": platform,
        "caption": caption,
        "author": _handle(rng),
        "posted_at": (start + timedelta(seconds=rng.randint(0, 365 * 86400))).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    if facts["paid_partnership"] is not None:
        record["paid_partnership"] = facts["paid_partnership"]
    # Brands sometimes supply their campaign data: ~20% of sponsored posts.
    if sponsored and rng.random() < 0.2:
        brand = facts["brand"]
        campaign: dict[str, Any] = {
            "brand": brand,
            "handles": ["@" + brand.replace(" ", "").lower()],
            "relationship": {"paid": "paid", "gifted": "free_product", "affiliate": "affiliate"}[
                facts.get("kind", "paid")
            ],
        }
        if facts["code"]:
            campaign["promo_codes"] = [facts["code"]]
        record["campaign"] = campaign
    record["sponsored"] = sponsored
    if sponsored:
        # Private annotation: the kind of connection (paid, gifted, affiliate).
        record["_kind"] = facts.get("kind", "paid")
    if facts["disclosure"]:
        # Private annotation (keys starting with "_" are ignored by the input reader).
        record["_disclosure"] = list(facts["disclosure"])
    return record


def generate(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` post records, the same for the same ``seed`` on every machine and run."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return [_record(rng, i, start) for i in range(n)]


def write_jsonl(records: Sequence[dict[str, Any]], path: Path) -> None:
    """Write records as JSON Lines (UTF-8, emoji kept as is)."""
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False))
            f.write("\n")


def tokenizer_rate(captions: Sequence[str], repeats: int = 3) -> float:
    """Captions per second of a warm ``spacy.blank('en').tokenizer.pipe`` pass (best of ``repeats``).

    One untimed pass first warms spaCy's caches, as the engine's own would be.
    """
    import spacy

    tokenizer = spacy.blank("en").tokenizer
    _consume(tokenizer.pipe(captions))
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        _consume(tokenizer.pipe(captions))
        best = min(best, time.perf_counter() - t0)
    return len(captions) / best


def _consume(docs: Any) -> None:
    for _ in docs:
        pass


# Emoji runs: pictographs plus their modifiers, joiners, selectors and flag letters.
_EMOJI_RUN_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b50\u2b55\ufe0f\u200d\u2640\u2642]+"
)
# One emoji = one base pictograph (modifiers, ZWJ, VS16 excluded); a flag counts two.
_EMOJI_BASE_RE = re.compile("[\U0001f000-\U0001f3fa\U0001f400-\U0001faff\u2600-\u27bf\u2b50]")


def describe(records: Sequence[dict[str, Any]], echo: Callable[[str], None] = print) -> None:
    """Print the corpus's length, emoji, hashtag and label statistics."""
    caps = [r["caption"] for r in records]
    lengths = sorted(len(c) for c in caps)
    n = len(lengths)
    words = sum(1 for c in caps for w in c.split() if w[0] not in "#@" and "://" not in w)
    runs = [m.group() for c in caps for m in _EMOJI_RUN_RE.finditer(c)]
    emoji = sum(len(_EMOJI_BASE_RE.findall(r)) for r in runs)
    tags = sum(c.count("#") for c in caps)
    platforms: dict[str, int] = {}
    for r in records:
        platforms[r["platform"]] = platforms.get(r["platform"], 0) + 1
    echo(
        f"corpus: {n:,} posts; caption length median {statistics.median(lengths):.0f}, "
        f"mean {sum(lengths) / n:.0f}, p90 {lengths[int(n * 0.9)]}, p99 {lengths[int(n * 0.99)]}, "
        f"max {lengths[-1]}"
    )
    echo(
        f"corpus: {words / n:.0f} words/post (not counting tags), an emoji run every {words / max(len(runs), 1):.1f} words "
        f"({emoji / max(len(runs), 1):.1f} emoji/run), "
        f"{tags / n:.1f} '#'/post; "
        + ", ".join(f"{p} {c / n:.0%}" for p, c in sorted(platforms.items(), key=lambda x: -x[1]))
    )
    sponsored = sum(1 for r in records if r.get("sponsored"))
    echo(
        f"corpus: sponsored {sponsored / n:.0%}, paid_partnership set {sum('paid_partnership' in r for r in records) / n:.0%}, "
        f"campaign {sum('campaign' in r for r in records) / n:.0%}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write a corpus as JSON Lines and optionally time the tokenizer on it."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=40_000, help="number of posts (default 40,000)")
    ap.add_argument("-o", "--output", type=Path, help="JSON Lines file to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--check",
        action="store_true",
        help="time a warm blank-spaCy tokenizer pass over the captions",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    records = generate(args.n, args.seed)
    print(f"generated {len(records):,} posts in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.output:
        write_jsonl(records, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    describe(records, echo=lambda s: print(s, file=sys.stderr))
    if args.check or not args.output:
        rate = tokenizer_rate([r["caption"] for r in records])
        verdict = "in" if 4000 <= rate <= 7000 else "OUTSIDE"
        print(
            f"tokenizer: {rate:,.0f} captions/s (warm spacy.blank('en').tokenizer.pipe, best of 3); "
            f"{verdict} the 4,000-7,000/s band of real captions",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
