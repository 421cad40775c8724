/** The Activity section: the range's totals as tiles, its buckets as charts, its most cited sources. */
import { readStats, type Stats } from "./api";
import { barChart, lineChart } from "./charts";
import { byId, clear, element, sourceLink } from "./dom";
import { number, utc } from "./format";

const day = 86_400_000;

/** The range the select names: whole UTC days ending with today, or the last 48 hours by hour. */
function statsRange(choice: string) {
  if (choice === "48h") return { bucket: "hour" as const };
  const to = Math.floor(Date.now() / day) * day + day;
  const days = Number(choice.replace("d", ""));
  return { bucket: "day" as const, from: new Date(to - days * day).toISOString(), to: new Date(to).toISOString() };
}

/** How many reads were asked for: only the latest one's answer is drawn. */
let reads = 0;

export async function loadStats(): Promise<void> {
  const read = ++reads;
  const stats = await readStats(statsRange(byId("stats-range", HTMLSelectElement).value));
  if (read === reads) renderStats(stats);
}

function tile(id: string, label: string, value: number | null): HTMLElement {
  const box = element("div", "tile");
  const shown = element("span", "value", number(value));
  shown.id = id;
  box.append(shown, element("span", "label", label));
  return box;
}

function renderStats(stats: Stats): void {
  const t = stats.totals;
  byId("stats-range-label").textContent = `From ${utc(stats.from)} to ${utc(stats.to)}, by ${stats.bucket} (UTC).`;
  const tiles = byId("tiles");
  clear(tiles);
  tiles.append(
    tile("total-sessions", "new sessions", t.sessions),
    tile("total-questions", "questions", t.questions),
    tile("total-readers", "signed-in readers", t.readers),
    tile("total-complete", "complete answers", t.answers.complete),
    tile("total-incomplete", "incomplete answers", t.answers.incomplete),
    tile("total-unanswered", "unanswered questions", t.failures.unanswered),
    tile("total-up", "rated up", t.ratings.up),
    tile("total-down", "rated down", t.ratings.down),
    tile("total-latency-p95", "p95 latency, ms", t.latency_ms.p95),
    tile("total-tokens", "tokens", t.tokens.total),
    tile("total-imported-sessions", "imported sessions", t.imported_sessions),
    tile("total-imported", "imported messages", t.imported_messages),
  );
  const charts = byId("charts");
  clear(charts);
  const buckets = stats.buckets;
  const per = stats.bucket;
  charts.append(
    barChart("chart-questions", `Questions per ${per}`, buckets, [
      { key: "questions", label: "questions", value: (b) => b.questions },
    ]),
    barChart("chart-readers", `Signed-in readers who asked, per ${per}`, buckets, [
      { key: "readers", label: "readers", value: (b) => b.readers },
    ]),
    barChart("chart-failures", `Failed and incomplete answers per ${per}`, buckets, [
      { key: "unanswered", label: "unanswered", value: (b) => b.failures.unanswered },
      { key: "incomplete", label: "incomplete", value: (b) => b.answers.incomplete },
    ]),
    lineChart("chart-latency", `p95 answer latency (ms) per ${per}`, buckets, (b) => b.latency_ms.p95),
    barChart("chart-ratings", `Ratings per ${per}`, buckets, [
      { key: "up", label: "up", value: (b) => b.ratings.up },
      { key: "down", label: "down", value: (b) => b.ratings.down },
    ]),
  );
  const sources = byId("top-sources");
  clear(sources);
  for (const source of stats.top_sources) {
    const item = element("li");
    item.append(
      sourceLink(source.title, source.url),
      " ",
      element("span", "muted", `(${number(source.answers)} answers)`),
    );
    sources.append(item);
  }
  if (stats.top_sources.length === 0) sources.append(element("li", "muted", "No answer cites a source in this range."));
}
