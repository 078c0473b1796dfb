"""Word lists for drafting a knowledge base from plain text (``kb/name_occurrences.py``,
``kb/drafting.py``):
a small gazetteer of the region, titles and honorifics, capitalised words that are not
names, and the assertion verbs whose sentences become draft claims. Data, not logic:
extend them here when the drafts of your documents miss or invent names.
"""

from __future__ import annotations

from matching.kb import EntityType
from matching.text import normalised_key

# Countries and major places of the region: canonical name → (type, other surface forms).
GAZETTEER: dict[str, tuple[EntityType, tuple[str, ...]]] = {
    "Pakistan": ("country", ("Pakistani", "Pakistanis")),
    "Afghanistan": ("country", ("Afghan", "Afghans")),
    "India": ("country", ("Indian", "Indians")),
    "China": ("country", ("Chinese",)),
    "Iran": ("country", ("Iranian", "Iranians")),
    "Russia": ("country", ("Russian", "Russians")),
    "Soviet Union": ("country", ("USSR", "Soviet", "Soviets")),
    "United States": ("country", ("US", "U.S.", "USA", "America", "American", "Americans")),
    "United Kingdom": ("country", ("UK", "U.K.", "Britain", "British")),
    "Turkey": ("country", ("Türkiye", "Turkish")),
    "Qatar": ("country", ("Qatari",)),
    "Saudi Arabia": ("country", ("Saudi", "Saudis")),
    "United Arab Emirates": ("country", ("UAE", "Emirati")),
    "Bangladesh": ("country", ("Bangladeshi",)),
    "Tajikistan": ("country", ("Tajik",)),
    "Uzbekistan": ("country", ("Uzbek",)),
    "Turkmenistan": ("country", ("Turkmen",)),
    "Iraq": ("country", ("Iraqi",)),
    "Syria": ("country", ("Syrian",)),
    "Sri Lanka": ("country", ()),
    "Nepal": ("country", ()),
    "Kashmir": ("place", ("Jammu and Kashmir", "Jammu & Kashmir", "Azad Kashmir", "Kashmiri")),
    "Kabul": ("place", ()),
    "Kandahar": ("place", ()),
    "Herat": ("place", ()),
    "Jalalabad": ("place", ()),
    "Kunduz": ("place", ()),
    "Islamabad": ("place", ()),
    "Rawalpindi": ("place", ()),
    "Lahore": ("place", ()),
    "Karachi": ("place", ()),
    "Peshawar": ("place", ()),
    "Quetta": ("place", ()),
    "Balochistan": ("place", ("Baluchistan",)),
    "Khyber Pakhtunkhwa": ("place", ()),
    "Waziristan": ("place", ("North Waziristan", "South Waziristan")),
    "Punjab": ("place", ()),
    "Sindh": ("place", ()),
    "Srinagar": ("place", ()),
    "New Delhi": ("place", ("Delhi",)),
    "Mumbai": ("place", ("Bombay",)),
    "Doha": ("place", ()),
    "Ankara": ("place", ()),
    "Tehran": ("place", ()),
    "Beijing": ("place", ()),
    "Moscow": ("place", ()),
    "Washington": ("place", ()),
    "Gwadar": ("place", ()),
}
GAZETTEER_KEYS: dict[str, str] = {
    normalised_key(form): name for name, (_, forms) in GAZETTEER.items() for form in (name, *forms)
}
DEMONYMS = frozenset(
    normalised_key(f) for _, (kind, forms) in GAZETTEER.items() if kind == "country" for f in forms
)

TITLES = frozenset(
    "president prime minister general gen former ex lieutenant lt colonel col major maj brigadier brig "
    "captain capt admiral adm commander chief "
    "foreign defence defense interior finance secretary senator governor king queen prince emir "
    "ambassador judge justice dr mr mrs ms sir premier chairman spokesman spokeswoman director deputy "
    "vice army-chief".split()
)
HONORIFICS = frozenset("maulana mullah mawlawi sheikh shaikh mufti hafiz haji syed sayed".split())
STOP_CAPITALS = frozenset(
    "the a an this that these those it its their there they we our he she his her in on at for by with "
    "from to of as and or but if when while although though despite without after before since during "
    "however yet also even instead amidst amid ironically meanwhile moreover furthermore still thus so "
    "image source photo credit read more related copyright all rights reserved editor note writer i "
    "both either neither every each some many most several other another such only last next first "
    "earlier later according".split()
)
# Generic capitalised words: never a name on their own, but fine inside one ("Islamic State").
GENERIC_CAPITALS = frozenset(
    "islamist islamists islamic muslim muslims jihadist jihadists sunni shia west western east eastern "
    "north northern south southern god internet english january february march april may june july "
    "august september october november december monday tuesday wednesday thursday friday saturday "
    "sunday jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
PARTICLES = ("of the", "for the", "of", "for", "and", "&", "e", "i", "al", "el", "ul", "bin", "ibn", "de")
GROUP_CUES = frozenset(
    "taliban lashkar jaish tehreek tehrik tahrik network state front brigade brigades militia "
    "mujahideen qaeda harkat hizb hezbollah daesh isis coalition movement".split()
)
ORG_CUES = frozenset(
    "intelligence force army organization organisation agency center centre institute council "
    "ministry department commission committee bank university command office corporation court "
    "assembly affairs services service party school police".split()
)
ROLE_NOUNS = "founder|leader|chief|head|commander|spokes\\w*|president|minister|cleric|emir|general"
EVENT_NOUNS = "attacks?|bombings?|massacre|siege|blasts?|explosions?|assault|raid"

STOPWORDS = frozenset(
    "a about above after again against all already also although always am among an and another any are "
    "around as at away be because been before being below between both but by can cannot could did do "
    "does doing done down during each either else even ever every few for from further had has have "
    "having he her here hers him his how however i if in into is it its itself just last least less "
    "like likely many may me might more most much must my near neither no nor not now of off often on "
    "once one only onto or other others our out over own past per perhaps quite rather really same "
    "several shall she should since so some such than that the their theirs them themselves then there "
    "these they this those though through thus to too toward towards two under unless until up upon us "
    "very via was we well were what whatever when where whether which while who whom whose why will "
    "with within without would yet you your recently repeatedly already years year seen viewed "
    "part order fact faced some three four five new place take taking taken make made making known "
    "instead point issue week end thing things way ways said says say told come came become became "
    "get got give gave given put set see".split()
)

# Assertion / accusation lexicon: what a sentence must contain (besides an entity) to be a
# checkable claim. Each entry: a word pattern to detect it and the cue group it contributes.
ASSERTIONS: dict[str, tuple[str, str]] = {
    "support": (r"support\w*|backing|backed|backs|sponsor\w*", "support|backing|backed|sponsor|aid"),
    "fund": (r"fund(?:s|ed|ing)?|financ\w*|bankroll\w*", "fund|financ|money|bankroll"),
    "train": (r"train(?:s|ed|ing)", "train"),
    "arm": (r"arm(?:s|ed|ing)|weapon\w*", "arms|armed|arming|weapon|munition"),
    "host": (r"host(?:s|ed|ing)|shelter\w*|harbou?r\w*|haven\w*|sanctuar\w*", "host|shelter|harbo|haven"),
    "accuse": (r"accus\w*|alleg\w*|blam\w*|suspicio\w*|suspect\w*", "accus|alleg|blame|suspic|suspect"),
    "admit": (r"admit\w*|acknowledg\w*|conced\w*|confess\w*", "admit|acknowledg|conced|confess"),
    "cut": (r"cut|cuts|cutting|suspend\w*|halt\w*|freez\w*", "cut|suspend|halt|freez|withh"),
    "kill": (r"kill\w*|dead|death\w*|murder\w*|massacr\w*", "kill|dead|death|murder|massacr"),
    "attack": (r"attack\w*|strik\w*|struck|bomb\w*|assault\w*", "attack|strike|assault|bomb"),
    "orchestrate": (
        r"orchestrat\w*|mastermind\w*|perpetrat\w*|responsib\w*|carr(?:y|ied) out",
        "orchestrat|mastermind|perpetrat|responsib|behind|carried out",
    ),
    "negotiate": (r"negotiat\w*|ceasefire|truce|talks", "negotiat|talks|ceasefire|truce|deal"),
    "use": (r"us(?:e|es|ed|ing)|exploit\w*|employ\w*", "use|using|exploit|employ"),
    "refuse": (r"refus\w*|unwilling\w*|reluctan\w*", "refus|unwilling|reluctan|declin"),
    "keep": (r"keep\w*|kept|retain\w*", "keep|kept|retain|remain|leave"),
    "provide": (r"provid\w*|suppl(?:y|ied|ies|ying)", "provid|suppl|give|gave"),
    "withdraw": (r"withdr\w*|pull(?:ed|ing)? out|pullout|exit\w*", "withdr|pull out|pullout|exit"),
    "cost": (r"cost(?:s|ing)?|spent|billion\w*", "cost|spent|spend|billion"),
    "fail": (r"fail\w*|defeat\w*|collaps\w*", "fail|defeat|collaps|lost"),
    "succeed": (r"succe\w*|victor\w*|win|winning|won", "succe|victor|win|won|triumph"),
    "prosecute": (r"prosecut\w*|punish\w*|crack\w* down|crackdown", "prosecut|punish|crack down|crackdown"),
    "authorise": (r"authori[sz]\w*|allow\w*|permit\w*|sanction\w*", "authori|allow|permit|sanction"),
    "cultivate": (r"cultivat\w*|nurtur\w*|foster\w*|proxy|proxies", "cultivat|nurtur|foster|proxy|proxies"),
    "destabilise": (r"destabili[sz]\w*|undermin\w*|sabotag\w*", "destabili|undermin|sabotag|weaken"),
    "threaten": (r"threat\w*|danger\w*|endanger\w*|risk\w*", "threat|danger|risk|menace"),
    "encourage": (r"encourag\w*|embolden\w*|inspir\w*|fuel\w*", "encourag|embolden|inspir|fuel|boost"),
    "reduce": (r"reduc\w*|diminish\w*|weaken\w*|declin\w*", "reduc|diminish|weaken|declin|less"),
    "increase": (r"increas\w*|expand\w*|spread\w*|escalat\w*|grow\w*", "increas|expand|spread|escalat|grow"),
    "benefit": (r"benefit\w*|profit\w*", "benefit|profit|gain"),
    "decide": (r"decid\w*|decision\w*", "decid|decision"),
    "blacklist": (r"blacklist\w*|gr[ae]ylist\w*", "blacklist|black list|greylist|graylist|grey list"),
    "cooperate": (r"cooperat\w*|partner\w*|collaborat\w*", "cooperat|partner|collaborat|joint"),
    "consider": (r"consider\w*|weigh\w*|reassess\w*|rethink\w*", "consider|weigh|reassess|rethink"),
    "improve": (r"improv\w*|strengthen\w*|alleviat\w*", "improv|strengthen|alleviat|eas"),
    "prevent": (r"prevent\w*|curb\w*|thwart\w*|combat\w*", "prevent|curb|thwart|combat"),
    "impact": (r"impact\w*|disrupt\w*|damag\w*|hurt\w*", "impact|disrupt|damag|hurt"),
    "pressure": (r"pressur\w*|urg\w*", "pressur|urg|push"),
    "concern": (r"concern\w*|worr\w*|fear\w*", "concern|worr|fear|alarm"),
    "link": (r"link\w*|ties|tied", "link|ties|tied|connection"),
    "backfire": (r"backfir\w*|blowback|consequen\w*|repercuss\w*", "backfir|blowback|consequen|repercuss"),
    "lead": (r"lead|leads|led|result\w*|caus\w*", "lead|led|result|caus"),
    "reject": (r"insincer\w*|superficial\w*|indifferen\w*|treacher\w*", "insincer|superficial|indifferen"),
    "call-out": (
        r"call\w* out|criticis\w*|criticiz\w*|condemn\w*|rebuk\w*",
        "call out|criticis|criticiz|condemn",
    ),
}
