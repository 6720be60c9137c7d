#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HTML page `emulsion golden report` writes: one self-contained file (no external resources:
/// images are `data:` URIs, style and script inline), so it can be attached to a CI run or mailed.
///
/// What: a summary table, then every case worst first (errors, failures, passes, identical; by
/// max ΔE00 within each), each with its verdict, figures (mean, p95, max ΔE00, % of pixels above the
/// threshold, limits), notes, and the approved image, the new render and the heat map side by side
/// (reduced 8-bit previews; the approved and actual previews keep their ICC profile, so a
/// colour-managed browser shows their true colours). A small inline script reports in the page
/// whether every image decoded ("12 of 12 images displayed"), and marks any that did not.
public enum GoldenHTMLReport {
    public static func html(_ report: GoldenCheckReport, generated: Date = Date()) -> String {
        let suite = report.suite
        var h = HTMLPage.opening(title: "Golden report: \(suite.name) — \(report.summary)") + """
            <h1>Golden suite <code>\(escape(suite.name))</code></h1>
            <p class="meta">\(escape(suite.directory.path))\(suite.description.isEmpty ? "" : " — " + escape(suite.description))</p>
            \(HTMLPage.summaryLine(report.summary, exitCode: report.exitCode, seconds: report.seconds, generated: generated))

            """
        for note in report.orphanNotes { h += "<p class=\"note\">\(escape(note))</p>\n" }
        if !report.overrides.isEmpty {
            h += "<p class=\"whatif\">What-if run: every case rendered with <code>--set \(escape(report.overrides.joined(separator: " --set ")))</code></p>\n"
        }
        h += """
            <p class="meta">Verdicts: identical when max ΔE2000 &lt; \(GoldenFormat.number(GoldenTolerance.identicalBelow)); pass within the case's limits (default mean ≤ 0.77 and max ≤ 2.3, as darktable's integration tests); heat maps grey where unchanged.</p>
            <p id="image-status">Images not checked yet (scripts disabled?)</p>
            </header>
            <table class="overview">
            <thead><tr><th>verdict</th><th>case</th><th>mean</th><th>p95</th><th>max</th><th>% above</th><th>limits</th></tr></thead>
            <tbody>

            """
        let ordered = report.worstFirst
        for r in ordered {
            let s = r.statistics
            h += "<tr class=\"\(r.verdict.rawValue)\"><td><span class=\"badge \(r.verdict.rawValue)\">\(escape(r.verdict.tag))</span></td>"
                + "<td><a href=\"#\(anchor(r))\">\(escape(r.goldenCase.name))</a></td>"
                + "<td>\(HTMLPage.number(s?.mean))</td><td>\(HTMLPage.number(s?.percentile95))</td><td>\(HTMLPage.number(s?.max))</td>"
                + "<td>\(s.map { escape(GoldenFormat.percent($0.fractionAbove)) } ?? "—")</td><td>\(escape(r.goldenCase.tolerance.summary))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n"
        for r in ordered { h += section(r) }
        h += HTMLPage.closing
        return h
    }

    static func section(_ r: GoldenCaseResult) -> String {
        let c = r.goldenCase
        var h = "<section class=\"case \(r.verdict.rawValue)\" id=\"\(anchor(r))\">\n"
        h += "<h2><span class=\"badge \(r.verdict.rawValue)\">\(escape(r.verdict.tag))</span> \(escape(c.name))</h2>\n"
        h += "<p class=\"message\">\(escape(r.message))</p>\n<dl>\n"
        func row(_ k: String, _ v: String) { h += "<dt>\(escape(k))</dt><dd>\(escape(v))</dd>\n" }
        if let s = r.statistics {
            row("ΔE2000", "mean \(GoldenFormat.number(s.mean)), p95 \(GoldenFormat.number(s.percentile95)), max \(GoldenFormat.number(s.max))")
            row("above \(GoldenFormat.number(s.threshold))", "\(GoldenFormat.percent(s.fractionAbove)) of \(s.count) pixels")
        }
        row("limits", c.tolerance.summary)
        row("input", r.input)
        row("render", c.optionsSummary)
        if let a = r.approvedSize { row("approved", "\(a.width)×\(a.height) — \(r.approvedPath)") }
        if let a = r.actualSize { row("actual", "\(a.width)×\(a.height)" + (r.actualPath.map { " — \($0)" } ?? "")) }
        if let p = r.heatMapPath { row("heat map", p) }
        row("time", GoldenFormat.number(r.seconds, digits: 2) + " s")
        if !c.note.isEmpty { row("note", c.note) }
        h += "</dl>\n"
        for n in r.notes { h += "<p class=\"note\">\(escape(n))</p>\n" }
        h += "<div class=\"images\">\n"
        h += HTMLPage.figure(r.previews?.approved, "approved", "\(c.name): approved image", missing: "no approved image")
        h += HTMLPage.figure(r.previews?.actual, "actual", "\(c.name): actual render", missing: "not rendered")
        h += HTMLPage.figure(r.previews?.heatMap, "heat map (ΔE2000)", "\(c.name): heat map",
                   missing: r.verdict == .sizeMismatch ? "sizes differ: no heat map" : "no comparison")
        h += "</div>\n</section>\n"
        return h
    }

    static func anchor(_ r: GoldenCaseResult) -> String { "case-" + r.goldenCase.name }

    private static func escape(_ s: String) -> String { HTMLPage.escape(s) }
}
