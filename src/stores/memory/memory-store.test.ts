import { describe, it } from "vitest";
import { defineSessionStoreConformance } from "../../testing/index.js";
import { MemorySessionStore } from "./index.js";

defineSessionStoreConformance(
  { name: "MemorySessionStore", open: async () => new MemorySessionStore() },
  { describe, it },
);
