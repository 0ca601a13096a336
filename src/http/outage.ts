// A database outage, as the log tells it: one warning when the first request finds the database gone, one
// line when a request is answered from it again. In between, every request is a 503 with its usual request
// line and nothing more: an outage under load is thousands of identical failures, and logging each with its
// stack buried everything else (3,300 stack traces in two seconds, once).
import { unreachableReason } from '../db/errors.js';

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class OutageLog {
  /** When the outage began (undefined: the database is reachable, as far as anyone knows). */
  private downSince: number | undefined;
  private upSince = 0;

  constructor(private readonly log: Log) {}

  /**
   * A request, started at `startedAt` (ms), found the database unreachable. One that started before the
   * database came back belongs to the outage already told.
   */
  unreachable(err: unknown, startedAt: number): void {
    if (this.downSince !== undefined || startedAt < this.upSince) return;
    this.downSince = Date.now();
    this.log.warn({ reason: unreachableReason(err) }, 'database unreachable');
  }

  /**
   * A request, started at `startedAt` (ms), was answered from the database. One that started before the
   * outage may have finished its work before it, and proves nothing.
   */
  reachable(startedAt: number): void {
    if (this.downSince === undefined || startedAt < this.downSince) return;
    const downMs = Date.now() - this.downSince;
    this.downSince = undefined;
    this.upSince = Date.now();
    this.log.info({ downMs }, 'database reachable again');
  }
}
