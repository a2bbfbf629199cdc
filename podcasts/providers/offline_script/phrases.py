# ruff: noqa: E501 - phrase tables read best one phrasing per line
"""What the speakers say around the notes, per language, and a phrasebook that hands the
phrasings out so none is used more than twice in an episode.

Placeholders: {show}, {title}, {topic} (a section's title or key phrase), {phrase} (a noun
phrase the previous speaker just said), {name} (the person addressed), {count} (a number
word), {items} (a spoken series), {topics}.
"""

from __future__ import annotations

import random

MAX_USES = 2  # no template more than twice in an episode

EN = {
    "and": "and",
    "numbers": "zero one two three four five six seven eight nine ten".split(),
    "show": "PodNex",
    "open": [
        "Welcome to {show}. Today's episode: {title}.",
        "Hello and welcome to {show}. This time we're talking about {title}.",
        "Hi, and welcome to {show}. On the table today: {title}.",
        "You're listening to {show}, and today we're getting into {title}.",
        "Welcome back to {show}. Our subject this time is {title}.",
    ],
    "preview": [
        "We'll touch on {topics}.",
        "Along the way: {topics}.",
        "Here's the plan: {topics}.",
    ],
    "introduce_guest": [
        "With me is {name}. Thanks for joining.",
        "{name} is here to walk us through it. Welcome.",
        "I'm joined by {name}. Good to have you.",
    ],
    "introduce_panel": [
        "With me are {names}.",
        "Joining me today: {names}.",
    ],
    "greet": [
        "Thanks, glad to be here.",
        "Happy to be here.",
        "Thanks for having me.",
        "Good to be here.",
    ],
    "first_question": [
        "Let's start at the beginning. {question}",
        "First things first. {question}",
        "To kick us off: {question}",
    ],
    "ask_about": [
        "{Topic}: what's the short version?",
        "Tell me about {topic}.",
        "Where does {topic} come in?",
        "What should people know about {topic}?",
        "How would you describe {topic}?",
        "What's the idea behind {topic}?",
        "Walk me through {topic}.",
        "Why does {topic} matter here?",
        "Let's talk about {topic}. What's going on there?",
        "And {topic}? What's the story?",
    ],
    "ask_how": ["Tell me {topic}.", "So, {topic}. How does that go?", "Can you explain {topic}?"],
    "segue": [
        "Let's move on.",
        "Next up.",
        "Changing gears a little.",
        "Let's turn to something else.",
        "Okay, on to the next part.",
        "Another thing I wanted to ask about.",
    ],
    "react_phrase": [
        "So {phrase} is really at the heart of it.",
        "Interesting, {phrase}. How does that play out in practice?",
        "Right, {phrase}. Say more about that.",
        "Okay, so {phrase}. What comes after that?",
        "I like that you brought up {phrase}. Keep going.",
        "{Phrase}, got it. And then?",
        "Hold on, {phrase}. Why is that important?",
        "So it comes down to {phrase}. What else?",
        "That's a good point about {phrase}.",
        "Makes sense. And {phrase} ties into the rest how?",
        "Ah, {phrase}. I wondered about that.",
        "{Phrase}. That's the part people often miss, isn't it?",
    ],
    "react_topic": [
        "So that's how {topic} works in practice.",
        "Good, that clears up {topic} a bit. What else?",
        "And there's more to {topic}, right?",
        "I'm starting to get {topic}. Keep going.",
        "Okay, still on {topic}: what else?",
    ],
    "react_plain": [
        "That makes sense. Go on.",
        "Interesting. What else?",
        "Okay. And then?",
        "Right. Keep going.",
        "I see. Tell me more.",
        "Got it.",
        "Huh, I didn't know that.",
        "Good to know.",
    ],
    "continue": ["", "", "And ", "Also, ", "On top of that, ", "Beyond that, ", "Plus, "],
    "answer_lead": ["", "", "", "Sure. ", "Good question. ", "Right. ", "Well, ", "So, "],
    "enumerate": [
        "There are {count} things here: {items}.",
        "{Count} of them, really: {items}.",
        "It comes down to {count}: {items}.",
    ],
    "enumerate_long": [
        "There are {count} points to this.",
        "I'd put it in {count} points.",
        "{Count} points stand out.",
    ],
    "ordinals": "first second third fourth fifth sixth seventh eighth ninth tenth".split(),
    "ordinal_lead": "{Ordinal}, ",
    "code_note": [
        "The notes have a short code example for this, worth a look after the episode.",
        "There's a code sample in the notes that shows it.",
    ],
    "hand_off": [
        "{name}, what do you make of that?",
        "{name}, anything to add?",
        "{name}, how do you see it?",
        "What's your take, {name}?",
    ],
    "panel_add": ["To add to that, ", "Building on that, ", "And from my side, ", ""],
    "wrap": [
        "We covered a lot: {topics}.",
        "That was a good run through {topics}.",
        "So today it was {topics}.",
    ],
    "wrap_single": ["That's {title} in a nutshell.", "And that's a look at {title}."],
    "last_word_ask": [
        "Any last thought for listeners?",
        "What should people take away from this?",
        "Anything you'd want people to remember?",
    ],
    "last_word": [
        "Just that the notes are worth a second read. Thanks for having me.",
        "Try it yourself; that's the best way to learn it. Thanks for having me.",
        "Only that it's simpler than it sounds. Thanks, this was fun.",
    ],
    "sign_off": [
        "Thanks for listening to {show}. Until next time.",
        "That's all for this episode of {show}. Take care.",
        "Thanks for tuning in to {show}. See you next time.",
    ],
    "mono_open": [
        "Welcome to {show}. This is a short brief on {title}.",
        "Hello, and welcome to {show}. Here's a brief on {title}.",
    ],
    "mono_section": [
        "First, {topic}.",
        "Next, {topic}.",
        "Now, {topic}.",
        "Then there's {topic}.",
        "Another point: {topic}.",
        "Moving on to {topic}.",
    ],
    "mono_close": [
        "That's the brief on {title}. Thanks for listening to {show}.",
        "And that wraps up {title}. Thanks for listening to {show}.",
    ],
    "generic_questions": {
        "installation": [
            "What does installation look like?",
            "Installation first: how do you get it set up?",
        ],
        "install": ["What does the install look like?"],
        "getting started": [
            "What does getting started look like?",
            "Getting started: where should a newcomer begin?",
        ],
        "get started": ["How do people get started?"],
        "quickstart": ["What's the quickstart, the fastest way to try it?"],
        "quick start": ["What's the quick start, the fastest way to try it?"],
        "usage": ["What does usage look like day to day?", "On usage: how do you actually use it?"],
        "features": ["What are the main features?", "Which features stand out?"],
        "configuration": ["How does configuration work?"],
        "requirements": ["What are the requirements before you start?"],
        "examples": ["Can you walk us through the examples?"],
        "example": ["Can you walk us through the example?"],
        "performance": ["How about performance? How fast is it, really?"],
        "contributing": ["What about contributing? How can people help?"],
        "support": ["Where do people go for support?"],
        "documentation": ["Where's the documentation, if people want to read more?"],
        "faq": ["What's in the FAQ? What do people usually ask?"],
        "overview": ["Can you give us the big picture?"],
        "introduction": ["Can you give us the big picture?"],
        "motivation": ["What's the motivation? Why does this exist at all?"],
        "background": ["What's the background here?"],
        "summary": ["How would you sum it up?"],
        "conclusion": ["How would you sum it up?"],
        "changelog": ["What's in the changelog? What changed recently?"],
        "recent changes": ["What are the recent changes?"],
        "testing": ["How does testing work?"],
        "security": ["What about security?"],
    },
}

ES = {
    "and": "y",
    "numbers": "cero uno dos tres cuatro cinco seis siete ocho nueve diez".split(),
    "show": "PodNex",
    "open": [
        "Bienvenidos a {show}. Hoy hablamos de {title}.",
        "Hola y bienvenidos a {show}. El tema de hoy: {title}.",
        "Esto es {show}, y hoy nos metemos en {title}.",
    ],
    "preview": ["Vamos a hablar de {topics}.", "El plan de hoy: {topics}."],
    "introduce_guest": ["Me acompaña {name}. Gracias por venir.", "Hoy está con nosotros {name}."],
    "introduce_panel": ["Me acompañan {names}."],
    "greet": [
        "Gracias, encantado de estar aquí.",
        "Un placer estar aquí.",
        "Gracias por invitarme.",
    ],
    "first_question": ["Empecemos por el principio. {question}", "Para arrancar: {question}"],
    "ask_about": [
        "¿Qué es {topic}, en pocas palabras?",
        "Cuéntame sobre {topic}.",
        "¿Qué hay que saber sobre {topic}?",
        "¿Cómo describirías {topic}?",
        "¿Por qué importa {topic}?",
        "Hablemos de {topic}. ¿Qué pasa ahí?",
    ],
    "ask_how": ["Explícanos {topic}.", "¿Puedes explicar {topic}?"],
    "segue": ["Sigamos.", "Pasemos a otra cosa.", "Vamos con lo siguiente."],
    "react_phrase": [
        "Así que {phrase} es la clave.",
        "Interesante, {phrase}. ¿Cómo funciona en la práctica?",
        "Vale, {phrase}. Cuéntame más.",
        "{Phrase}, entendido. ¿Y luego?",
        "Espera, {phrase}. ¿Por qué es importante?",
        "Buen punto sobre {phrase}.",
    ],
    "react_plain": [
        "Tiene sentido. Sigue.",
        "Interesante. ¿Qué más?",
        "Vale. ¿Y luego?",
        "Ya veo.",
    ],
    "continue": ["", "", "Además, ", "Y ", "Por otro lado, "],
    "answer_lead": ["", "", "Claro. ", "Buena pregunta. ", "Bueno, "],
    "enumerate": ["Hay {count} cosas aquí: {items}.", "Son {count}: {items}."],
    "enumerate_long": ["Hay {count} puntos.", "Lo resumiría en {count} puntos."],
    "ordinals": "primero segundo tercero cuarto quinto sexto séptimo octavo noveno décimo".split(),
    "ordinal_lead": "{Ordinal}, ",
    "code_note": ["Las notas traen un pequeño ejemplo de código sobre esto."],
    "hand_off": ["{name}, ¿qué opinas?", "{name}, ¿algo que añadir?", "¿Y tú, {name}?"],
    "panel_add": ["Para añadir, ", "Y desde mi lado, ", ""],
    "wrap": ["Hemos hablado de {topics}.", "Hoy repasamos {topics}."],
    "wrap_single": ["Eso es {title} en pocas palabras."],
    "last_word_ask": ["¿Una última idea para quien nos escucha?", "¿Con qué nos quedamos?"],
    "last_word": ["Que vale la pena releer las notas. Gracias por invitarme."],
    "sign_off": [
        "Gracias por escuchar {show}. Hasta la próxima.",
        "Esto fue {show}. Hasta pronto.",
    ],
    "mono_open": ["Bienvenidos a {show}. Este es un resumen sobre {title}."],
    "mono_section": ["Primero, {topic}.", "Luego, {topic}.", "Ahora, {topic}.", "Además, {topic}."],
    "mono_close": ["Ese fue el resumen sobre {title}. Gracias por escuchar {show}."],
    "generic_questions": {},
}

DE = {
    "and": "und",
    "numbers": "null eins zwei drei vier fünf sechs sieben acht neun zehn".split(),
    "show": "PodNex",
    "open": [
        "Willkommen bei {show}. Heute geht es um {title}.",
        "Hallo und willkommen bei {show}. Unser Thema heute: {title}.",
        "Das ist {show}, und heute sprechen wir über {title}.",
    ],
    "preview": ["Wir sprechen über {topics}.", "Auf dem Plan: {topics}."],
    "introduce_guest": ["Bei mir ist {name}. Danke fürs Kommen.", "Heute zu Gast: {name}."],
    "introduce_panel": ["Bei mir sind {names}."],
    "greet": ["Danke, schön hier zu sein.", "Gerne, danke für die Einladung.", "Freut mich."],
    "first_question": ["Fangen wir vorne an. {question}", "Zum Einstieg: {question}"],
    "ask_about": [
        "Was ist {topic}, kurz gesagt?",
        "Erzähl mir von {topic}.",
        "Was sollte man über {topic} wissen?",
        "Wie würdest du {topic} beschreiben?",
        "Warum ist {topic} wichtig?",
        "Reden wir über {topic}. Was steckt dahinter?",
    ],
    "ask_how": ["Erklär uns {topic}.", "Kannst du {topic} erklären?"],
    "segue": ["Machen wir weiter.", "Kommen wir zum nächsten Punkt.", "Etwas anderes noch."],
    "react_phrase": [
        "Also ist {phrase} der Kern der Sache.",
        "Interessant, {phrase}. Wie sieht das in der Praxis aus?",
        "Okay, {phrase}. Erzähl mehr.",
        "{Phrase}, verstanden. Und dann?",
        "Moment, {phrase}. Warum ist das wichtig?",
        "Guter Punkt zu {phrase}.",
    ],
    "react_plain": [
        "Das ergibt Sinn. Weiter.",
        "Interessant. Was noch?",
        "Okay. Und dann?",
        "Verstehe.",
    ],
    "continue": ["", "", "Außerdem ", "Und ", "Dazu kommt: "],
    "answer_lead": ["", "", "Klar. ", "Gute Frage. ", "Also, "],
    "enumerate": ["Es sind {count} Dinge: {items}.", "Genau {count}: {items}."],
    "enumerate_long": ["Es gibt {count} Punkte.", "Ich würde es in {count} Punkte fassen."],
    "ordinals": "erstens zweitens drittens viertens fünftens sechstens siebtens achtens neuntens zehntens".split(),
    "ordinal_lead": "{Ordinal}: ",
    "code_note": ["In den Notizen steht dazu ein kurzes Codebeispiel."],
    "hand_off": [
        "{name}, was meinst du?",
        "{name}, möchtest du etwas ergänzen?",
        "Und du, {name}?",
    ],
    "panel_add": ["Ergänzend dazu: ", "Von meiner Seite: ", ""],
    "wrap": ["Wir haben über {topics} gesprochen.", "Heute ging es um {topics}."],
    "wrap_single": ["Das war {title} in Kürze."],
    "last_word_ask": ["Ein letzter Gedanke für unsere Hörer?", "Was sollte man mitnehmen?"],
    "last_word": ["Dass sich ein zweiter Blick in die Notizen lohnt. Danke für die Einladung."],
    "sign_off": [
        "Danke fürs Zuhören bei {show}. Bis zum nächsten Mal.",
        "Das war {show}. Bis bald.",
    ],
    "mono_open": ["Willkommen bei {show}. Hier ein kurzer Überblick über {title}."],
    "mono_section": ["Zuerst: {topic}.", "Dann: {topic}.", "Jetzt: {topic}.", "Außerdem: {topic}."],
    "mono_close": ["Das war der Überblick über {title}. Danke fürs Zuhören bei {show}."],
    "generic_questions": {},
}

FR = {
    "and": "et",
    "numbers": "zéro un deux trois quatre cinq six sept huit neuf dix".split(),
    "show": "PodNex",
    "open": [
        "Bienvenue dans {show}. Aujourd'hui, on parle de {title}.",
        "Bonjour et bienvenue dans {show}. Le sujet du jour : {title}.",
        "Vous écoutez {show}, et aujourd'hui on se penche sur {title}.",
    ],
    "preview": ["On va parler de {topics}.", "Au programme : {topics}."],
    "introduce_guest": ["Avec moi, {name}. Merci d'être là.", "Notre invité du jour : {name}."],
    "introduce_panel": ["Avec moi : {names}."],
    "greet": ["Merci, ravi d'être là.", "Avec plaisir.", "Merci de m'avoir invité."],
    "first_question": ["Commençons par le début. {question}", "Pour commencer : {question}"],
    "ask_about": [
        "C'est quoi, {topic}, en deux mots ?",
        "Parle-moi de {topic}.",
        "Que faut-il savoir sur {topic} ?",
        "Comment décrirais-tu {topic} ?",
        "Pourquoi {topic} est-il important ?",
        "Parlons de {topic}. Qu'est-ce qui se passe là ?",
    ],
    "ask_how": ["Explique-nous {topic}.", "Tu peux expliquer {topic} ?"],
    "segue": ["Continuons.", "Passons à autre chose.", "Point suivant."],
    "react_phrase": [
        "Donc {phrase}, c'est le cœur du sujet.",
        "Intéressant, {phrase}. Et en pratique ?",
        "D'accord, {phrase}. Dis-m'en plus.",
        "{Phrase}, compris. Et ensuite ?",
        "Attends, {phrase}. Pourquoi c'est important ?",
        "Bon point sur {phrase}.",
    ],
    "react_plain": [
        "Ça se tient. Continue.",
        "Intéressant. Quoi d'autre ?",
        "D'accord. Et ensuite ?",
        "Je vois.",
    ],
    "continue": ["", "", "En plus, ", "Et ", "Par ailleurs, "],
    "answer_lead": ["", "", "Bien sûr. ", "Bonne question. ", "Alors, "],
    "enumerate": ["Il y a {count} choses : {items}.", "{Count}, en fait : {items}."],
    "enumerate_long": ["Il y a {count} points.", "Je le résumerais en {count} points."],
    "ordinals": "premièrement deuxièmement troisièmement quatrièmement cinquièmement sixièmement septièmement huitièmement neuvièmement dixièmement".split(),
    "ordinal_lead": "{Ordinal}, ",
    "code_note": ["Les notes donnent un petit exemple de code là-dessus."],
    "hand_off": [
        "{name}, qu'en penses-tu ?",
        "{name}, quelque chose à ajouter ?",
        "Et toi, {name} ?",
    ],
    "panel_add": ["Pour compléter, ", "De mon côté, ", ""],
    "wrap": ["On a parlé de {topics}.", "Aujourd'hui, on a vu {topics}."],
    "wrap_single": ["Voilà {title} en bref."],
    "last_word_ask": ["Un dernier mot pour nos auditeurs ?", "Qu'est-ce qu'il faut retenir ?"],
    "last_word": ["Que les notes valent une deuxième lecture. Merci de m'avoir invité."],
    "sign_off": ["Merci d'avoir écouté {show}. À la prochaine.", "C'était {show}. À bientôt."],
    "mono_open": ["Bienvenue dans {show}. Voici un bref résumé sur {title}."],
    "mono_section": [
        "D'abord, {topic}.",
        "Ensuite, {topic}.",
        "Maintenant, {topic}.",
        "Aussi, {topic}.",
    ],
    "mono_close": ["C'était le résumé sur {title}. Merci d'avoir écouté {show}."],
    "generic_questions": {},
}

LANGUAGES = {"en": EN, "es": ES, "de": DE, "fr": FR}


def phrases_for(language: str) -> dict:
    """The phrase table of a language; English for languages it has none for."""
    return LANGUAGES.get((language or "en").split("-")[0].lower(), EN)


class Phrasebook:
    """Picks phrasings at random (seeded, so an episode is reproducible) among those used
    fewer than MAX_USES times; returns "" when every option is used up, so callers can
    leave a turn out instead of repeating themselves."""

    def __init__(self, table: dict, seed: int):
        self.table = table
        self.seed = seed
        self.random = random.Random(seed)
        self.uses: dict[str, int] = {}
        self.keys: dict[str, str] = {}  # template -> its table key, for the benchmarks

    def pick(self, key: str, **values: str) -> str:
        return self.pick_from(key, self.table.get(key, []), **values)

    def pick_from(self, key: str, templates: list[str], **values: str) -> str:
        options = [t for t in templates if self.uses.get(t, 0) < MAX_USES]
        if not options:
            return ""
        fresh = [t for t in options if not self.uses.get(t)]
        template = self.random.choice(fresh or options)
        self.uses[template] = self.uses.get(template, 0) + 1
        self.keys[template] = key
        return fill(template, **values)

    def choice(self, items: list):
        return self.random.choice(items)

    def number(self, count: int) -> str:
        numbers = self.table["numbers"]
        return numbers[count] if count < len(numbers) else str(count)

    def series(self, items: list[str]) -> str:
        items = [item for item in items if item]
        if len(items) <= 2:
            return f" {self.table['and']} ".join(items)
        return ", ".join(items[:-1]) + f" {self.table['and']} " + items[-1]


def fill(template: str, **values: str) -> str:
    """Format a template; "{Phrase}" is the value with its first letter capitalised."""
    capitalised = {k[:1].upper() + k[1:]: _cap(v) for k, v in values.items()}
    text = template.format(**values, **capitalised) if values else template
    return text[:1].upper() + text[1:]


def _cap(value: str) -> str:
    return value[:1].upper() + value[1:] if value else value
