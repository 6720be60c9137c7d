import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `profile export P --device D -o look.cube`: the device's LUT as a .cube and, beside it
/// (`look.device.json`), its CCMs and tone table in fixed-point codes (`DeviceExport`).
enum DeviceExportRun {
    static func run(profile: String, device: String, size: Int?, raw: String?, space: OutputSpace, output: String, overwrite: Bool) throws {
        do {
            let look = try ProfileLoader.standard.load(profile)
            let description = try DeviceLoader.standard.load(device)
            if let size, size != description.lut?.size {
                throw ProfileError(file: "--cube", keyPath: "", message: "\(size): device \(description.name)'s 3-D LUT is " + (description.lut.map { "\($0.size)³; give that or leave --cube out" } ?? "float (none)"))
            }
            let image = try raw.map { try RawFile.read(path: $0) } ?? SyntheticScene(width: 240, height: 160).render()
            let url = URL(fileURLWithPath: output)
            let tablesPath = url.deletingPathExtension().path + ".device.json"
            let files = try DeviceExport.export(profile: look, device: description, raw: image,
                                                rawName: raw.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "the synthetic chart",
                                                space: space, cubeFileName: url.lastPathComponent)
            try AtomicOutput.write([(Array(files.lut.cubeText().utf8), output),
                                    (Array(ProfileDocument.format(files.tables).utf8), tablesPath)], overwrite: overwrite)
            print("\(output): \(files.lut.size)³ LUT of \(look.name) for \(description.name); \(tablesPath): CCM and tone table")
        } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
    }
}
