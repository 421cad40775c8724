/** The statistics' charts: SVG drawn element by element, every bar and point with its value in a tooltip. */
import type { Stats } from "./api";
import { element, svg } from "./dom";
import { number, utc } from "./format";

export type Bucket = Stats["buckets"][number];

/** One stacked part of a bar; its key is also its CSS class and its data-series. */
export type Series = { key: string; label: string; value: (bucket: Bucket) => number };

const chartWidth = 400;
const chartHeight = 170;
const plot = { left: 40, right: 6, top: 12, bottom: 24 };

function label(x: number, y: number, text: string, anchor: "start" | "middle" | "end"): SVGTextElement {
  const node = svg("text", { x, y, "text-anchor": anchor });
  node.textContent = text;
  return node;
}

/** A bucket's start as short as it stays clear: the day, or the day and hour. */
function shortStart(bucket: Bucket): string {
  return bucket.start.slice(11, 16) === "00:00"
    ? bucket.start.slice(5, 10)
    : bucket.start.slice(5, 16).replace("T", " ");
}

function chartFrame(id: string, title: string, series: Series[], buckets: Bucket[], max: number) {
  const figure = element("figure");
  figure.id = id;
  figure.append(element("figcaption", null, title));
  if (series.length > 1) {
    const legend = element("div", "legend");
    for (const s of series) legend.append(element("span", s.key, s.label));
    figure.append(legend);
  }
  const drawing = svg("svg", { viewBox: `0 0 ${chartWidth} ${chartHeight}`, role: "img", "aria-label": title });
  const bottom = chartHeight - plot.bottom;
  drawing.append(
    svg("line", { class: "axis", x1: plot.left, x2: chartWidth - plot.right, y1: bottom, y2: bottom }),
    label(plot.left - 4, plot.top + 10, number(max), "end"),
    label(plot.left - 4, bottom, "0", "end"),
  );
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  if (first && last) {
    drawing.append(
      label(plot.left, chartHeight - 6, shortStart(first), "start"),
      label(chartWidth - plot.right, chartHeight - 6, shortStart(last), "end"),
    );
  }
  figure.append(drawing);
  return { figure, drawing };
}

function scaleMax(values: (number | null)[]): number {
  const max = Math.max(0, ...values.filter((value) => value !== null));
  return max === 0 ? 1 : max;
}

/** Stacked bars, one stack per bucket; every bar says its bucket and value in a tooltip. */
export function barChart(id: string, title: string, buckets: Bucket[], series: Series[]): HTMLElement {
  const totals = buckets.map((bucket) => series.reduce((sum, s) => sum + s.value(bucket), 0));
  const max = scaleMax(totals);
  const { figure, drawing } = chartFrame(id, title, series, buckets, max);
  const width = (chartWidth - plot.left - plot.right) / Math.max(buckets.length, 1);
  const height = chartHeight - plot.top - plot.bottom;
  buckets.forEach((bucket, i) => {
    let base = chartHeight - plot.bottom;
    for (const s of series) {
      const value = s.value(bucket);
      if (value <= 0) continue;
      const barHeight = (value / max) * height;
      base -= barHeight;
      const bar = svg("rect", {
        class: s.key,
        x: plot.left + i * width + width * 0.1,
        y: base,
        width: Math.max(width * 0.8, 0.5),
        height: barHeight,
        "data-series": s.key,
        "data-value": value,
      });
      const tip = svg("title");
      tip.textContent = `${utc(bucket.start)}: ${number(value)} ${s.label}`;
      bar.append(tip);
      drawing.append(bar);
    }
  });
  return figure;
}

/** A line through the buckets that have a value, with a point on each. */
export function lineChart(
  id: string,
  title: string,
  buckets: Bucket[],
  value: (bucket: Bucket) => number | null,
): HTMLElement {
  const values = buckets.map(value);
  const max = scaleMax(values);
  const { figure, drawing } = chartFrame(id, title, [], buckets, max);
  const width = (chartWidth - plot.left - plot.right) / Math.max(buckets.length, 1);
  const height = chartHeight - plot.top - plot.bottom;
  const points: string[] = [];
  buckets.forEach((bucket, i) => {
    const v = value(bucket);
    if (v === null) return;
    const x = plot.left + i * width + width / 2;
    const y = chartHeight - plot.bottom - (v / max) * height;
    points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
    const dot = svg("circle", { class: "point", cx: x, cy: y, r: 2.5, "data-value": v });
    const tip = svg("title");
    tip.textContent = `${utc(bucket.start)}: ${number(v)} ms`;
    dot.append(tip);
    drawing.append(dot);
  });
  if (points.length > 1) drawing.append(svg("polyline", { class: "latency", points: points.join(" ") }));
  if (points.length === 0) drawing.append(label(chartWidth / 2, chartHeight / 2, "no latency recorded", "middle"));
  return figure;
}
