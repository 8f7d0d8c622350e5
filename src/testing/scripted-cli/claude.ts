#!/usr/bin/env node
// A scripted claude CLI for tests: plays the transcript named by ASM_SCRIPTED_CLI_SCENARIO (see protocol.ts).
import { runScriptedCli } from "./engine.js";
import { claudeProfile } from "./profiles.js";

await runScriptedCli(claudeProfile);
