import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO

extension ProfileCommand.Export {
    /// `profile export PROFILE --glsl -o look.comp`: the look as a compute shader and its tables
    /// (`look.tables.bin`, GLSLExport).
    func exportGLSL() throws {
        guard let profile else { complain("emulsion: profile export --glsl: name a profile"); throw ExitCode(2) }
        do {
            let look = try ProfileLoader.standard.load(profile)
            let notes = try GLSLExport.write(profile: look, space: outputEncoding.space, to: output, overwrite: overwrite)
            print("\(output): GLSL compute shader of \(look.name), output \(outputEncoding.rawValue); its tables (binding 2): \(GLSLExport.tablesPath(for: output))")
            for note in notes { complain("emulsion: note: \(look.name): \(note)") }
        } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
    }
}
