/// The page's one style sheet, inline in its head: readable on screen at 1280 px and on a phone,
/// and on paper (A4 or Letter: the page follows the printer's paper size, with margins that fit
/// both; charts are kept whole on a page; the folded tables stay folded).
enum ReportStyle {
    static let css = """
    :root { color-scheme: light; }
    * { box-sizing: border-box; }
    body { margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #111; background: #fff; }
    h1 { font-size: 26px; margin: 8px 0 12px; }
    h2 { font-size: 19px; margin: 28px 0 8px; padding-top: 8px; border-top: 2px solid #222; break-after: avoid; }
    code { font: 12px/1.3 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
    code.hash { word-break: break-all; font-size: 11px; }
    .banner { margin: 0; padding: 8px 12px; border: 2px solid #222; background: #f3f3f3; font-weight: 600; }
    dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 6px 24px; margin: 0; }
    dl.facts div { display: flex; gap: 10px; }
    dt { font-weight: 700; min-width: 118px; }
    dd { margin: 0; }
    figure { margin: 8px 0; break-inside: avoid; }
    svg.chart { display: block; max-width: 100%; height: auto; font-family: system-ui, "DejaVu Sans", Arial, sans-serif; }
    svg text { font-size: 12px; fill: #111; }
    svg text.axis, svg text.unit { font-size: 10.5px; fill: #444; }
    svg text.panel-title, svg text.lane-title, svg text.option-name { font-weight: 700; }
    svg text.empty { font-style: italic; fill: #555; }
    svg text.status-contraindicated { font-weight: 800; fill: #a50f15; }
    svg text.status-caution { font-weight: 700; fill: #7a4a00; }
    svg text.sign { font-size: 10px; font-weight: 700; }
    svg text.feature { font-size: 10.5px; }
    .alarm { border: 3px solid #a50f15; background: #fdecea; padding: 8px 12px; }
    .caution { border-left: 5px solid #7a4a00; background: #fff6e5; padding: 6px 12px; }
    .note { color: #333; font-size: 14px; }
    .warn { color: #7a4a00; }
    .flag { color: #a50f15; }
    table.data { border-collapse: collapse; margin: 10px 0; font-size: 13px; }
    table.data caption { text-align: left; font-weight: 700; padding: 4px 0; }
    table.data th, table.data td { border: 1px solid #bbb; padding: 3px 7px; text-align: left; vertical-align: top; }
    table.data td[data-check] { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
    table.matrix { font-size: 10px; }
    td.status-contraindicated { font-weight: 800; color: #a50f15; background: #fdecea; }
    td.pos::after { content: " ▶"; } td.neg::after { content: " ◀"; }
    details.behind { margin: 4px 0 12px; }
    details.behind > summary { cursor: pointer; color: #333; font-size: 13px; }
    details.behind[open] { overflow-x: auto; }
    ol.findings { padding-left: 22px; }
    li.finding { margin: 0 0 10px; }
    li.finding p { margin: 2px 0; }
    li.severity-critical .sev { color: #a50f15; font-weight: 800; }
    li.severity-warning .sev { color: #7a4a00; font-weight: 700; }
    ul.refs { margin: 2px 0; font-size: 13px; color: #333; }
    .url { word-break: break-all; }
    .evidence, .quiet { font-size: 13px; color: #333; }
    #about { font-size: 14px; }
    @media print {
      @page { margin: 12mm; }
      body { max-width: none; padding: 0; font-size: 10pt; }
      h2 { margin-top: 14px; }
      section { break-inside: auto; }
      figure, table.data tr, li.finding { break-inside: avoid; }
      details.behind > summary { display: none; }
      .banner, .alarm { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
      svg.chart { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    }
    """
}
