#!/usr/bin/env python3
"""Write bench/infer/corpus.txt: 2,000 English sentences, one per line, for the infer benchmarks.

Deterministic (random.Random(20240611), standard library only; any Python 3 gives the same
file). Sentences are built from clause templates and word lists written for this file, in the
registers an embedding engine sees (news, support tickets, product reviews, science, how-to,
questions, chat). Lengths: about 5% short (1-7 words), 80% 8-40 words (most 10-25), 15% 41-120 words.

    python3 bench/infer/make_corpus.py [--out PATH] [--n 2000]
"""

import argparse
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

PEOPLE = [
    "the mayor", "our neighbour", "the new manager", "a spokesperson for the company",
    "the head of the research team", "my sister", "the support engineer", "a local farmer",
    "the board of directors", "several employees", "the committee", "a group of students",
    "the city council", "the airline", "the hospital", "the school principal", "my landlord",
    "the project lead", "two senior analysts", "the delivery driver", "the museum curator",
    "our team", "the customer", "a volunteer", "the referee", "the chef", "the author",
    "the developers", "the police", "the weather service", "the court", "the regulator",
]
THINGS = [
    "the budget", "the new policy", "the quarterly report", "the software update",
    "the parking rules", "the recipe", "the bridge repairs", "the train schedule",
    "the contract", "the login page", "the survey results", "the battery", "the invoice",
    "the museum exhibit", "the marketing plan", "the hiring process", "the water supply",
    "the library hours", "the shipping costs", "the privacy settings", "the database migration",
    "the festival", "the insurance claim", "the heating system", "the vaccine trial",
    "the election results", "the price increase", "the user interface", "the travel plans",
    "the kitchen renovation", "the football match", "the research proposal", "the old printer",
]
VERBS_PAST = [
    "announced", "reviewed", "postponed", "approved", "criticised", "explained", "delayed",
    "cancelled", "updated", "questioned", "defended", "praised", "rejected", "changed",
    "described", "investigated", "supported", "tested", "discussed", "published",
]
ADVERBIALS = [
    "on Tuesday", "last week", "earlier this morning", "after a long debate",
    "without much warning", "during the meeting", "for the third time this year",
    "before the holidays", "at the end of the month", "in a short statement",
    "despite strong objections", "after months of planning", "late last night",
    "in front of a small crowd", "for reasons that are still unclear", "as expected",
]
REASONS = [
    "because costs had risen sharply", "since nobody had read the small print",
    "because the first version kept crashing", "after residents complained about the noise",
    "because the deadline was moved forward", "so that everyone could attend",
    "because the data did not support the original claim", "after the storm damaged the roof",
    "because demand was much higher than expected", "to give the auditors more time",
    "since the supplier could not deliver on time", "because of a simple typo",
]
REVIEWS = [
    "The {p} is {adj} and the {p2} works {adv}, but the {p3} could be better.",
    "I bought this {p} for my {rel} and it arrived {when}; {opinion}.",
    "After two weeks of daily use the {p} still feels {adj}, although the {p2} is a bit {neg}.",
    "Honestly the {p} is {adj}, {opinion}, and I would {rec} it to a friend.",
    "Five stars for the {p2}, one star for the {p3}: {opinion}.",
]
PRODUCTS = ["headphones", "blender", "laptop", "backpack", "coffee maker", "phone case",
            "desk lamp", "running shoes", "vacuum cleaner", "keyboard", "tent", "camera"]
PARTS = ["battery", "screen", "handle", "zipper", "sound quality", "build quality", "app",
         "customer service", "packaging", "manual", "charger", "fabric", "lid", "price"]
ADJ = ["solid", "surprisingly light", "well made", "cheap-feeling", "comfortable", "noisy",
       "easy to use", "a little fragile", "excellent", "disappointing", "good value", "sturdy"]
NEG = ["loud", "slow", "flimsy", "expensive", "awkward", "short", "confusing", "heavy"]
ADV = ["perfectly", "reliably", "as advertised", "most of the time", "better than expected",
       "only when it feels like it", "without any problems"]
OPINIONS = ["overall I am happy with it", "I expected more for the price",
            "it does exactly what it says", "I returned it after a week",
            "my kids love it", "it replaced an older model that finally broke",
            "setup took less than five minutes", "the instructions were useless"]
RELATIVES = ["daughter", "father", "partner", "office", "grandmother", "roommate", "son"]
WHEN = ["a day early", "two days late", "on time", "with a dented box", "in perfect condition"]
TICKETS = [
    "Hi, I can't log in to my account since the {thing2} changed; I get error {code} every time.",
    "When I click export the app freezes for about {n} seconds and then shows a blank page.",
    "Our invoice for {month} lists {n} seats, but we only have {m} active users.",
    "Is there a way to change the email address on my account without losing my order history?",
    "The sync between the desktop client and the phone stopped working after the last update.",
    "Please cancel my subscription at the end of the current billing period, not immediately.",
    "Password reset emails never arrive, and I have already checked the spam folder twice.",
    "The dashboard shows data from {month}, but the CSV export only goes back to {month2}.",
]
THING2 = ["password policy", "two-factor setup", "login page", "single sign-on settings"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
SCIENCE = [
    "The researchers measured {quantity} in {n} samples and found a {change} compared with the control group.",
    "A new study suggests that {habit} may lower the risk of {condition} in older adults.",
    "Using satellite images, the team tracked {quantity} across {n} regions over {m} years.",
    "The results, published in a peer-reviewed journal, have not yet been replicated by other groups.",
    "In the experiment, participants who {habit2} scored higher on memory tests than those who did not.",
    "The model predicts that {quantity} will {trend} by the end of the decade unless policies change.",
]
QUANTITIES = ["soil moisture", "blood pressure", "ocean temperature", "air pollution",
              "sleep duration", "crop yields", "glacier thickness", "reaction time"]
CHANGES = ["small but significant increase", "sharp decline", "modest improvement",
           "difference of about ten percent", "surprisingly large effect"]
HABITS = ["regular walking", "a diet rich in vegetables", "learning a second language",
          "getting enough sleep", "reading before bed", "spending time outdoors"]
HABITS2 = ["slept for at least seven hours", "exercised in the morning", "took short breaks",
           "studied in small groups", "drank more water"]
CONDITIONS = ["heart disease", "memory loss", "type 2 diabetes", "depression", "falls"]
TRENDS = ["double", "fall by a third", "stay roughly the same", "rise steadily", "peak early"]
HOWTO = [
    "To reset the router, hold the small button on the back for ten seconds until the light blinks.",
    "Preheat the oven to 200 degrees, then roast the vegetables for about {n} minutes, turning them once.",
    "Before you paint the wall, fill any holes with filler and sand the surface smooth.",
    "If the plant's leaves turn yellow, water it less often and move it closer to the window.",
    "Run the tests locally before you push, and make sure the build passes on the main branch.",
    "Store the cheese in the fridge wrapped in paper rather than plastic so it can breathe.",
]
QUESTIONS = [
    "How long does it take to get from the airport to the city centre by train?",
    "What is the best way to learn {lang} if I only have twenty minutes a day?",
    "Why does my bread come out flat even though the dough rises well?",
    "Can anyone recommend a good book about the history of {topic}?",
    "Does the museum offer discounts for students or families on weekends?",
    "Which {product} would you buy for under two hundred dollars?",
    "Is it normal for a new {product} to get warm after an hour of use?",
]
LANGS = ["Spanish", "Japanese", "German", "Portuguese", "Korean", "Italian", "Arabic"]
TOPICS = ["mathematics", "the printing press", "aviation", "medicine", "jazz", "coffee"]
SHORT = [
    "Thanks!", "See you tomorrow.", "Sounds good to me.", "Not today.", "Where is the station?",
    "Great job, everyone.", "Call me later.", "The meeting is cancelled.", "Happy birthday!",
    "It works now.", "Please try again.", "Out of stock.", "Totally agree.", "Good morning!",
    "Ready when you are.", "Lunch at noon?", "Fixed in the next release.", "Keep the change.",
]
CONNECTORS = ["and", "but", "while", "although", "so", "because", "after which", "even though"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def c(self, xs):
        return self.r.choice(xs)

    def fill(self, template):
        r = self.r
        p, p2, p3 = r.sample(PARTS, 3)
        m1, m2 = r.sample(MONTHS, 2)
        return template.format(
            p=self.c(PRODUCTS) if "{p2}" not in template else p, p2=p2, p3=p3,
            adj=self.c(ADJ), neg=self.c(NEG), adv=self.c(ADV), opinion=self.c(OPINIONS),
            rel=self.c(RELATIVES), when=self.c(WHEN), rec=self.c(["recommend", "not recommend"]),
            thing2=self.c(THING2), code=r.choice([401, 403, 500, 502, 1042]),
            n=r.randint(3, 90), m=r.randint(2, 40), month=m1, month2=m2,
            quantity=self.c(QUANTITIES), change=self.c(CHANGES), habit=self.c(HABITS),
            habit2=self.c(HABITS2), condition=self.c(CONDITIONS), trend=self.c(TRENDS),
            lang=self.c(LANGS), topic=self.c(TOPICS), product=self.c(PRODUCTS),
        )

    def news_clause(self):
        r = self.r
        s = f"{self.c(PEOPLE)} {self.c(VERBS_PAST)} {self.c(THINGS)}"
        if r.random() < 0.6:
            s += f" {self.c(ADVERBIALS)}"
        if r.random() < 0.4:
            s += f" {self.c(REASONS)}"
        return s

    def clause(self):
        kind = self.r.random()
        if kind < 0.40:
            s = self.news_clause()
            return s[0].upper() + s[1:] + "."
        pool = [REVIEWS, TICKETS, SCIENCE, HOWTO, QUESTIONS][int((kind - 0.40) / 0.12)]
        return self.fill(self.c(pool))

    def sentence(self, lo, hi, mode):
        """One line of lo..hi words (target drawn around mode): clauses joined into one
        sentence or a short passage, no clause twice, cut at a word boundary only when even
        the first clause is longer than hi."""
        target = round(self.r.triangular(lo, hi, mode))
        parts = [self.clause()]
        n = len(parts[0].split())
        while n < target:
            if self.r.random() < 0.5 and parts[-1].endswith("."):
                tail = self.news_clause()
                cand = parts[:-1] + [parts[-1][:-1] + f", {self.c(CONNECTORS)} {tail}."]
            else:
                nxt = self.clause()
                if nxt in parts:
                    continue
                cand = parts + [nxt]
            m = len(" ".join(cand).split())
            if m > hi and n >= lo:
                break  # stop short rather than overshoot the range
            parts, n = cand, m
        words = " ".join(parts).split()
        if len(words) > hi:
            words = words[:hi]
            words[-1] = words[-1].rstrip(",;:") + ("" if words[-1][-1] in ".?!" else ".")
        return " ".join(words)

    def line(self):
        u = self.r.random()
        if u < 0.05:
            return self.c(SHORT) if self.r.random() < 0.5 else self.sentence(2, 7, 5)
        if u < 0.85:
            return self.sentence(8, 40, 12)
        return self.sentence(41, 120, 45)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "corpus.txt")
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    g = Gen(20240611)
    lines = [g.line() for _ in range(args.n)]
    assert all("\n" not in s and "\r" not in s and s.strip() == s and s for s in lines)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lens = sorted(len(s.split()) for s in lines)
    print(f"wrote {args.out}: {len(lines)} lines, {sum(map(len, lines)) + len(lines)} bytes, "
          f"words min {lens[0]} median {lens[len(lens) // 2]} max {lens[-1]}, "
          f"{len(set(lines))} distinct")


if __name__ == "__main__":
    main()
