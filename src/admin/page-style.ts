/**
 * The operators' page's stylesheet, sent inline with the page's nonce (no other origin, no file to
 * fetch). Charts are SVG drawn by the page's script and styled by these classes: the
 * Content-Security-Policy allows no style attributes.
 */
export const adminPageStyle = `
:root { color-scheme: light; --ink: #1d232b; --muted: #5b6572; --line: #d9dee5; --panel: #f6f8fa;
  --accent: #1f5fbf; --good: #2e7d32; --bad: #c62828; --warn: #d98200; font-size: 16px; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #fff; line-height: 1.4; }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 1rem; padding: .75rem 1rem;
  border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 1.15rem; margin: 0; }
main, #login { max-width: 72rem; margin: 0 auto; padding: 1rem; }
section { margin: 0 0 2rem; }
nav.views { display: flex; flex-wrap: wrap; gap: .25rem; border-bottom: 1px solid var(--line); margin-bottom: .5rem; }
nav.views a { padding: .4rem .8rem; color: var(--accent); text-decoration: none; border: 1px solid transparent;
  border-radius: .3rem .3rem 0 0; margin-bottom: -1px; }
nav.views a[aria-current=page] { color: var(--ink); font-weight: 600; border-color: var(--line); border-bottom-color: #fff; }
a { color: var(--accent); }
a.permalink { color: inherit; }
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
h3 { font-size: .95rem; margin: 1rem 0 .25rem; }
button, input, select { font: inherit; }
button { border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: .3rem;
  padding: .35rem .8rem; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
input[type=text], input[type=password], input[type=search], input[type=date], input[type=number], select {
  border: 1px solid var(--line); border-radius: .3rem; padding: .35rem .5rem; max-width: 100%; }
form.row { display: flex; flex-wrap: wrap; gap: .5rem .9rem; align-items: end; margin-bottom: .75rem; }
form.row label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .15rem; }
form.row label.check { flex-direction: row; align-items: center; gap: .35rem; color: var(--ink); }
.alert { color: var(--bad); min-height: 1.4em; margin: .5rem 0; }
.muted { color: var(--muted); font-size: .85rem; }
[hidden] { display: none !important; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: .5rem; margin-bottom: 1rem; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .7rem; }
.tile .value { display: block; font-size: 1.35rem; font-weight: 600; }
.tile .label { font-size: .8rem; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .6rem; }
figcaption { font-size: .9rem; font-weight: 600; margin-bottom: .25rem; }
figure svg { display: block; width: 100%; height: auto; }
.legend { font-size: .8rem; color: var(--muted); }
.legend span::before { content: ""; display: inline-block; width: .7em; height: .7em; margin: 0 .3em 0 .6em; }
.legend .questions::before, svg .questions { background: var(--accent); fill: var(--accent); }
.legend .readers::before, svg .readers { background: var(--accent); fill: var(--accent); }
.legend .unanswered::before, svg .unanswered { background: var(--bad); fill: var(--bad); }
.legend .incomplete::before, svg .incomplete { background: var(--warn); fill: var(--warn); }
.legend .up::before, svg .up { background: var(--good); fill: var(--good); }
.legend .down::before, svg .down { background: var(--bad); fill: var(--bad); }
svg .latency { fill: none; stroke: var(--accent); stroke-width: 2; }
svg .point { fill: var(--accent); }
svg .axis { stroke: var(--line); stroke-width: 1; }
svg text { font-size: 13px; fill: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
td.number, th.number { text-align: right; white-space: nowrap; }
td.reader { white-space: nowrap; }
td.title { overflow-wrap: anywhere; }
td.time { min-width: 6.5rem; }
ol.sources { margin: 0; padding-left: 1.4rem; }
ol.sources li { margin: .2rem 0; }
.hits { list-style: none; padding: 0; margin: 0; }
.ranked { margin: 0; padding-left: 1.6rem; }
.ranked li { margin: .3rem 0; overflow-wrap: anywhere; }
.ranked p { margin: 0; }
.hits li { border-bottom: 1px solid var(--line); padding: .5rem 0; }
/* The content gaps and the answers rated down: a question, an answer or a comment can be one long word. */
.findings .question, .findings .comment, .findings .answer { overflow-wrap: anywhere; white-space: pre-wrap; margin: .2rem 0; }
.findings .question { font-weight: 600; }
.findings .comment { border-left: 3px solid var(--bad); padding-left: .5rem; }
.findings details { font-size: .9rem; }
.findings ol.sources { font-size: .85rem; overflow-wrap: anywhere; }
.findings ol.sources li { border-bottom: 0; padding: 0; }
mark { background: #ffe58a; color: inherit; padding: 0 .1em; }
.messages { display: flex; flex-direction: column; gap: .6rem; }
article.message { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .75rem; }
article.message.bot { background: var(--panel); }
article.message.focused { outline: 3px solid var(--accent); }
article.message .text { white-space: pre-wrap; overflow-wrap: anywhere; margin: .35rem 0; }
article.message dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: .35rem 0; font-size: .85rem; }
article.message dt { color: var(--muted); }
article.message dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: .75rem; border-radius: .25rem; padding: 0 .35rem; border: 1px solid var(--line); }
.badge.incomplete, .badge.down { color: var(--bad); border-color: var(--bad); }
.badge.up { color: var(--good); border-color: var(--good); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; background: #fff; border: 1px solid var(--line); padding: .4rem; }
@media (max-width: 48rem) {
  .charts { grid-template-columns: minmax(0, 1fr); }
  main, #login { padding: .75rem; }
  header { padding: .6rem .75rem; }
  .hide-narrow { display: none; }
  /* The sessions table as cards: one row a card, its values named by their columns. */
  table.sessions, table.sessions tbody, table.sessions tr, table.sessions td { display: block; }
  table.sessions thead { display: none; }
  table.sessions tr { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: .1rem .4rem;
    padding: .5rem 0; border-bottom: 1px solid var(--line); }
  table.sessions td { border: 0; padding: 0; text-align: left; }
  table.sessions td.title { grid-column: 1 / -1; }
  table.sessions td.time { grid-column: span 3; }
  table.sessions td.reader { grid-column: span 2; }
  table.sessions td[data-label]::before { content: attr(data-label); display: block; font-size: .7rem; color: var(--muted);
    overflow-wrap: anywhere; }
  table.sessions td.title::before { content: none; }
}
`;
