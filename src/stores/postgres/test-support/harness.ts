/**
 * A test file's throwaway schemas: each store opened in one is remembered with it, and every
 * schema is dropped after the file's tests. Call at the top of a test file.
 */
import { afterAll, beforeAll } from "vitest";
import { openPostgresStore, type PostgresStoreOptions } from "../index.js";
import type { PostgresSessionStore } from "../postgres-store.js";
import { dropSchemas, requirePostgres, TEST_DATABASE_URL, uniqueSchema } from "./database.js";

export interface SchemaHarness {
  /** A fresh schema, dropped after the file's tests. */
  newSchema(label: string): string;
  /** Opens a store on the test database in `schema`. */
  openIn(schema: string, options?: Partial<PostgresStoreOptions>): Promise<PostgresSessionStore>;
  /** The schema a store of `openIn` works in. */
  storeSchema(store: object): string;
  /** Closes a store of `openIn` and drops its schema at once. */
  closeAndDrop(store: { close(): Promise<void> }): Promise<void>;
}

export function useTestSchemas(): SchemaHarness {
  const schemas = new Set<string>();
  beforeAll(requirePostgres);
  afterAll(() => dropSchemas(schemas));

  const schemaOf = new WeakMap<object, string>();
  const storeSchema = (store: object): string => {
    const schema = schemaOf.get(store);
    if (schema === undefined) throw new Error("store not opened by this harness");
    return schema;
  };
  return {
    newSchema(label) {
      const schema = uniqueSchema(label);
      schemas.add(schema);
      return schema;
    },
    async openIn(schema, options = {}) {
      const store = await openPostgresStore({ connectionString: TEST_DATABASE_URL, schema, ...options });
      schemaOf.set(store, schema);
      return store;
    },
    storeSchema,
    async closeAndDrop(store) {
      await store.close();
      const schema = storeSchema(store);
      await dropSchemas([schema]);
      schemas.delete(schema);
    },
  };
}
