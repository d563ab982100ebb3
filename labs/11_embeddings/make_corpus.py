"""Writes corpus.txt: a small synthetic English corpus with two hidden directions (royal/common, male/female)."""
import numpy as np

PEOPLE = {("royal", "male", "adult"): "king", ("royal", "female", "adult"): "queen",
          ("royal", "male", "child"): "prince", ("royal", "female", "child"): "princess",
          ("common", "male", "adult"): "man", ("common", "female", "adult"): "woman",
          ("common", "male", "child"): "boy", ("common", "female", "child"): "girl"}
ROYAL = ["rules the kingdom", "wears a crown", "lives in the palace", "sits on the throne", "greets the court"]
COMMON = ["works in the field", "sells bread at the market", "walks to the village", "lives in a cottage", "feeds the goats"]
MALE = ["he", "his", "himself"]
FEMALE = ["she", "her", "herself"]
ADULT = ["reads a letter", "is old", "drinks wine"]
CHILD = ["plays with a ball", "is young", "drinks milk"]
ANIMALS = ["the dog runs in the field", "the cat sleeps by the fire", "the horse eats hay", "the bird sings at dawn"]


def sentence(rng):
    if rng.random() < 0.15:
        return str(rng.choice(ANIMALS))
    rank, sex, age = list(PEOPLE)[rng.integers(8)]
    who = PEOPLE[(rank, sex, age)]
    pron = MALE if sex == "male" else FEMALE
    if rng.random() < 0.35:
        doing = str(rng.choice(ADULT if age == "adult" else CHILD))
    else:
        doing = str(rng.choice(ROYAL if rank == "royal" else COMMON))
    form = rng.integers(3)
    if form == 0:
        return f"the {who} {doing}"
    if form == 1:
        return f"the {who} said {pron[0]} {doing}"
    return f"the {who} {doing} and {pron[0]} smiles"


if __name__ == "__main__":
    rng = np.random.default_rng(11)
    with open("corpus.txt", "w") as out:
        out.write("\n".join(sentence(rng) for _ in range(4000)) + "\n")
