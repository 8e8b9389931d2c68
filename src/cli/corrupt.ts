/**
 * Corrupted service records as the commands report them (docs/store.md, "A corrupted
 * record"): named by their store key and, where the mirror still has the service, by
 * `ROLE!INSTANCE`; `ays list` and `ays show` print the rest first and then end with exit 4.
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";
import { serviceKey, serviceName } from "../model/mod.ts";
import { type CorruptRecordError, type MirrorContent, serviceRecordKey } from "../store/mod.ts";

/**
 * The errors of `corrupt` naming their services from the repository's mirror, as
 * `readMirror` reads it (the session's), where they do not already (a service record's key is
 * a hash of its name, so its bytes cannot tell it). A missing or unreadable mirror leaves them
 * as they are.
 */
export async function nameFromMirror(
  corrupt: readonly CorruptRecordError[],
  readMirror: () => Promise<MirrorContent>,
): Promise<CorruptRecordError[]> {
  if (corrupt.every((error) => error.service !== undefined)) return [...corrupt];
  const names = new Map<string, string>();
  try {
    for (const service of (await readMirror()).services) {
      names.set(serviceRecordKey(service.key), serviceName(service.role, service.name));
    }
  } catch {
    // The mirror is only a hint here: the store key alone still names the record.
  }
  return corrupt.map((error) => {
    const name = error.service ?? names.get(error.recordKey);
    return name === undefined ? error : error.named(name);
  });
}

/**
 * The error of the service `role!instance` of repository `repoName` when its record is one
 * of `corrupt` (named by the target), else undefined.
 */
export function corruptService(
  corrupt: readonly CorruptRecordError[],
  repoName: string,
  target: { role: string; instance: string },
): CorruptRecordError | undefined {
  const recordKey = serviceRecordKey(serviceKey(repoName, target.role, target.instance));
  const error = corrupt.find((e) => e.recordKey === recordKey);
  return error?.named(serviceName(target.role, target.instance));
}

const RESTORE = "'ays restore' rebuilds the store's actors and services from the mirror";

/** The exit-4 error a command ends with after showing what it could read. */
export function corruptRecordsError(corrupt: readonly CorruptRecordError[]): UnavailableError {
  const lines = corrupt.map((error) => `  ${error.message}`);
  const named = corrupt.map((error) => error.service).filter((name) => name !== undefined);
  const hint = named.length > 0 ? `'ays delete ${named[0]} --yes' removes it, ${RESTORE}` : RESTORE;
  return new UnavailableError(
    `${corrupt.length} corrupted service record${corrupt.length === 1 ? "" : "s"}; ` +
      `${hint} (docs/store.md):\n${lines.join("\n")}`,
  );
}
