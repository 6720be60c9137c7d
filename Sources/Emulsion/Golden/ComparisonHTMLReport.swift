#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HTML page `emulsion compare --html` writes: one self-contained file, laid out as
/// `golden report`'s (`HTMLPage`), so a CI artefact of either reads the same way.
///
/// What: what was compared and the limits, a summary with the exit code, a table of every pair
/// worst first (`ImageFileComparison.worstFirst`), then a section for each pair that is not
/// identical: its verdict, figures, paths and notes, and the expected image, the actual image and
/// the heat map side by side (reduced 8-bit previews keeping an RGB ICC profile, so a
/// colour-managed browser shows their colours). Identical pairs are rows only: a picture of two
/// equal images shows nothing. Pairs beyond the run's preview limit keep their section without
/// images, and the page says how many were embedded.
/// Why: a folder of renders that drifted is judged by looking — which pairs, where in the frame,
/// how much — and a reviewer of a CI run has a browser, not the two folders.
public enum ComparisonHTMLReport {
    /// - Parameters:
    ///   - previewLimit: how many of the worst pairs the run kept images for (said in the page
    ///     when some pairs that differ have none).
    public static func html(_ results: [ImageFileComparison.Result], expected: String, actual: String,
                            tolerance: GoldenTolerance, seconds: Double, previewLimit: Int? = nil,
                            generated: Date = Date()) -> String {
        let ordered = results.sorted(by: ImageFileComparison.worstFirst)
        let summary = ImageFileComparison.summary(results, tolerance)
        let exitCode = ImageFileComparison.exitCode(results)
        var h = HTMLPage.opening(title: "Comparison: \(summary)") + """
            <h1>Comparison</h1>
            <p class="meta">expected <code>\(escape(expected))</code></p>
            <p class="meta">actual <code>\(escape(actual))</code></p>
            \(HTMLPage.summaryLine(summary, exitCode: exitCode, seconds: seconds, generated: generated))
            <p class="meta">Verdicts: identical when max ΔE2000 &lt; \(GoldenFormat.number(GoldenTolerance.identicalBelow)); pass within \(escape(tolerance.summary)); heat maps grey where unchanged.</p>

            """
        let differing = ordered.filter { $0.verdict != .identical && showsImages($0) }
        let shown = differing.filter { $0.previews != nil }.count
        if let previewLimit, shown < differing.count {
            h += "<p class=\"note\">Images embedded for the \(shown) worst of \(differing.count) pairs that differ (--html-images \(previewLimit)).</p>\n"
        }
        h += """
            <p id="image-status">Images not checked yet (scripts disabled?)</p>
            </header>
            <table class="overview">
            <thead><tr><th>verdict</th><th>pair</th><th>mean</th><th>p95</th><th>max</th><th>% above</th></tr></thead>
            <tbody>

            """
        for (i, r) in ordered.enumerated() {
            let name = r.verdict == .identical ? escape(r.name) : "<a href=\"#\(anchor(i))\">\(escape(r.name))</a>"
            h += "<tr class=\"\(r.verdict.rawValue)\"><td><span class=\"badge \(r.verdict.rawValue)\">\(escape(r.verdict.rawValue))</span></td>"
                + "<td>\(name)</td><td>\(HTMLPage.number(r.mean))</td><td>\(HTMLPage.number(r.p95))</td><td>\(HTMLPage.number(r.max))</td>"
                + "<td>\(r.fractionAbove.map { escape(GoldenFormat.percent($0)) } ?? "—")</td></tr>\n"
        }
        h += "</tbody>\n</table>\n"
        for (i, r) in ordered.enumerated() where r.verdict != .identical { h += section(r, anchor: anchor(i)) }
        h += HTMLPage.closing
        return h
    }

    static func section(_ r: ImageFileComparison.Result, anchor: String) -> String {
        var h = "<section class=\"case \(r.verdict.rawValue)\" id=\"\(anchor)\">\n"
        h += "<h2><span class=\"badge \(r.verdict.rawValue)\">\(escape(r.verdict.rawValue))</span> \(escape(r.name))</h2>\n"
        h += "<p class=\"message\">\(escape(r.message))</p>\n<dl>\n"
        func row(_ k: String, _ v: String) { h += "<dt>\(escape(k))</dt><dd>\(escape(v))</dd>\n" }
        if !r.expected.isEmpty { row("expected", r.expected) }
        if !r.actual.isEmpty { row("actual", r.actual) }
        if let p = r.heatMap { row("heat map", p) }
        h += "</dl>\n"
        for n in r.notes { h += "<p class=\"note\">\(escape(n))</p>\n" }
        if showsImages(r) {
            let none = r.previews == nil ? "not embedded" : "could not be made"
            h += "<div class=\"images\">\n"
            h += HTMLPage.figure(r.previews?.expected, "expected", "\(r.name): expected", missing: none)
            h += HTMLPage.figure(r.previews?.actual, "actual", "\(r.name): actual", missing: none)
            h += HTMLPage.figure(r.previews?.heatMap, "heat map (ΔE2000)", "\(r.name): heat map",
                                 missing: r.verdict == .sizeMismatch ? "sizes differ: no heat map" : none)
            h += "</div>\n"
        }
        return h + "</section>\n"
    }

    /// Whether a pair has images to show: errors and one-sided pairs do not (the message says why).
    static func showsImages(_ r: ImageFileComparison.Result) -> Bool { ![.unreadable, .onlyExpected, .onlyActual].contains(r.verdict) }

    /// Anchors by position: pair names are paths, which need not make valid or unique ids.
    static func anchor(_ index: Int) -> String { "pair-\(index + 1)" }

    private static func escape(_ s: String) -> String { HTMLPage.escape(s) }
}
