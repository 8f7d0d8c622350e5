// Workspace snapshots: `executeRun({ workspace: { path } })` snapshots the agent's directory
// before and after the run, logs `workspace_snapshot_taken` and `workspace_diff_computed`, and
// returns the diff (files, lines, paths, the patch) as `result.workspace`. A patch over
// `maxPatchBytes` goes to the artifact store (`patchRef`); `rollbackOnFailure` puts the directory
// back when the run fails — here, a policy denying the agent's Bash call. The git backend never
// touches the user's HEAD, index or stash; the hash backend works on any directory.
//
// Checks (scripted Claude CLI; the example plays the effect of the agent's Bash call on disk):
// the diff of run 1 counts the edited and the created file, its patch inline; run 2's patch is in
// the artifact store, byte for byte; run 3 fails with policy_violation and its file is gone again;
// HEAD, the index and the stash are as they were; a hash snapshot of a plain directory diffs and
// rolls back.
//
//   npx tsx examples/workspace-snapshot.ts                     # scripted Claude CLI
//   npx tsx examples/workspace-snapshot.ts --provider claude   # the real claude CLI edits the files
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AsmEvent, RunResult } from "agent-session-manager";
import { AsmError, SessionManager, Workspace } from "agent-session-manager";
import { FileArtifactStore } from "agent-session-manager/artifacts/file";
import { check, createMainAgent, openExampleStore, runExample, tempDir } from "./support.js";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "you",
      GIT_AUTHOR_EMAIL: "you@example.com",
      GIT_COMMITTER_NAME: "you",
      GIT_COMMITTER_EMAIL: "you@example.com",
      GIT_OPTIONAL_LOCKS: "0",
    },
  });

/** What of the user's git state a snapshot must leave alone. */
const userState = (cwd: string) =>
  [git(cwd, "rev-parse", "HEAD"), git(cwd, "diff", "--cached", "--stat"), git(cwd, "stash", "list")].join(
    "|",
  );

runExample(async () => {
  const agent = createMainAgent({
    answer: "I added notes.txt and a line to README.md.",
    command: "echo 'remember the milk' > notes.txt && echo 'More docs.' >> README.md",
  });
  const dir = agent.cwd;
  // The user's repository: a commit, a staged change and a stash entry, all to be left alone.
  writeFileSync(path.join(dir, ".gitignore"), ".scripted/\n");
  writeFileSync(path.join(dir, "README.md"), "# Project\n");
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
  writeFileSync(path.join(dir, "README.md"), "# Project\nstashed line\n");
  git(dir, "stash", "push", "-q");
  writeFileSync(path.join(dir, "staged.txt"), "staged\n");
  git(dir, "add", "staged.txt");
  const before = userState(dir);

  // The scripted CLI does not run commands: the example does what the agent's Bash call stands for.
  let step = 0;
  const actAsTool = (event: AsmEvent) => {
    if (agent.live || event.type !== "tool_call_started") return;
    step += 1;
    writeFileSync(path.join(dir, step === 3 ? "scratch.txt" : "notes.txt"), `remember the milk ${step}\n`);
    if (step === 1) writeFileSync(path.join(dir, "README.md"), "# Project\nMore docs.\n");
  };

  const store = await openExampleStore("workspace");
  const artifactStore = new FileArtifactStore({ root: tempDir("workspace-artifacts") });
  try {
    const manager = new SessionManager({ store, adapter: agent.adapter, workspace: { artifactStore } });
    const session = await manager.startSession({ agentId: "workspace-agent" });
    await manager.activateSession(session.id);
    const execute = async (prompt: string, options: Parameters<SessionManager["executeRun"]>[1]) => {
      const run = await manager.startRun(session.id, prompt);
      return manager.executeRun(run.id, { ...options, onEvent: actAsTool });
    };

    // Run 1: the diff with its patch inline.
    const first = await execute("Add notes.txt with a reminder and a line to README.md.", {
      workspace: { path: dir, capturePatch: true },
    });
    const diff = first.workspace?.diff;
    check(diff, "run 1 has result.workspace");
    console.log(
      `run 1: ${diff.filesChanged} files changed, +${diff.insertions} -${diff.deletions}: ${diff.paths.join(", ")} (${first.workspace?.backend})`,
    );
    console.log(`  events: ${describeWorkspaceEvents(first)}`);
    console.log(`  patch inline, ${diff.patchBytes} bytes, starts: ${diff.patch?.split("\n")[0]}`);
    if (!agent.live) {
      check(
        diff.paths.includes("notes.txt") && diff.paths.includes("README.md"),
        "the edited and the created file",
      );
      check(diff.added.includes("notes.txt"), "notes.txt is new (untracked files count)");
      check(diff.patch?.includes("+More docs."), "the patch shows the added line");
    }

    // Run 2: a patch over maxPatchBytes is stored in the artifact store.
    const second = await execute("Update notes.txt.", { workspace: { path: dir, maxPatchBytes: 16 } });
    const stored = second.workspace?.diff;
    if (stored?.patchRef) {
      const patch = Buffer.from(await artifactStore.get(stored.patchRef)).toString("utf8");
      console.log(`run 2: patch of ${stored.patchBytes} bytes stored as ${stored.patchRef}`);
      check(
        Buffer.byteLength(patch) === stored.patchBytes && stored.patch === undefined,
        "the stored patch, whole",
      );
    } else {
      console.log(`run 2: ${stored?.filesChanged ?? 0} files changed, no patch to store`);
      check(agent.live, "run 2 stored its patch");
    }

    // Run 3: a policy denies Bash; the run fails and its changes are rolled back.
    const failure = await execute("Write scratch.txt using Bash.", {
      policy: { name: "no-shell", toolRules: [{ deny: ["Bash"] }], onViolation: "cancel" },
      workspace: { path: dir, rollbackOnFailure: true },
    }).then(
      () => undefined,
      (error: unknown) => AsmError.from(error),
    );
    const runs = await store.listRuns(session.id);
    const third = runs.find((run) => run.status !== "completed");
    const rollback = (
      third?.metadata.workspace as { rollback?: { removed: number; restored: number } } | undefined
    )?.rollback;
    console.log(
      `run 3: ${failure ? `failed: ${failure.code}` : "completed"}; rolled back: ${rollback ? `${rollback.removed} removed, ${rollback.restored} restored` : "no"}`,
    );
    console.log(
      `scratch.txt after the rollback: ${existsSync(path.join(dir, "scratch.txt")) ? "present" : "gone"}`,
    );
    const untouched = userState(dir) === before;
    console.log(`HEAD, index and stash untouched: ${untouched}`);
    check(untouched, "the user's HEAD, index and stash are as they were");
    if (!agent.live) {
      check(failure?.code === "policy_violation", "run 3 failed by policy");
      check(
        !existsSync(path.join(dir, "scratch.txt")) && rollback?.removed === 1,
        "run 3's file rolled back",
      );
      check(
        readFileSync(path.join(dir, "notes.txt"), "utf8") === "remember the milk 2\n",
        "earlier runs' work kept",
      );
    }

    // Any directory: the hash backend, rolled back from the contents it kept.
    const plain = tempDir("workspace-plain");
    writeFileSync(path.join(plain, "data.csv"), "a,b\n");
    const workspace = new Workspace();
    const snapshot = await workspace.snapshot(plain, { keepContents: true });
    writeFileSync(path.join(plain, "data.csv"), "a,b\n1,2\n");
    writeFileSync(path.join(plain, "out.log"), "log\n");
    const hashDiff = await workspace.diff(snapshot, await workspace.snapshot(plain));
    const report = await workspace.rollback(snapshot);
    console.log(
      `hash backend: modified ${hashDiff.modified.join(", ")}, added ${hashDiff.added.join(", ")}; rollback restored ${report.restored}, removed ${report.removed}`,
    );
    check(
      readFileSync(path.join(plain, "data.csv"), "utf8") === "a,b\n" &&
        !existsSync(path.join(plain, "out.log")),
      "hash rollback",
    );
  } finally {
    await artifactStore.close();
    await store.close();
  }
});

function describeWorkspaceEvents(result: RunResult): string {
  return result.events
    .filter((event) => event.type.startsWith("workspace_"))
    .map((event) =>
      event.type === "workspace_snapshot_taken"
        ? `snapshot ${event.data.label}`
        : `diff ${event.type === "workspace_diff_computed" ? event.data.filesChanged : ""} files`,
    )
    .join(", ");
}
