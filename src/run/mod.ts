/**
 * Runs (docs/runs.md): the planner, the eager walker, the Web Worker pool and the job
 * API. The engine touches no store (callers record through callbacks); `repo_run.ts` connects
 * it to a repository's store.
 * See `docs/runs.md`.
 *
 * @module
 */
export { CycleError, Graph, type GraphOptions } from "./graph.ts";
export {
  jobId,
  type Plan,
  type PlannedNode,
  type PlanOptions,
  type PlanReason,
  planRun,
  renderDot,
  renderMermaid,
  renderSteps,
} from "./plan.ts";
export {
  type NodeOutcome,
  type NodeRunner,
  type NodeState,
  walk,
  type WalkContext,
  type WalkEvent,
  type WalkOptions,
  type WalkResult,
} from "./walk.ts";
export { killGroups } from "./exec_slots.ts";
export {
  formatDuration,
  type PoolOptions,
  type RunJobOptions,
  type WarmOptions,
  WorkerPool,
} from "./pool.ts";
export { type RetryOptions, runWithRetries } from "./retry.ts";
export { formatMemoryLimit, ProcessWorker, type ProcessWorkerOptions } from "./process_worker.ts";
export { serveJobWorker, type ServeJobWorkerOptions } from "./job_worker_process.ts";
export { runJob, type RunJobSettingsOptions } from "./run_job.ts";
export {
  acceptOutcome,
  endAction,
  type EndActionOptions,
  errorLogLine,
  logLines,
} from "./job_end.ts";
export {
  scheduleForRun,
  type ScheduleForRunOptions,
  type ScheduleForRunResult,
} from "./schedule_for_run.ts";
export {
  actionSettings,
  type ActionSettingsOptions,
  DEFAULT_ACTION_SETTINGS,
  type ExecuteOptions,
  executePlan,
  JobFailedError,
  type RunSettingDefaults,
} from "./execute.ts";
export {
  type Action,
  type ExecOptions,
  type ExecResult,
  type Job,
  type JobService,
  type LogLevel,
  type ServiceView,
} from "./job_api.ts";
export {
  type HostMessage,
  type JobError,
  type JobOutcome,
  type JobRequest,
  type JobRunner,
  type JobRunOptions,
  type JobServiceData,
  LOG_CAP,
  parseHostMessage,
  parseWorkerMessage,
  ProtocolError,
  type WorkerMessage,
} from "./job_protocol.ts";
export {
  type ActionsFile,
  hashActionsFile,
  jobRequest,
  type JobRequestOptions,
  jobServiceData,
  type ServiceLookup,
  serviceView,
} from "./job_request.ts";
export {
  describeExecutors,
  type DescribeExecutorsOptions,
  storedExecutors,
  type StoredExecutorsOptions,
} from "./job_executor.ts";
export { MAX_TIMER_MS, sleep, type SleepOptions, timerDelay } from "./sleep.ts";
export {
  ActionSources,
  type JobEndState,
  JobRecorder,
  type JobRecorderOptions,
  type JobStore,
  newJobRecord,
  type NewJobRecordOptions,
} from "./job_recorder.ts";
export {
  runServiceJob,
  type ServiceJobOptions,
  type ServiceJobSession,
  type ServiceJobTarget,
} from "./service_job.ts";
export { tidyJobHistory, type TidyJobHistoryOptions } from "./job_history.ts";
export { closeDeadRuns, deadHolders, FINAL_RUN_STATES } from "./crash_recovery.ts";
export { JOB_TYPES_DTS } from "./job_types.ts";
export { LogBuffer } from "./log_buffer.ts";
export { type ProbeOptions, probeWorker, type WorkerProbe } from "./worker_probe.ts";
export {
  executeRepoRun,
  holdRunLock,
  type JobArgs,
  newRunId,
  planRepoRun,
  type PlanRepoRunOptions,
  type RepoPlan,
  type RepoRunEvent,
  type RepoRunOptions,
  type RepoRunResult,
  runIdOfJob,
  runJobId,
  type RunScope,
  type RunSession,
} from "./repo_run.ts";
export {
  findRun,
  type JobView,
  jobView,
  loadRunDetail,
  type RunDetail,
  runDetail,
  type RunListEntry,
  runListEntry,
} from "./run_views.ts";
export { loadLastJobs } from "./last_jobs.ts";
export {
  checkJobFilter,
  JOB_STATES,
  type JobFilter,
  type JobListEntry,
  listJobs,
} from "./job_list.ts";
