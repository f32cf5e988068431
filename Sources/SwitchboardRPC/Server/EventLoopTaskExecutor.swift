import NIOCore

/// Runs Swift tasks' jobs on one NIO event loop.
///
/// A call's handler task prefers this executor, so its nonisolated code runs on the connection's
/// event loop: a call that needs no actor never leaves its loop, and one that does hops to the
/// actor and back once.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
