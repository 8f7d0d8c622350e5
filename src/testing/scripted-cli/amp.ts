#!/usr/bin/env node
// A scripted amp CLI for tests: plays the transcript named by ASM_SCRIPTED_CLI_SCENARIO (see protocol.ts).
import { runScriptedCli } from "./engine.js";
import { ampProfile } from "./profiles.js";

await runScriptedCli(ampProfile);
