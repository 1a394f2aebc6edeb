import Foundation

/// A few dedicated threads for the HTTP server's blocking work (decoding bodies, SQLite). Jobs run in the
/// order they came; at most `threads` at once, so memory and SQLite contention stay bounded however many
/// clients post at the same time. Threads start with the first job and end at `stop()`; a job that comes
/// after `stop()` runs on a thread of its own, so no caller waits forever.
final class HTTPWorkerPool: @unchecked Sendable {
    private let threadCount: Int
    private let name: String
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var running = 0
    private var stopping = false

    init(threads: Int, name: String) {
        threadCount = max(1, threads)
        self.name = name
    }

    func async(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if stopping {
            condition.unlock()
            Thread { job() }.start()
            return
        }
        jobs.append(job)
        if running < threadCount && running < jobs.count - head {
            running += 1
            let t = Thread { [self] in work() }
            t.name = "\(name)-\(running)"
            t.start()
        }
        condition.signal()
        condition.unlock()
    }

    /// Lets the threads finish the queued jobs, then end.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head > 64 && head * 2 > jobs.count {
                    jobs.removeFirst(head)
                    head = 0
                }
                condition.unlock()
                job()
                condition.lock()
            } else if stopping {
                running -= 1
                condition.unlock()
                return
            } else {
                condition.wait()
            }
        }
    }
}
