/**
 * The key value store (`docs/store.md`): one driver contract split into capabilities, an
 * embedded SQLite backend and a Redis backend chosen by URL, and the repository's identity on a
 * store.
 *
 * @module
 */
export type {
  AppendEventsOptions,
  AppendLogOptions,
  BatchGuard,
  BatchOp,
  BatchOptions,
  EventStore,
  Holder,
  KeyValue,
  KeyValueStore,
  LayoutStore,
  LockAttempt,
  LockInfo,
  LockStore,
  LogStore,
  QueueItem,
  QueueStats,
  QueueStore,
  ReadEventsOptions,
  StoredEvent,
  StoreDriver,
  StoreInfo,
  StoreKind,
} from "./driver.ts";
export { DEFAULT_EVENT_CAP, DEFAULT_LOG_CAP } from "./driver.ts";
export { currentHolder, isDeadLocalHolder, isProcessAlive, thisHost } from "./holder.ts";
export {
  claimRepository,
  defaultStoreUrl,
  type OpenedRepositoryStore,
  openRepositoryStore,
  type OpenRepositoryStoreOptions,
  openStore,
  type OpenStoreOptions,
  REPO_PATH_KEY,
  type ResolvedStoreUrl,
  resolveStoreUrl,
  type ResolveStoreUrlOptions,
  sqlitePathOf,
  storeNeverWritten,
  type StoreUrlSource,
} from "./open.ts";
export { DAEMON_STATUS_KEY, recurringRunId, serviceRecordKey } from "./record_keys.ts";
export { maskUrl, parseRedisUrl, redact, type RedisTlsOptions, storeKindOf } from "./url.ts";
export { openSqliteDriver, SQLITE_BUSY_TIMEOUT_MS, type SqliteDriverOptions } from "./sqlite.ts";
export { openRedisDriver, type RedisDriverOptions } from "./redis_open.ts";
export {
  capnpDataCodec,
  capnpRecordCodec,
  type DataCodecFor,
  type RecordCodec,
  type RecordKind,
  type RecordKinds,
  type ServiceDataCodec,
} from "./record_codec.ts";
export {
  LAYOUT_VERSION,
  type Migration,
  MIGRATIONS,
  openRepoStore,
  type RecordChange,
  REPO_LOCK,
  type RepoRecord,
  RepoStore,
  type RepoStoreOptions,
  RUN_QUEUE,
  type ScanServicesOptions,
  type ServiceScan,
  type ServiceSummaryScan,
  type StoredService,
} from "./repo_store.ts";
export {
  loadTemplateTree,
  saveTemplateTree,
  templateTreeKey,
  type TreeFile,
} from "./template_files.ts";
export { CorruptRecordError, type CorruptRecordOptions } from "./corrupt_record.ts";
export {
  ACTOR_FILE,
  type MirrorContent,
  MirrorWriteError,
  type MirrorWriteResult,
  readMirror,
  SERVICE_FILE,
  serviceMirrorText,
  servicePaths,
  writeMirror,
  writeMirrorFiles,
} from "./mirror.ts";
export {
  describeHolder,
  type HeldLock,
  holdRepoLock,
  type HoldRepoLockOptions,
  REPO_LOCK_TTL_MS,
} from "./repo_lock.ts";
