"""What a class's results say, for the instructor's Monday: `numtorch-labs summary RESULTS`.

Reads every RESULTS/<submission>/results.json that `grade` wrote and gives, per exercise, the mean score,
the share of submissions at full marks and the test failed most often, with a histogram of the totals
(RESULTS/summary.md and RESULTS/summary.svg). Submissions the grader had a problem with are counted apart.
"""
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import mean, median
from xml.sax.saxutils import escape

from labs.grading.lab import LabError
from labs.grading.report import write_file


@dataclass
class Result:
    """One submission's results.json, as the summary needs it."""

    name: str
    score: float
    tests: list  # Gradescope test entries: name, score, max_score, status, tags
    title: str
    titles: dict  # {exercise: title}
    problem: str

    def points(self, exercise):
        """(earned, worth) on `exercise`."""
        tests = [test for test in self.tests if test["tags"] == [exercise]]
        return sum(test["score"] for test in tests), sum(test["max_score"] for test in tests)


def read_results(folder):
    """(the results in folder/*/results.json, notes on the files that could not be read)."""
    results, notes = [], []
    for path in sorted(Path(folder).glob("*/results.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            extra, tests = data.get("extra_data", {}), list(data["tests"])
            [(test["name"], test["status"], test["tags"][0], test["score"] + test["max_score"]) for test in tests]  # all there
            results.append(Result(path.parent.name, float(data["score"]), tests,
                                  extra.get("title", ""), extra.get("titles", {}), extra.get("problem", "")))
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            notes.append(f"{path.parent.name}: results.json could not be read ({error!r})")
    return results, notes


def exercises_of(results):
    """Every exercise, in the order of the tests."""
    return list(dict.fromkeys(test["tags"][0] for result in results for test in result.tests if test.get("tags")))


def most_failed(results, exercise):
    """(test name, how many submissions failed it) for the test of `exercise` failed most often, or None."""
    failed = Counter(test["name"] for result in results for test in result.tests
                     if test["tags"] == [exercise] and test["status"] != "passed")
    return failed.most_common(1)[0] if failed else None


def percent(part, whole):
    return f"{100 * part / whole:.0f}%" if whole else "-"


def summary_markdown(counted, apart, notes, top, title, svg_name):
    """The summary page: totals, a histogram, then one table row per exercise."""
    lines = [f"# Summary: {title}", "",
             f"{len(counted)} submission(s) counted" + f" ({apart} not: the grader had a problem with them)" * bool(apart) + ".", ""]
    if counted:
        totals = [result.score for result in counted]
        lines += [f"Total: mean {mean(totals):.3g} / {top:g}, median {median(totals):g}, "
                  f"{percent(sum(score == top for score in totals), len(totals))} at full marks.", "",
                  f"![Histogram of the total scores]({svg_name})", "",
                  "| exercise | mean | at full marks | most common failing test |", "|---|---|---|---|"]
    for exercise in exercises_of(counted):
        points = [result.points(exercise) for result in counted]
        worth = max(worth for _, worth in points)
        worst = most_failed(counted, exercise)
        cells = [f"{counted[0].titles.get(exercise, exercise)} ({exercise})", f"{mean(e for e, _ in points):.3g} / {worth:g}",
                 percent(sum(earned == worth for earned, _ in points), len(counted)),
                 f"{worst[0]} ({worst[1]} of {len(counted)})" if worst else "none"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines + [""] + [f"- {note}" for note in notes]).rstrip() + "\n"


def bars(scores, top):
    """[(label, count)]: one bar per whole score up to 20 points, else ten equal ranges of the total."""
    whole = top <= 20 and float(top).is_integer()
    count = int(top) + 1 if whole else 10
    width = 1 if whole else top / 10
    heights = Counter(min(int(score // width), count - 1) for score in scores)
    label = (lambda i: f"{i}") if whole else (lambda i: f"{i * width:.3g}–{(i + 1) * width:.3g}")
    return [(label(i), heights[i]) for i in range(count)]


def histogram_svg(scores, top, title):
    """A bar chart of the total scores as SVG text (no plotting library)."""
    columns = bars(scores, top)
    bar, height, left, base = 44, 160, 40, 200
    tallest = max([count for _, count in columns] + [1])
    width = max(left + bar * len(columns) + 20, left + 8 * len(title) + 120)  # room for the bars and the title
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{base + 50}" '
             'font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="16" font-size="14">{escape(title)}: total scores</text>']
    for index, (label, count) in enumerate(columns):
        x, tall = left + index * bar, height * count / tallest
        parts += [f'<rect x="{x + 4}" y="{base - tall:.1f}" width="{bar - 8}" height="{tall:.1f}" fill="#4c72b0"/>',
                  f'<text x="{x + bar / 2}" y="{base - tall - 4:.1f}" text-anchor="middle">{count or ""}</text>',
                  f'<text x="{x + bar / 2}" y="{base + 16}" text-anchor="middle">{escape(label)}</text>']
    parts += [f'<line x1="{left}" y1="{base}" x2="{left + bar * len(columns)}" y2="{base}" stroke="black"/>',
              f'<text x="{left}" y="{base + 40}">points (bars: number of submissions)</text>', "</svg>"]
    return "\n".join(parts) + "\n"


def write_summary(folder):
    """Write folder/summary.md and folder/summary.svg; return the markdown."""
    folder = Path(folder)
    results, notes = read_results(folder)
    if not results and not notes:
        raise LabError(f"no results in '{folder}': it has no <submission>/results.json (run `numtorch-labs grade` first)")
    counted = [result for result in results if not result.problem]
    top = max((sum(test["max_score"] for test in result.tests) for result in counted), default=0)
    title = Counter(result.title for result in counted).most_common(1)[0][0] if counted else "no submission counted"
    write_file(folder / "summary.svg", histogram_svg([result.score for result in counted], top, title))
    text = summary_markdown(counted, len(results) - len(counted), notes, top, title, "summary.svg")
    write_file(folder / "summary.md", text)
    return text
