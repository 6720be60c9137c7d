import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO

extension ProfileCommand.Export {
    /// `profile export PROFILE --glsl -o look.comp`: the look as one compute shader (GLSLExport).
    func exportGLSL() throws {
        guard let profile else { complain("emulsion: profile export --glsl: name a profile"); throw ExitCode(2) }
        do {
            let look = try ProfileLoader.standard.load(profile)
            let shader = try GLSLExport.lookShader(profile: look, space: outputEncoding.space)
            try AtomicOutput.write(Array(shader.text.utf8), to: output, overwrite: overwrite)
            print("\(output): GLSL compute shader of \(look.name), output \(outputEncoding.rawValue)")
            for note in shader.notes { complain("emulsion: note: \(look.name): \(note)") }
        } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
    }
}
