// The web UI's HTML shell and stylesheet, as constants so they ship inside the compiled server
// (nothing to copy next to dist/). The page's code is client.ts, compiled by the same tsc run and
// served from dist as /ui/client.js.

export const UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera</title>
<link rel="stylesheet" href="/ui/style.css">
<script type="module" src="/ui/client.js"></script>
</head>
<body>
<header>
  <a class="brand" href="#/">Tessera</a>
  <nav>
    <a href="#/" data-nav="overview">Overview</a>
    <a href="#/workflows" data-nav="workflows">Workflows</a>
    <a href="#/rules" data-nav="rules">VSchema &amp; rules</a>
    <a href="/debug/status">Status</a>
    <a href="/metrics">Metrics</a>
  </nav>
  <span id="updated" class="muted"></span>
</header>
<div id="banner" class="banner" hidden></div>
<main id="main"><p class="muted">Loading…</p>
<noscript><p>This page needs JavaScript. The same data as JSON: <a href="/api/v1/ClusterOverview">/api/v1/ClusterOverview</a>.</p></noscript>
</main>
<dialog id="confirm">
  <h2 data-dialog-title></h2>
  <pre data-dialog-output></pre>
  <div class="actions"><button type="button" data-dialog-run disabled>Run</button> <button type="button" data-dialog-close>Cancel</button></div>
</dialog>
</body>
</html>
`;

export const UI_CSS = `
:root { --fg: #1d2330; --muted: #6b7385; --line: #d8dce4; --bg: #f6f7f9; --card: #fff;
  --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --off: #718096; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 20px; background: #1d2330; color: #fff; }
header a { color: #cfd6e4; text-decoration: none; }
header a:hover, header a.active { color: #fff; }
header nav { display: flex; gap: 16px; flex: 1; }
.brand { font-weight: 700; font-size: 16px; color: #fff !important; }
#updated { color: #aab3c5; font-size: 12px; }
main { padding: 16px 20px; max-width: 1400px; }
h1 { font-size: 20px; margin: 4px 0 12px; }
h2 { font-size: 16px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin-bottom: 16px; }
.card-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; border: 1px solid var(--line); background: #f0f2f6; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num { font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f3f5f8; border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow: auto; max-height: 480px; margin: 4px 0; }
.banner { background: #fff5f5; color: var(--bad); border-bottom: 1px solid #feb2b2; padding: 8px 20px; }
.state { font-weight: 600; }
.state-healthy, .state-serving { color: var(--ok); }
.state-not_serving, .state-not-serving { color: var(--warn); }
.state-unhealthy, .state-unreachable { color: var(--bad); }
.state-unknown { color: var(--off); }
.keybar { margin: 10px 0 4px; }
.lane { position: relative; height: 30px; background: #eef1f5; border: 1px solid var(--line); border-radius: 3px; margin-bottom: 3px; }
.seg { position: absolute; top: 2px; bottom: 2px; border-radius: 3px; background: #3c78c3; color: #fff; font: 12px/26px ui-monospace, monospace;
  text-align: center; overflow: hidden; white-space: nowrap; border: 1px solid #2c5d9c; text-decoration: none; }
.seg.not-serving { background: #a0aec0; border-color: #718096; }
.seg:hover { filter: brightness(1.1); }
.gap, .overlap { position: absolute; top: 0; bottom: 0; background: repeating-linear-gradient(45deg, #fed7d7, #fed7d7 4px, #fff5f5 4px, #fff5f5 8px);
  border: 1px dashed var(--bad); color: var(--bad); font: 11px/28px ui-monospace, monospace; text-align: center; overflow: hidden; }
.overlap { top: auto; height: 6px; bottom: -5px; background: var(--bad); }
.ticks { position: relative; height: 16px; font: 11px ui-monospace, monospace; color: var(--muted); }
.ticks span { position: absolute; transform: translateX(-50%); }
.ticks span:first-child { transform: none; }
.ticks span:last-child { transform: translateX(-100%); }
.coverage { font-size: 12px; margin: 2px 0 8px; }
.coverage.bad { color: var(--bad); font-weight: 600; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.wf-running, .wf-done { color: var(--ok); }
.wf-copying, .wf-init, .wf-throttled { color: var(--warn); }
.wf-stopped, .wf-pending { color: var(--off); }
.wf-error { color: var(--bad); }
.wf-completed { color: var(--ok); }
.bar { display: inline-block; width: 140px; height: 10px; background: #eef1f5; border: 1px solid var(--line); border-radius: 3px; vertical-align: middle; margin-right: 6px; }
.bar > div { height: 100%; background: var(--accent); }
.actions button { font: inherit; padding: 4px 12px; border: 1px solid var(--line); border-radius: 4px; background: #f0f2f6; cursor: pointer; }
.actions button:hover { background: #e2e8f0; }
tr.logrow td { border-bottom: 1px solid var(--line); padding-top: 0; }
table.logs { font-size: 12px; }
.vdiff { border-top: 1px solid var(--line); padding-top: 6px; margin-top: 6px; }
dialog { width: min(900px, 92vw); border: 1px solid var(--line); border-radius: 6px; }
dialog pre { max-height: 60vh; white-space: pre-wrap; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
`;
