import { z } from "zod";
import { HTTP_STATUS_BY_CODE } from "./errors-to-http.js";
import type { Route } from "./route.js";
import { errorBodySchema } from "./schemas.js";

type JsonSchema = Record<string, unknown>;

/** A request-side JSON Schema of a zod schema (coercions and transforms read as their input). */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/** Path or query parameters: one per property of the object schema. */
function parameters(schema: z.ZodType | undefined, where: "path" | "query"): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (object.required ?? []).includes(name),
    schema: property,
  }));
}

/** The OpenAPI 3.1 document of the routes, from the same zod schemas that validate requests. */
export function openApiDocument(
  routes: readonly Route[],
  info: { title: string; version: string },
): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const errorStatuses = [...new Set(Object.values(HTTP_STATUS_BY_CODE))].sort();
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const errors = Object.fromEntries(
      errorStatuses.map((status) => [String(status), { $ref: "#/components/responses/Error" }]),
    );
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      tags: [route.tag],
      parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
      ...(route.body
        ? {
            requestBody: {
              required: false,
              content: { "application/json": { schema: jsonSchema(route.body) } },
            },
          }
        : {}),
      responses: {
        [String(route.status ?? 200)]: {
          description: "success",
          content: { [route.produces ?? "application/json"]: { schema: {} } },
        },
        ...errors,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info,
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      responses: {
        Error: {
          description: "an error: code, message, hint (status by code: see HTTP_STATUS_BY_CODE)",
          content: { "application/json": { schema: jsonSchema(errorBodySchema) } },
        },
      },
    },
    security: [{ bearer: [] }],
  };
}
