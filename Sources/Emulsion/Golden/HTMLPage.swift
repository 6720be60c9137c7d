#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the self-contained HTML reports share (`GoldenHTMLReport` for `golden report`,
/// `ComparisonHTMLReport` for `compare --html`): escaping, one style sheet, figures whose images are
/// `data:` URIs, and a script that says in the page whether every image decoded.
/// Why one place: the two reports are read side by side in CI artefacts; they should look and
/// behave alike, and a fix to escaping must reach both.
enum HTMLPage {
    /// HTML text and attribute escaping.
    static func escape(_ s: String) -> String {
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

    /// The header's verdict line: the summary, the exit code (coloured by it), the run's seconds and when.
    static func summaryLine(_ summary: String, exitCode: Int32, seconds: Double, generated: Date) -> String {
        "<p class=\"summary exit-\(exitCode)\">\(escape(summary)) · exit code \(exitCode) · "
            + "\(escape(GoldenFormat.number(seconds, digits: 1))) s · \(escape(timestamp(generated)))</p>"
    }

    /// A ΔE00 figure for a table cell, "—" when there is none.
    static func number(_ v: Double?) -> String { v.map { escape(GoldenFormat.number($0)) } ?? "—" }

    /// An image with its caption, or a placeholder saying why there is none.
    static func figure(_ png: [UInt8]?, _ caption: String, _ alt: String, missing: String) -> String {
        guard let png else {
            return "<figure class=\"missing\"><div class=\"placeholder\">\(escape(missing))</div><figcaption>\(escape(caption))</figcaption></figure>\n"
        }
        return "<figure><img alt=\"\(escape(alt))\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
            + "<figcaption>\(escape(caption))</figcaption></figure>\n"
    }

    /// The document up to the opening `<header>`, with the style sheet inline.
    static func opening(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        <header>

        """
    }

    /// The image-status script and the end of the document.
    static let closing = "<script>\(script)</script>\n</body>\n</html>\n"

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
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
        .badge.no-approved-image,.badge.unreadable-approved-image,.badge.cannot-render,.badge.unreadable{background:#f0b35a}
        .badge.only-in-expected,.badge.only-in-actual{background:#ff7b72}
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
