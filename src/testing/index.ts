export {
  defineSessionStoreConformance,
  type SessionStoreHarness,
  type TestFramework,
} from "./session-store-conformance.js";
