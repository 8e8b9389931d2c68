/**
 * An in-memory stand-in for the store behind the daemon's interfaces, for the daemon's own
 * tests only: the real store (`src/store/`) is built separately and the daemon is wired to it
 * by the CLI layer, whose end-to-end tests use the real thing. The queue keeps the contract the
 * real one must keep: popped items are leased, not removed, and come back when the lease runs
 * out without an `ack`.
 *
 * @module
 */
import type {
  DaemonBackend,
  DaemonStatus,
  DaemonStatusStore,
  PopOptions,
  QueuedRequest,
  QueueItem,
  RunQueue,
  RunRequest,
} from "../../src/daemon/backend.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";
import { newActionRecord } from "../../src/model/schedule.ts";
import type { ServiceRecord } from "../../src/model/types.ts";

/** Waits `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A service with the given recurring periods (seconds) and last runs (epoch ms or null). */
export function makeService(
  role: string,
  name: string,
  recurring: Record<string, { period: number; lastRun?: number | null }> = {},
): ServiceRecord {
  const actions: ServiceRecord["actions"] = {
    init: newActionRecord(),
    install: { ...newActionRecord(), state: "ok" },
  };
  for (const [action, spec] of Object.entries(recurring)) {
    actions[action] = { ...newActionRecord(spec.period), lastRun: spec.lastRun ?? null };
  }
  return makeServiceRecord({ name: `${role}.test`, role }, name, {
    key: `${role}!${name}`,
    actions,
  });
}

/** A leased, acknowledgeable queue in memory. */
export class MemoryQueue implements RunQueue {
  readonly acked: string[] = [];
  readonly pops: { consumer: string; id: string }[] = [];
  /** How many times a lease was renewed by its holder. */
  renewals = 0;
  private readonly items = new Map<
    string,
    { request: QueuedRequest; lease: { consumer: string; until: number } | null }
  >();
  private next = 1;

  /** `leaseClock` (ms) is what leases run out on; default `Date.now`, a test may move its own. */
  constructor(
    readonly repo: string,
    readonly leaseMs = 30_000,
    private readonly leaseClock: () => number = Date.now,
  ) {}

  /** Adds a request and returns its id. */
  push(request: RunRequest, source: "cli" | "http" = "cli"): string {
    const id = `${this.repo}-q${this.next++}`;
    this.items.set(id, {
      request: { ...request, repo: this.repo, queuedAt: Date.now(), source },
      lease: null,
    });
    return id;
  }

  /** Items not yet acknowledged. */
  get pending(): number {
    return this.items.size;
  }

  async pop(consumerId: string, options: PopOptions): Promise<QueueItem | null> {
    const until = Date.now() + options.timeoutMs;
    for (;;) {
      const leaseNow = this.leaseClock();
      for (const [id, item] of this.items) {
        if (item.lease && item.lease.until > leaseNow) continue;
        item.lease = { consumer: consumerId, until: leaseNow + this.leaseMs };
        this.pops.push({ consumer: consumerId, id });
        return this.itemOf(id, consumerId);
      }
      const now = Date.now();
      if (now >= until) return null;
      await delay(Math.min(10, until - now));
    }
  }

  private itemOf(id: string, consumer: string): QueueItem {
    const entry = this.items.get(id)!;
    const held = () => entry.lease?.consumer === consumer && this.items.get(id) === entry;
    return {
      id,
      request: entry.request,
      ack: () => {
        if (held()) {
          this.items.delete(id);
          this.acked.push(id);
        }
        return Promise.resolve();
      },
      renew: () => {
        if (held()) {
          entry.lease = { consumer, until: this.leaseClock() + this.leaseMs };
          this.renewals += 1;
        }
        return Promise.resolve();
      },
      release: () => {
        if (held()) entry.lease = null;
        return Promise.resolve();
      },
    };
  }
}

/** A run as the fake records it (the shape of `ays run show --json` is the store's). */
export interface FakeRun {
  id: string;
  repo: string;
  scope: RunRequest;
  state: "running" | "ok" | "error";
}

/** Repositories, services and runs in memory behind {@link DaemonBackend}. */
export class FakeBackend implements DaemonBackend {
  readonly services_ = new Map<string, ServiceRecord[]>();
  readonly queues = new Map<string, MemoryQueue>();
  readonly runs_ = new Map<string, FakeRun>();

  constructor(repos: Record<string, ServiceRecord[]>, leaseMs?: number) {
    for (const [name, services] of Object.entries(repos)) {
      this.services_.set(name, services);
      this.queues.set(name, new MemoryQueue(name, leaseMs));
    }
  }

  repos(): Promise<unknown[]> {
    return Promise.resolve(
      [...this.services_.keys()].map((name) => ({ name, path: `/srv/${name}` })),
    );
  }

  hasRepo(repo: string): Promise<boolean> {
    return Promise.resolve(this.services_.has(repo));
  }

  services(repo: string): Promise<unknown[]> {
    return Promise.resolve(
      (this.services_.get(repo) ?? []).map((s) => ({ key: s.key, name: s.name, role: s.role })),
    );
  }

  service(repo: string, name: { role: string; instance: string }): Promise<unknown | null> {
    const found = (this.services_.get(repo) ?? []).find((s) =>
      s.role === name.role && s.name === name.instance
    );
    return Promise.resolve(found ? { key: found.key, name: found.name, data: found.data } : null);
  }

  runs(repo: string): Promise<unknown[]> {
    return Promise.resolve([...this.runs_.values()].filter((run) => run.repo === repo));
  }

  run(id: string): Promise<unknown | null> {
    return Promise.resolve(this.runs_.get(id) ?? null);
  }

  queueRun(repo: string, request: RunRequest): Promise<string> {
    return Promise.resolve(this.queues.get(repo)!.push(request, "http"));
  }
}

/** Keeps every saved status, to check what `ays daemon status` would read. */
export class MemoryStatusStore implements DaemonStatusStore {
  readonly saved: DaemonStatus[] = [];
  readonly cleared: DaemonStatus[] = [];
  current: DaemonStatus | null = null;

  save(status: DaemonStatus): Promise<void> {
    this.saved.push(status);
    this.current = status;
    return Promise.resolve();
  }

  clear(status: DaemonStatus): Promise<void> {
    this.cleared.push(status);
    if (this.current?.pid === status.pid) this.current = null;
    return Promise.resolve();
  }
}
