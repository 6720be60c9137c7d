import CProcessShim
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `body(i)` for every i in 0..<iterations, on the calling thread and this process's helper
/// threads, each index once; returns when all have run. What `DispatchQueue.concurrentPerform`
/// does, for the render's own parallel loops (PNG segments, LJ92 tiles, the transposition, the
/// executor's bands, local contrast's surround pre-pass).
///
/// Why not Dispatch: Linux queues a woken thread on the CPU of the thread that woke it, and
/// there it waits while the waker keeps computing, even with the other CPU idle (the decode
/// worker's start had the same cause, session 19). A `concurrentPerform` of two iterations then
/// ran both on the calling thread, one after the other, in most runs on the project's 2-core
/// machine (iterations of 0.17 and 0.8 ms); Dispatch's helper joined too late to take one. Here
/// the helpers are woken while their CPU mask leaves out the caller's CPU (`emu_keep_off_this_cpu`),
/// so the kernel places them elsewhere, and get their whole mask back at once: in the same test
/// the second iteration started 25–70 µs after the first (docs/PERFORMANCE.md, session 21).
///
/// The helpers (one fewer than `AvailableProcessors`) start on first use, or at `prepare()`,
/// and then wait for work. One loop at a time uses them: a loop started while another runs (a
/// batch's files rendered side by side, a loop inside a loop) goes to Dispatch as before.
public enum ParallelLoop {
    /// Starts the helper threads now, so that the first loop does not wait for their creation
    /// (`emulsion process` calls this once its decode worker is forked: a process with threads
    /// can no longer fork one).
    public static func prepare() { _ = HelperPool.shared }

    public static func run(iterations: Int, _ body: (Int) -> Void) {
        guard iterations > 1 else {
            if iterations == 1 { body(0) }
            return
        }
        let pool = HelperPool.shared
        guard !pool.helpers.isEmpty else {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            if !pool.perform(iterations: iterations, body) {
                DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
            }
        }
    }
}

/// The helper threads and the one loop they work on.
final class HelperPool: @unchecked Sendable {
    static let shared = HelperPool(helpers: AvailableProcessors.count() - 1)

    private let state = ThreadCondition()
    /// The process whose threads `helpers` names: in a copy made by `fork`, those threads do not
    /// exist, and their IDs may belong to other processes, whose CPU masks must not be touched.
    private let owner = getpid()
    /// Kernel thread IDs of the started helpers (read-only once `init` returns).
    private(set) var helpers: [Int32] = []
    // Guarded by `state`:
    private var body: ((Int) -> Void)?
    private var next = 0, count = 0
    /// Helpers inside the current loop's body.
    private var working = 0
    /// Bumped for every loop, so that a helper takes part in each loop once it sees it.
    private var generation = 0
    private var started = 0

    init(helpers wanted: Int) {
        state.lock()
        for _ in 0..<max(0, wanted) {
            guard DetachedThread.start({ [unowned self] in self.serve() }) else { break }
            started += 1
        }
        // Wait for the helpers' thread IDs, which waking them elsewhere needs.
        while helpers.count < started { state.wait() }
        state.unlock()
    }

    /// Runs the loop with the helpers; false, having run nothing, when another loop has them.
    func perform(iterations: Int, _ loopBody: @escaping (Int) -> Void) -> Bool {
        guard getpid() == owner else { return false }
        state.lock()
        guard body == nil else {
            state.unlock()
            return false
        }
        body = loopBody
        next = 0
        count = iterations
        generation &+= 1
        state.unlock()
        // Placed off this CPU while being woken, then free again (the kernel does not move a
        // placed thread back).
        let placed = helpers.map { emu_keep_off_this_cpu($0) == 1 }
        state.broadcast()
        for (helper, moved) in zip(helpers, placed) where moved { emu_allow_every_cpu(helper) }
        state.lock()
        runIterations(of: loopBody)
        while working > 0 { state.wait() }
        body = nil
        state.unlock()
        return true
    }

    /// Takes indices until none are left; called and returns with `state` locked.
    private func runIterations(of loopBody: (Int) -> Void) {
        while next < count {
            let i = next
            next += 1
            state.unlock()
            loopBody(i)
            state.lock()
        }
    }

    /// The current loop's iterations, its body released on return: the caller's
    /// `withoutActuallyEscaping` traps if a helper still holds the body once the loop is over.
    private func runCurrentLoop() {
        guard let loopBody = body else { return }
        runIterations(of: loopBody)
    }

    private func serve() {
        state.lock()
        helpers.append(emu_thread_id())
        state.broadcast()
        var seen = generation
        while true {
            while generation == seen || body == nil {
                seen = generation
                state.wait()
            }
            seen = generation
            working += 1
            runCurrentLoop()
            working -= 1
            // The caller waits for the last helper to leave the body.
            if working == 0 { state.broadcast() }
        }
    }
}
