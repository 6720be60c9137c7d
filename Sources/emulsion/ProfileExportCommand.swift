import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension LUTEncoding: ExpressibleByArgument {}

extension ProfileCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Bake a look's colour mapping into a .cube 3-D LUT, a Hald CLUT .png, a RawTherapee .pp3 or a darktable .dtstyle with its Hald CLUT (or, with --import, turn a LUT into a look).",
            discussion: """
                The LUT maps the declared input encoding (e.g. an sRGB image rendered with the neutral profile) to the \
                look's output; vignette, grain and local contrast depend on position and are left out. \
                `profile export --import LUT -o look.json` is the same as `profile import LUT -o look.json`. \
                A .dtstyle applies the CLUT through darktable's lut 3D module, which finds LUTs below the 3D lut root \
                folder set in darktable's preferences (processing): the CLUT is written there with --lut-folder, else \
                beside the style, and the style names it relative to that folder.
                """)
        @Argument(help: "Profile name or path.") var profile: String?
        @Option(help: "Lattice points per axis: 33 or 65 (any 2…129 accepted; with --device, the device's size).") var cube: Int?
        @Option(name: .shortAndLong, help: "The .cube file to write, a .png for a Hald CLUT (level 8 unless --cube is 4, 9 … 144), a .pp3 for RawTherapee or a .dtstyle for darktable (its Hald CLUT written beside it as NAME.png; sRGB in and out); with --import: the profile to write.") var output: String
        @Option(help: "Input encoding the LUT expects.") var input: LUTEncoding = .sRGB
        @Option(name: .customLong("output-encoding"), help: "Encoding the LUT produces.") var outputEncoding: LUTEncoding = .sRGB
        @Option(name: .customLong("import"), help: "A .cube or Hald CLUT .png to turn into a look instead.") var importPath: String?
        @Option(help: "With --import: the new profile's name (default: the output file's name).") var name: String?
        @Flag(help: "Replace an existing output.") var overwrite = false
        @Option(help: "Export as this phone ISP would load it: its LUT size and entry precision, plus its CCM and tone table (JSON beside the .cube).") var device: String?
        @Option(help: "With --device: the raw whose camera the CCM is for (default: the synthetic chart).") var raw: String?
        @Option(help: "With --device: the output space the LUT encodes to.") var space: OutputSpace = .sRGB
        @Option(name: .customLong("lut-folder"), help: "With a .dtstyle: darktable's 3D lut root folder; the Hald CLUT is written there (default: beside the style, which is then the folder to set).") var lutFolder: String?
        @Flag(help: "Write a GLSL compute shader applying the look (-o look.comp) and its tables (look.tables.bin, binding 2) instead of a LUT; --output-encoding picks its output space.") var glsl = false

        func validate() throws {
            if glsl && device != nil { throw ValidationError("--glsl and --device cannot be combined: the shader renders in float") }
            // A .png output is a Hald CLUT, a .pp3 RawTherapee's profile and a .dtstyle darktable's
            // style; a device's LUT (17³, 33³: not a square lattice) and a shader are other files,
            // which any of these names would mislabel.
            let ext = ImageFile.fileExtension(of: output)
            let kinds = ["png": "a .png is a Hald CLUT", "pp3": "a .pp3 is a RawTherapee profile", "dtstyle": "a .dtstyle is a darktable style"]
            if importPath == nil, let kind = kinds[ext], glsl || device != nil {
                throw ValidationError("-o \(output): \(kind); " + (glsl ? "--glsl writes a shader (name it .comp)" : "--device writes a .cube (name it .cube)"))
            }
            if lutFolder != nil, importPath != nil || ext != "dtstyle" {
                throw ValidationError("--lut-folder is darktable's 3D lut root folder: it goes with -o NAME.dtstyle")
            }
        }

        func run() throws {
            if glsl { try exportGLSL(); return }
            if let device, let profile, importPath == nil {
                try DeviceExportRun.run(profile: profile, device: device, size: cube, raw: raw, space: space, output: output, overwrite: overwrite)
                return
            }
            if let importPath {
                try Import.write(lut: importPath, to: output, name: name, input: nil, output: nil, overwrite: overwrite)
                return
            }
            guard let profile else { complain("emulsion: profile export: name a profile (or use --import)"); throw ExitCode(2) }
            // A .png output is a Hald CLUT (RawTherapee's film simulation, darktable's lut3d, ImageMagick's
            // -hald-clut): L² points per axis for a level-L image. A .pp3 (RawTherapee's processing
            // profile) or a .dtstyle (a darktable style) applies one, written beside it or, for darktable,
            // in its LUT root folder.
            let ext = ImageFile.fileExtension(of: output)
            let wrapper = ext == "pp3" || ext == "dtstyle" ? ext : nil
            let hald = wrapper != nil || ext == "png"
            let stem = URL(fileURLWithPath: output).deletingPathExtension()
            let clutPath = wrapper == nil ? output
                : lutFolder.map { URL(fileURLWithPath: $0).appendingPathComponent(stem.lastPathComponent + ".png").path } ?? stem.appendingPathExtension("png").path
            if wrapper != nil, input != .sRGB || outputEncoding != .sRGB {
                complain("emulsion: -o \(output): \(wrapper == "pp3" ? "RawTherapee" : "darktable's lut 3D") applies a Hald CLUT to sRGB values and takes sRGB back; leave out --input and --output-encoding")
                throw ExitCode(2)
            }
            let cube = self.cube ?? (hald ? 64 : 33)
            if hald {
                guard (2...12).contains(where: { $0 * $0 == cube }) else {
                    complain("emulsion: --cube \(cube): a Hald CLUT needs a square number of points per axis, 4…144 (64 is level 8, 144 level 12)")
                    throw ExitCode(2)
                }
            } else {
                guard (2...129).contains(cube) else { complain("emulsion: --cube \(cube): expected 33 or 65 (2…129)"); throw ExitCode(2) }
            }
            do {
                let look = try ProfileLoader.standard.load(profile)
                // darktable reads the LUT's name into 512 bytes with its terminating NUL.
                let clutName = URL(fileURLWithPath: clutPath).lastPathComponent
                if wrapper == "dtstyle", clutName.utf8.count > DarktableStyle.maximumPathBytes {
                    throw RenderError("\(clutPath): darktable takes LUT names of at most \(DarktableStyle.maximumPathBytes) bytes")
                }
                let lut = try LookExport.cube(profile: look, size: cube, input: input, output: outputEncoding)
                if wrapper != nil, let problem = AtomicOutput.problem(replacing: output, overwrite: overwrite) { throw problem }
                try AtomicOutput.write(hald ? try HaldCLUT.fileBytes(lut) : Array(lut.cubeText().utf8), to: clutPath, overwrite: overwrite)
                // Say which of this look's stages the LUT cannot hold, so nobody mistakes it for the whole look.
                let leftOut = LookExport.positionDependentStages.filter { look.number($0, "amount") != 0 }
                let leftOutNote = leftOut.isEmpty ? "" : "; left out (they depend on position): " + leftOut.joined(separator: ", ")
                let what = "\(cube)³ " + (hald ? "Hald CLUT (level \(Int(Double(cube).squareRoot())))" : "LUT")
                switch wrapper {
                case "pp3":
                    try AtomicOutput.write(Array(LookExport.rawTherapeeProfile(clut: clutPath, look: look).utf8), to: output, overwrite: overwrite)
                    print("\(output): RawTherapee profile applying \(clutPath): \(what) of \(look.name), input srgb, output srgb\(leftOutNote)")
                case "dtstyle":
                    let styleName = "emulsion|" + look.name
                    let description = "Emulsion look \(look.name), a \(what) in \(clutName) applied by lut 3D. \(look.summary)"
                        + (leftOut.isEmpty ? "" : " Left out: " + leftOut.joined(separator: ", ") + ".")
                    let style = DarktableStyle.document(name: styleName, description: description, lutRelativePath: clutName)
                    try AtomicOutput.write(Array(style.utf8), to: output, overwrite: overwrite)
                    let root = URL(fileURLWithPath: clutPath).deletingLastPathComponent().path
                    print("\(output): darktable style \"\(styleName)\" applying \(clutPath): \(what) of \(look.name), input srgb, output srgb\(leftOutNote)")
                    print("  set darktable's 3D lut root folder (preferences › processing) to \(root), then import the style in the styles module")
                    print("  the LUT expects Emulsion's neutral rendering: to see the look as Emulsion renders it, develop without darktable's "
                          + "filmic and exposure defaults (preferences › processing › auto-apply pixel workflow defaults: none; "
                          + "darktable-cli: --core --conf plugins/darkroom/workflow=none)")
                default:
                    print("\(clutPath): \(what) of \(look.name), input \(input.rawValue), output \(outputEncoding.rawValue)\(leftOutNote)")
                }
            } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Turn a .cube or Hald CLUT .png into a look (a profile that applies it).")
        @Argument(help: "The LUT (.cube or Hald .png).") var lut: String
        @Option(name: .shortAndLong, help: "The profile file to write.") var output: String
        @Option(help: "The new profile's name (default: the output file's name).") var name: String?
        @Option(help: "Input encoding the LUT expects (default: as an Emulsion .cube declares it, else srgb).") var input: LUTEncoding?
        @Option(name: .customLong("output-encoding"), help: "Encoding the LUT produces (default: as declared, else srgb).") var outputEncoding: LUTEncoding?
        @Flag(help: "Replace an existing output.") var overwrite = false

        func run() throws {
            try Self.write(lut: lut, to: output, name: name, input: input, output: outputEncoding, overwrite: overwrite)
        }

        static func write(lut path: String, to output: String, name: String?, input: LUTEncoding?, output encoding: LUTEncoding?, overwrite: Bool) throws {
            do {
                let lut = path.lowercased().hasSuffix(".png") ? try HaldCLUT.read(path: path) : try LUT3D.readCube(path: path)
                let declared = LookExport.declaredEncodings(lut)
                let name = name ?? URL(fileURLWithPath: output).deletingPathExtension().lastPathComponent
                let document = LookExport.importedDocument(lutPath: path, profilePath: output, name: name,
                                                           input: input ?? declared.input ?? .sRGB, output: encoding ?? declared.output ?? .sRGB)
                let url = URL(fileURLWithPath: output)
                _ = try ProfileLoader.standard.resolve(document, file: output, directory: url.deletingLastPathComponent())
                try AtomicOutput.write(Array(ProfileDocument.format(document).utf8), to: output, overwrite: overwrite)
                print("\(output): look \(name) applying \(path) (\(lut.size)³)")
            } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
        }
    }
}

extension ProfileCommand.Export {
    /// The arguments without a bare `--cube` (one not followed by a size) when they export for a
    /// device: `profile export P --device D --cube` then means the device's own LUT size.
    static func droppingBareDeviceCube(_ arguments: [String]) -> [String] {
        guard arguments.starts(with: ["profile", "export"]),
              arguments.contains(where: { $0 == "--device" || $0.hasPrefix("--device=") }) else { return arguments }
        var out: [String] = []
        for (i, argument) in arguments.enumerated() {
            if argument == "--cube" {
                let next = i + 1 < arguments.count ? arguments[i + 1] : nil
                if next.map({ Int($0) == nil }) ?? true { continue }
            }
            out.append(argument)
        }
        return out
    }
}
