import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { JOB_TYPES_DTS } from "../../src/run/job_types.ts";
import { makeTempDir, writeFiles } from "../helpers/mod.ts";

const GOOD_ACTIONS = `
import type { Job } from "ays";
export async function install(job: Job<{ port: number; installedAt?: number }>) {
  const { port } = job.service.data;
  const r = await job.exec(\`echo \${port}\`, { env: { A: "1" } });
  const pid: number = await job.exec("sleep 1", { detach: true });
  job.log(r.stdout + pid, "warn");
  job.service.data.installedAt = Date.now();
  const parentName: string | undefined = job.service.parent?.name;
  const producers = job.service.producers["sshkey"]?.map((p) => p.data);
  job.signal.throwIfAborted();
  const code: number = await job.exec("curl -fs localhost", { check: false });
  await job.upload("files/app.tar", "/opt/app.tar", { mode: 0o644 });
  await job.upload(new Uint8Array([1]), "/tmp/x");
  await job.download("/var/log/app.log", "logs/app.log");
  const conf: string = await job.readFile("/etc/app.conf");
  await job.writeFile("/etc/app.conf", conf + code);
  const here = await job.local.exec("hostname");
  const where: string = job.executor.kind + (job.executor.host ?? "") + here.stdout;
  return { ok: true, parentName, producers, attempt: job.attempt, run: job.runId, where };
}
`;

const BAD_ACTIONS = `
import type { Job } from "ays";
export async function install(job: Job) {
  const r: number = await job.exec("true");
  job.service.parent!.data.x = 1;
  job.log("x", "loud");
  const c: string = await job.exec("true", { check: false });
  await job.upload(42, "/x");
  return r + c;
}
`;

/**
 * Type-checks the files in one program and returns the messages per file name. One program
 * checks TypeScript's own libraries once; `skipDefaultLibCheck` skips only those (lib.*.d.ts),
 * never ays.d.ts, which is what is under test.
 */
function typeCheck(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: [],
    skipLibCheck: false,
    skipDefaultLibCheck: true,
  });
  const messages = new Map<string, string[]>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file ? basename(diagnostic.file.fileName) : "(global)";
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    messages.set(file, [...messages.get(file) ?? [], text]);
  }
  return messages;
}

describe("ays types", () => {
  it("prints exactly the job-types region of src/run/job_api.ts", async () => {
    const source = await readFile(
      new URL("../../src/run/job_api.ts", import.meta.url),
      "utf8",
    );
    const start = source.indexOf("// #region job-types\n") + "// #region job-types\n".length;
    const end = source.indexOf("// #endregion");
    assert.ok(start > 100 && end > start);
    const region = source.slice(start, end).split("\n").map((l) => (l.trim() ? "  " + l : l))
      .join("\n");
    const open = 'declare module "ays" {\n';
    const body = JOB_TYPES_DTS.slice(JOB_TYPES_DTS.indexOf(open) + open.length, -"}\n".length);
    assert.equal(body, region, "src/run/job_types.ts is out of date with job_api.ts");
  });

  it("type-checks an actions file written against it, and catches misuse", async () => {
    const dir = await makeTempDir();
    try {
      await writeFiles(dir.path, {
        "ays.d.ts": JOB_TYPES_DTS,
        "good.ts": GOOD_ACTIONS,
        "bad.ts": BAD_ACTIONS,
      });
      const d = (name: string) => join(dir.path, name);
      const messages = typeCheck([d("ays.d.ts"), d("good.ts"), d("bad.ts")]);
      assert.deepEqual([...messages.keys()], ["bad.ts"], JSON.stringify([...messages]));
      const errors = messages.get("bad.ts")!;
      assert.equal(errors.length, 5, errors.join("\n"));
      assert.match(errors.join("\n"), /ExecResult' is not assignable to type 'number'/);
      assert.match(errors.join("\n"), /only permits reading|read-only/);
      assert.match(errors.join("\n"), /"loud"/);
      assert.match(errors.join("\n"), /'number' is not assignable to type 'string'/);
      assert.match(
        errors.join("\n"),
        /'number' is not assignable to parameter of type 'string \| Uint8Array/,
      );
    } finally {
      await dir.remove();
    }
  });

  it("is what the CLI command prints", async () => {
    const io = captureIo();
    assert.equal(await runCli(["types"], io), 0);
    assert.equal(io.out.join(""), JOB_TYPES_DTS);
  });
});
