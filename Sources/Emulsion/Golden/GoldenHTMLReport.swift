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
        var h = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Golden report: \(e(suite.name)) — \(e(report.summary))</title>
            <style>\(style)</style>
            </head>
            <body>
            <header>
            <h1>Golden suite <code>\(e(suite.name))</code></h1>
            <p class="meta">\(e(suite.directory.path))\(suite.description.isEmpty ? "" : " — " + e(suite.description))</p>
            <p class="summary exit-\(report.exitCode)">\(e(report.summary)) · exit code \(report.exitCode) · \(e(GoldenFormat.number(report.seconds, digits: 1))) s · \(e(timestamp(generated)))</p>

            """
        for note in report.orphanNotes { h += "<p class=\"note\">\(e(note))</p>\n" }
        if !report.overrides.isEmpty {
            h += "<p class=\"whatif\">What-if run: every case rendered with <code>--set \(e(report.overrides.joined(separator: " --set ")))</code></p>\n"
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
            h += "<tr class=\"\(r.verdict.rawValue)\"><td><span class=\"badge \(r.verdict.rawValue)\">\(e(r.verdict.tag))</span></td>"
                + "<td><a href=\"#\(anchor(r))\">\(e(r.goldenCase.name))</a></td>"
                + "<td>\(figure(s?.mean))</td><td>\(figure(s?.percentile95))</td><td>\(figure(s?.max))</td>"
                + "<td>\(s.map { e(GoldenFormat.percent($0.fractionAbove)) } ?? "—")</td><td>\(e(r.goldenCase.tolerance.summary))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n"
        for r in ordered { h += section(r) }
        h += "<script>\(script)</script>\n</body>\n</html>\n"
        return h
    }

    static func section(_ r: GoldenCaseResult) -> String {
        let c = r.goldenCase
        var h = "<section class=\"case \(r.verdict.rawValue)\" id=\"\(anchor(r))\">\n"
        h += "<h2><span class=\"badge \(r.verdict.rawValue)\">\(e(r.verdict.tag))</span> \(e(c.name))</h2>\n"
        h += "<p class=\"message\">\(e(r.message))</p>\n<dl>\n"
        func row(_ k: String, _ v: String) { h += "<dt>\(e(k))</dt><dd>\(e(v))</dd>\n" }
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
        for n in r.notes { h += "<p class=\"note\">\(e(n))</p>\n" }
        h += "<div class=\"images\">\n"
        h += image(r.previews?.approved, "approved", "\(c.name): approved image", missing: "no approved image")
        h += image(r.previews?.actual, "actual", "\(c.name): actual render", missing: "not rendered")
        h += image(r.previews?.heatMap, "heat map (ΔE2000)", "\(c.name): heat map",
                   missing: r.verdict == .sizeMismatch ? "sizes differ: no heat map" : "no comparison")
        h += "</div>\n</section>\n"
        return h
    }

    static func image(_ png: [UInt8]?, _ caption: String, _ alt: String, missing: String) -> String {
        guard let png else {
            return "<figure class=\"missing\"><div class=\"placeholder\">\(e(missing))</div><figcaption>\(e(caption))</figcaption></figure>\n"
        }
        return "<figure><img alt=\"\(e(alt))\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
            + "<figcaption>\(e(caption))</figcaption></figure>\n"
    }

    static func figure(_ v: Double?) -> String { v.map { e(GoldenFormat.number($0)) } ?? "—" }

    static func anchor(_ r: GoldenCaseResult) -> String { "case-" + r.goldenCase.name }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// HTML text and attribute escaping.
    static func e(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;background:#1d1d1f;color:#ddd;margin:0 24px 48px}
        h1{font-size:22px;margin:20px 0 4px}h2{font-size:17px;margin:0 0 6px}
        code{font-family:ui-monospace,monospace}.meta{color:#999;margin:2px 0}
        .summary{font-weight:600}.exit-0{color:#7fd38a}.exit-1{color:#ff7b72}.exit-2{color:#f0b35a}
        .whatif{background:#4a3a10;padding:6px 10px;border-radius:4px}
        #image-status{color:#999}#image-status.bad{color:#ff7b72;font-weight:600}
        table.overview{border-collapse:collapse;margin:12px 0 20px}
        table.overview th,table.overview td{padding:3px 10px;text-align:left;border-bottom:1px solid #333}
        table.overview td:nth-child(n+3):nth-child(-n+6){text-align:right;font-variant-numeric:tabular-nums}
        a{color:#8ab4f8}
        .badge{display:inline-block;padding:1px 7px;border-radius:3px;font-size:12px;font-weight:700;color:#111}
        .badge.identical{background:#8e9aa6}.badge.pass{background:#7fd38a}
        .badge.fail,.badge.size-mismatch{background:#ff7b72}
        .badge.no-approved-image,.badge.unreadable-approved-image,.badge.cannot-render{background:#f0b35a}
        section.case{border-top:1px solid #444;padding:14px 0}
        .message{margin:2px 0 6px}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 12px;margin:0 0 8px;color:#bbb}
        dt{color:#888}dd{margin:0;word-break:break-all}
        .note{color:#f0b35a;margin:2px 0}
        .images{display:flex;gap:12px;align-items:flex-start;flex-wrap:wrap}
        figure{margin:0;flex:1 1 0;min-width:200px;max-width:560px}
        figure img{display:block;width:100%;height:auto;background:#000;image-rendering:pixelated}
        figcaption{color:#999;font-size:12px;margin-top:3px}
        .placeholder{aspect-ratio:3/2;display:flex;align-items:center;justify-content:center;border:1px dashed #555;color:#888}
        figure.broken{outline:2px solid #ff7b72}
        """

    /// Counts the images the browser could decode and says so in #image-status.
    static let script = """
        window.addEventListener('load', function () {
          var images = document.querySelectorAll('figure img'), shown = 0, broken = [];
          for (var i = 0; i < images.length; i++) {
            var img = images[i];
            if (img.complete && img.naturalWidth > 0) { shown++; }
            else { broken.push(img.alt); img.parentNode.className += ' broken'; }
          }
          var status = document.getElementById('image-status');
          status.textContent = shown + ' of ' + images.length + ' images displayed'
            + (broken.length ? '; not displayed: ' + broken.join(', ') : '');
          status.setAttribute('data-shown', shown);
          status.setAttribute('data-total', images.length);
          if (broken.length) { status.className = 'bad'; }
        });
        """
}
