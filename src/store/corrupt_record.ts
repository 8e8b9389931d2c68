/**
 * A record whose bytes cannot be decoded (docs/store.md, "A corrupted record"): an
 * environment failure (exit 4) that names the record, so that `ays delete` or `ays restore`
 * can work around it instead of every command failing without saying where.
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";
import { SERVICE_PREFIX } from "./record_keys.ts";

/** Options of {@link CorruptRecordError}. */
export interface CorruptRecordOptions {
  /** `ROLE!INSTANCE` of the service the record belongs to, when known. */
  service?: string;
  /** Why the bytes could not be decoded. */
  cause?: unknown;
}

/** One record of the store that cannot be decoded (exit 4). */
export class CorruptRecordError extends UnavailableError {
  /** The record's store key, e.g. `service:<key>` or `actor:<name>`. */
  readonly recordKey: string;
  /** `ROLE!INSTANCE` of the service, when known. */
  readonly service?: string;
  /** The reason given by the decoder. */
  readonly reason: string;

  constructor(recordKey: string, options: CorruptRecordOptions = {}) {
    const { service, cause } = options;
    const reason = cause instanceof Error ? cause.message : String(cause ?? "undecodable");
    const what = service === undefined ? recordKey : `${recordKey} (service ${service})`;
    super(`the store's record ${what} is corrupted: ${reason}`, { cause });
    this.name = "CorruptRecordError";
    this.recordKey = recordKey;
    this.service = service;
    this.reason = reason;
  }

  /** Whether the record is a service's (`ays delete` can remove it by the service's name). */
  get isService(): boolean {
    return this.recordKey.startsWith(SERVICE_PREFIX);
  }

  /** The same error, naming the service `name`. */
  named(name: string): CorruptRecordError {
    return new CorruptRecordError(this.recordKey, { service: name, cause: this.cause });
  }
}
