/**
 * A second process for the kill -9 tests of runs: runs every scheduled job of the repository
 * given as its JSON argument (`{repoPath, repoName, store?, parallel}`) through
 * `executeRepoRun` and reports each job event on stdout as it is reported done — one JSON line,
 * written synchronously, so the parent may SIGKILL it right after reading one.
 *
 * @module
 */
import { writeSync } from "node:fs";
import process from "node:process";
import { executeRepoRun } from "../../src/run/repo_run.ts";
import { openRepositoryStore } from "../../src/store/open.ts";

const task = JSON.parse(process.argv[process.argv.length - 1]) as {
  repoPath: string;
  repoName: string;
  store?: string;
  parallel: number;
};
const say = (event: Record<string, unknown>) => writeSync(1, JSON.stringify(event) + "\n");
const opened = await openRepositoryStore({
  repoPath: task.repoPath,
  repoName: task.repoName,
  storeFlag: task.store,
  env: {},
  mirror: true,
});
say({ event: "open" });
await executeRepoRun(
  {
    store: opened.store,
    driver: opened.driver,
    repo: { name: task.repoName, path: task.repoPath },
  },
  {
    parallel: task.parallel,
    onEvent: (event) => {
      if (event.type === "job") {
        say({ event: event.job.state, job: event.job.id, service: event.job.service });
      }
    },
  },
);
say({ event: "done" });
await opened.driver.close();
