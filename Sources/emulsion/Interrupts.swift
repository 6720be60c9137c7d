import Emulsion
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM: remove temporaries in flight, then exit, so an interrupted batch leaves only
/// complete outputs. The work happens on a dispatch queue, not inside a signal handler, so taking
/// locks and unlinking files is safe. SIGXFSZ is ignored so a file-size limit (or a full quota)
/// surfaces as a write error (EFBIG) on the one file instead of killing the batch.
enum Interrupts {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func install() {
        signal(SIGXFSZ, SIG_IGN)
        for s in [SIGINT, SIGTERM] {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler {
                AtomicOutput.InFlight.shared.removeAllBeforeExit()
                complain("emulsion: interrupted; temporary files removed")
                exit(128 + s)
            }
            source.resume()
            sources.append(source)
        }
    }
}
