#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters): one `<testsuite>` named after
/// the golden suite, one `<testcase>` per case (classname `golden.SUITE`), a `<failure>` for a fail
/// or size mismatch, an `<error>` for a case that could not be judged, and the figures and notes in
/// `<system-out>`.
/// Reference: the de-facto schema of Ant's JUnit report task (testsuites/testsuite/testcase with
/// failure, error, system-out; `time` in seconds), as read by Jenkins' JUnit plugin.
public enum GoldenJUnitReport {
    public static func xml(_ report: GoldenCheckReport, generated: Date = Date()) -> String {
        let failures = report.results.filter { $0.verdict.isFailure }.count
        let errors = report.results.filter { $0.verdict.isError }.count
        let time = GoldenFormat.number(report.seconds)
        let stamp = HTMLPage.timestamp(generated)
        let suite = report.suite.name
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"emulsion golden\" tests=\"\(report.results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(time)\">\n"
        x += "  <testsuite name=\"\(XMLText.attribute(suite))\" tests=\"\(report.results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\" "
            + "time=\"\(time)\" timestamp=\"\(stamp)\">\n"
        if !report.overrides.isEmpty {
            x += "    <properties><property name=\"what-if\" value=\"\(XMLText.attribute(report.overrides.joined(separator: " ")))\"/></properties>\n"
        }
        for r in report.results {
            x += "    <testcase classname=\"golden.\(XMLText.attribute(suite))\" name=\"\(XMLText.attribute(r.goldenCase.name))\" time=\"\(GoldenFormat.number(r.seconds))\">\n"
            let details = ([r.message, "input: \(r.input)", "render: \(r.goldenCase.optionsSummary)", "approved: \(r.approvedPath)"]
                + (r.actualPath.map { ["actual: \($0)"] } ?? []) + (r.heatMapPath.map { ["heat map: \($0)"] } ?? []) + r.notes)
                .joined(separator: "\n")
            if r.verdict.isFailure {
                x += "      <failure type=\"\(r.verdict.rawValue)\" message=\"\(XMLText.attribute(r.message))\">\(XMLText.text(details))</failure>\n"
            } else if r.verdict.isError {
                x += "      <error type=\"\(r.verdict.rawValue)\" message=\"\(XMLText.attribute(r.message))\">\(XMLText.text(details))</error>\n"
            }
            x += "      <system-out>\(XMLText.text(r.verdict.rawValue + ": " + details))</system-out>\n"
            x += "    </testcase>\n"
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }
}
