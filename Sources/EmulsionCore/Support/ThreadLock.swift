#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutual-exclusion lock and a condition variable over POSIX threads, for the few places that
/// guard shared state across Dispatch workers (FoundationEssentials has neither `NSLock` nor
/// `NSCondition`). Heap-allocated because a pthread mutex must not move once initialised.
public final class ThreadLock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable public func lock() { pthread_mutex_lock(mutex) }
    @inlinable public func unlock() { pthread_mutex_unlock(mutex) }

    @inlinable public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock(); defer { unlock() }
        return try body()
    }
}

/// A lock with a condition to wait on (`NSCondition`'s use here): `wait` unlocks, sleeps until
/// signalled, and locks again; callers re-check their predicate in a loop (wake-ups may be spurious).
public final class ThreadCondition: @unchecked Sendable {
    private let lockHolder = ThreadLock()
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    public func lock() { lockHolder.lock() }
    public func unlock() { lockHolder.unlock() }
    public func wait() { pthread_cond_wait(condition, lockHolder.mutex) }
    public func signal() { pthread_cond_signal(condition) }
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// A detached POSIX thread running `body` once (Foundation's `Thread`, which FoundationEssentials
/// lacks): for a helper that must not wait behind Dispatch's workers, such as the background
/// flush of a large output.
public enum DetachedThread {
    private final class Start {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts the thread; false when the system refused one (the caller decides what that means).
    @discardableResult
    public static func start(_ body: @escaping () -> Void) -> Bool {
        let start = Unmanaged.passRetained(Start(body))
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            Unmanaged<Start>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, start.toOpaque())
        guard status == 0 else { start.release(); return false }
        pthread_detach(thread)
        return true
    }
}
